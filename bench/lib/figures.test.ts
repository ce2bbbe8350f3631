import assert from 'node:assert/strict';
import {
  baoReadTimes,
  baoReads,
  earlyReads,
  pathReadSpread,
  heapSlope,
  isNoisy,
  parseApiserverRequests,
  quantile,
  requestDelta,
  round,
} from './figures.ts';

const metrics = (lines: string[]) => lines.join('\n');
const line = (verb: string, resource: string, n: number, sub = '', code = '200') =>
  `apiserver_request_total{code="${code}",component="apiserver",dry_run="",group="",resource="${resource}",scope="resource",subresource="${sub}",verb="${verb}",version="v1"} ${n}`;

describe('bench figures', () => {
  it('counts apiserver requests by verb and resource, summing codes, leaving out watches, leases and non-resource URLs', () => {
    const counts = parseApiserverRequests(
      metrics([
        '# HELP apiserver_request_total x',
        line('POST', 'secrets', 3, '', '201'),
        line('POST', 'secrets', 2, '', '409'),
        line('PATCH', 'vaultsecrets', 4, 'status'),
        line('WATCH', 'secrets', 7),
        line('PUT', 'leases', 9),
        line('GET', '', 11),
        'apiserver_request_total_other{verb="POST",resource="secrets"} 99',
      ]),
    );
    assert.deepEqual(Object.fromEntries(counts), { 'POST secrets': 5, 'PATCH vaultsecrets/status': 4 });
  });

  it('a delta is the window’s requests less the harness’s own, mutations apart', () => {
    const before = new Map([
      ['POST secrets', 10],
      ['GET secrets', 1],
    ]);
    const after = new Map([
      ['POST secrets', 15],
      ['GET secrets', 4],
      ['POST vaultsecrets', 100],
      ['APPLY secrets', 2],
    ]);
    assert.deepEqual(requestDelta(before, after, { 'POST vaultsecrets': 100 }), {
      requests: 10,
      mutations: 7,
      byKind: { 'POST secrets': 5, 'GET secrets': 3, 'APPLY secrets': 2 },
    });
  });

  it('counts KV reads under the prefix from OpenBao audit lines, requests only', () => {
    const entry = (type: string, operation: string, path: string) =>
      JSON.stringify({ type, request: { operation, path } });
    const text = [
      entry('request', 'read', 'secret/data/bench/p1'),
      entry('response', 'read', 'secret/data/bench/p1'),
      entry('request', 'update', 'secret/data/bench/p1'),
      entry('request', 'read', 'secret/data/other/p1'),
      entry('request', 'read', 'secret/data/bench/p2'),
      '',
    ].join('\n');
    assert.equal(baoReads(text, 'secret/data/bench/'), 2);
  });

  it('reads times from audit lines, and counts reads sooner than a refresh schedule would make', () => {
    const entry = (type: string, path: string, time: string) =>
      JSON.stringify({ type, time, request: { operation: 'read', path } });
    const text = [
      entry('request', 'secret/data/bench/p1', '2026-12-05T10:00:00.000Z'),
      entry('response', 'secret/data/bench/p1', '2026-12-05T10:00:00.010Z'),
      entry('request', 'secret/data/bench/p2', '2026-12-05T10:00:01.000Z'),
    ].join('\n');
    const t0 = Date.parse('2026-12-05T10:00:00.000Z');
    assert.deepEqual(baoReadTimes(text, 'secret/data/bench/'), [
      { path: 'secret/data/bench/p1', at: t0 },
      { path: 'secret/data/bench/p2', at: t0 + 1000 },
    ]);
    const reads = [
      { path: 'a', at: 0 },
      { path: 'a', at: 30_000 }, // on schedule
      { path: 'a', at: 31_000 }, // early: 1 s after the last
      { path: 'b', at: 5_000 }, // early, but before the window
      { path: 'b', at: 2_000 },
      { path: 'b', at: 65_000 },
      { path: 'b', at: 35_000 }, // on schedule: 30 s after the last
    ];
    assert.equal(earlyReads(reads, 10_000, 27_000), 1);
    assert.equal(earlyReads(reads, 0, 27_000), 2);
  });

  it('spreads the reads of a window over paths: counts per path, the edges, the rate without edges', () => {
    const reads = [
      // a: read on a 30 s schedule, once more than 60 s holds because its first read is at the start
      { path: 'a', at: 1_000 },
      { path: 'a', at: 31_000 },
      { path: 'a', at: 59_000 },
      { path: 'b', at: 10_000 },
      { path: 'b', at: 40_000 },
      { path: 'b', at: 70_000 }, // after the window
      { path: 'c', at: -1 }, // before the window
    ];
    const spread = pathReadSpread(reads, { from: 0, to: 60_000 }, 30_000, 3_000);
    assert.equal(spread.reads, 5);
    assert.deepEqual(spread.histogram, { '3': 1, '2': 1 });
    assert.equal(spread.overCount, 1);
    assert.equal(spread.overCountAtStart, 1);
    // a: 2 intervals over 58 s; b: 1 over 30 s
    assert.ok(Math.abs(spread.readsPerIntervalByRate - (60 / 58 + 1)) < 1e-9);
  });

  it('quantiles by nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.equal(quantile(xs, 0.5), 50);
    assert.equal(quantile(xs, 0.99), 99);
    assert.equal(quantile([7], 0.99), 7);
    assert.ok(Number.isNaN(quantile([], 0.5)));
  });

  it('two baselines more than 15 % apart make the run noisy', () => {
    assert.equal(isNoisy(10, 11.5), false);
    assert.equal(isNoisy(10, 11.6), true);
    assert.equal(isNoisy(11.6, 10), true);
    assert.equal(isNoisy(0, 1), true);
  });

  it('the heap slope is bytes per resource between two points', () => {
    assert.equal(heapSlope({ resources: 1000, heap: 50e6 }, { resources: 10_000, heap: 77e6 }), 3000);
    assert.throws(() => heapSlope({ resources: 10, heap: 1 }, { resources: 10, heap: 2 }));
  });

  it('rounds for JSON, with null for what JSON cannot hold', () => {
    assert.equal(round(1.23456), 1.23);
    assert.equal(round(NaN), null);
    assert.equal(round(Infinity), null);
    assert.equal(round(undefined), null);
  });
});
