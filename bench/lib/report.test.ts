import assert from 'node:assert/strict';
import { cdfRows, completionRows, splitRuns, thin } from './plots.ts';
import { topFunctions } from './profile.ts';
import { markdownTable } from './report.ts';
import type { ScenarioResult } from './result.ts';
import { sandwich } from './result.ts';

const row: ScenarioResult = {
  scenario: 'cold',
  resources: 1000,
  uniquePaths: 100,
  baselineSeconds: 10,
  vaultsyncSeconds: 12.5,
  ratio: 1.25,
  backendReads: 100,
  apiserverRequests: 2100,
  apiserverMutations: 2000,
  heapBytesPerResource: null,
  noisy: false,
  loadStart: [1.5, 1, 1],
  loadEnd: [3.25, 2, 1],
  goal: 'g',
  goalMet: true,
  requestsPerResource: 2.1,
};

describe('bench report', () => {
  it('prints one table row per scenario and its own fields below', () => {
    const md = markdownTable([row]);
    assert.match(
      md,
      /\| cold \| 1000 \| 100 \| 10 \| 12\.50 \| 1\.25 \| 100 \| 2100 \| 2000 \| – \| no \| 1\.5 → 3\.25 \| yes \|/,
    );
    assert.match(md, /- \*\*cold\*\* — goal: g\. requestsPerResource 2\.10/);
  });

  it('a sandwich averages its baselines and flags them apart', () => {
    assert.deepEqual(sandwich(10, 12, 22), {
      baselineSeconds: 11,
      baselineFirstSeconds: 10,
      baselineSecondSeconds: 12,
      vaultsyncSeconds: 22,
      ratio: 2,
      noisy: true,
    });
  });

  it('thins a long series to evenly spaced points, ends kept', () => {
    const xs = Array.from({ length: 10_000 }, (_, i) => i);
    const t = thin(xs, 5);
    assert.deepEqual(t, [0, 2500, 5000, 7499, 9999]);
    assert.deepEqual(thin([1, 2], 5), [1, 2]);
  });

  it('turns completions into a cumulative curve and latencies into a CDF', () => {
    assert.deepEqual(completionRows({ a: [0.5, 1] }), [
      { run: 'a', seconds: 0.5, done: 1 },
      { run: 'a', seconds: 1, done: 2 },
    ]);
    assert.deepEqual(cdfRows({ b: [30, 10] }), [
      { run: 'b', ms: 10, share: 0.5 },
      { run: 'b', ms: 30, share: 1 },
    ]);
    const long = cdfRows({ c: Array.from({ length: 12_000 }, (_, i) => i) });
    assert.equal(long.length, 400);
    assert.deepEqual(long.at(-1), { run: 'c', ms: 11_999, share: 1 });
  });

  it('gives one scenario’s runs a plot of their own', () => {
    const { matching, rest } = splitRuns({ 'api single: vaultsync': [1], vaultsync: [2] }, 'api ');
    assert.deepEqual(matching, { 'api single: vaultsync': [1] });
    assert.deepEqual(rest, { vaultsync: [2] });
  });

  it('ranks a CPU profile’s functions by self time', () => {
    const frame = (functionName: string) => ({ functionName, url: '/r/src/x.ts', lineNumber: 9 });
    const hot = topFunctions(
      {
        nodes: [
          { id: 1, callFrame: frame('idle') },
          { id: 2, callFrame: frame('parse') },
        ],
        samples: [1, 2, 2, 2],
        timeDeltas: [1000, 2000, 3000, 4000],
      },
      1,
      '/r',
    );
    assert.deepEqual(hot, [{ name: 'parse', where: 'src/x.ts:10', selfMs: 9, share: 0.9 }]);
  });
});
