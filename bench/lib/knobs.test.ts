import assert from 'node:assert/strict';
import { SCENARIOS, pickScenarios, readKnobs } from './knobs.ts';
import { resourceRef, smallCount } from './workload.ts';

describe('bench knobs', () => {
  it('defaults to the issue’s sizes and every scenario', () => {
    const k = readKnobs({});
    assert.equal(k.resources, 10_000);
    assert.equal(k.paths, 1000);
    assert.deepEqual(k.scenarios, [...SCENARIOS]);
    assert.equal(k.concurrency, undefined);
  });

  it('keeps the bench’s order and adds cold before a scenario that needs its resources', () => {
    assert.deepEqual(pickScenarios('memory, restart'), ['cold', 'restart', 'memory']);
    assert.deepEqual(pickScenarios('certificates'), ['certificates']);
    assert.throws(() => pickScenarios('cold,apis'), /unknown scenario apis/);
    assert.deepEqual(pickScenarios('api'), ['api']);
  });

  it('runs the api scenario at the issue’s 200 requests/s for 60 s unless told otherwise', () => {
    assert.equal(readKnobs({}).apiRate, 200);
    assert.equal(readKnobs({}).apiSeconds, 60);
    const k = readKnobs({ BENCH_API_RATE: '50', BENCH_API_SECONDS: '20' });
    assert.deepEqual([k.apiRate, k.apiSeconds, k.apiBatchRate], [50, 20, 50]);
    assert.equal(readKnobs({ BENCH_API_BATCH_RATE: '20' }).apiBatchRate, 20);
  });

  it('times reloads of 100 Deployments, 50 changes, at the shipped debounce unless told otherwise', () => {
    const k = readKnobs({});
    assert.deepEqual([k.workloads, k.reloads, k.reloadDebounceSeconds], [100, 50, undefined]);
    assert.equal(readKnobs({ BENCH_RELOAD_DEBOUNCE: '2' }).reloadDebounceSeconds, 2);
    assert.deepEqual(pickScenarios('reload'), ['cold', 'reload']);
  });

  it('refuses sizes that make no workload', () => {
    assert.throws(() => readKnobs({ BENCH_RESOURCES: '100', BENCH_PATHS: '200' }));
    assert.throws(() => readKnobs({ BENCH_RESOURCES: 'many' }), /whole number/);
    assert.equal(readKnobs({ BENCH_RESOURCES: '100' }).paths, 100);
  });

  it('puts the first tenth in the kept namespace and spreads paths round-robin', () => {
    const knobs = { resources: 1000, paths: 100 };
    assert.equal(smallCount(1000), 100);
    assert.deepEqual(resourceRef(99, knobs), {
      index: 99,
      namespace: 'bench-vs',
      name: 'vs-99',
      path: 'p99',
    });
    assert.deepEqual(resourceRef(100, knobs), {
      index: 100,
      namespace: 'bench-vs-bulk',
      name: 'vs-100',
      path: 'p0',
    });
  });
});
