// Idle: the operator over the N VaultSecrets in sync with a refresh interval of R (its
// defaultRefreshInterval), measured for a window of W after two intervals of warm-up (the
// resources of one path need a window to gather on one slot). Goal: no mutating apiserver
// request, backend reads ≤ unique paths per refresh. The baseline is arithmetic, not a run: a
// script refreshing each path once per interval reads P paths per refresh and writes nothing.
import { round } from '../lib/figures.ts';
import { type ScenarioResult, countFields, loadNow } from '../lib/result.ts';
import type { BenchContext } from '../lib/workload.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function idle(ctx: BenchContext): Promise<ScenarioResult> {
  const { resources, paths, refreshSeconds, idleSeconds } = ctx.knobs;
  const loadStart = loadNow();
  await ctx.operator.stop();
  await ctx.operator.start({
    workers: ctx.knobs.workers,
    defaultRefreshInterval: `${refreshSeconds}s`,
    cpuProfileDir: ctx.cpuProfileDir,
  });
  ctx.log(
    `idle: warm-up ${2 * refreshSeconds} s, then a window of ${idleSeconds} s at refresh ${refreshSeconds} s`,
  );
  await sleep(2 * refreshSeconds * 1000);
  const mark = await ctx.counters.mark();
  await sleep(idleSeconds * 1000);
  const counts = await ctx.counters.since(mark);
  const refreshes = idleSeconds / refreshSeconds;
  const readsPerRefresh = counts.backendReads / refreshes;
  ctx.log(`idle: ${counts.mutations} mutations, ${readsPerRefresh.toFixed(1)} reads per refresh`);
  return {
    scenario: 'idle',
    resources,
    uniquePaths: paths,
    baselineSeconds: null,
    vaultsyncSeconds: null,
    ratio: null,
    ...countFields(counts),
    heapBytesPerResource: null,
    noisy: null,
    loadStart,
    loadEnd: loadNow(),
    goal: '0 mutating apiserver requests; backend reads ≤ unique paths per refresh',
    goalMet: counts.mutations === 0 && readsPerRefresh <= paths,
    refreshSeconds,
    windowSeconds: idleSeconds,
    readsPerRefresh: round(readsPerRefresh, 1),
    mutationsPerRefresh: round(counts.mutations / refreshes, 1),
    baselineReadsPerRefresh: paths,
  };
}
