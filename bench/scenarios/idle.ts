// Idle: the operator over the N VaultSecrets in sync with a refresh interval of R (its
// defaultRefreshInterval), measured for a window of W after two and a half intervals of warm-up
// (the resources of one path need a window to gather on one slot). The scenario restarts the
// operator, so every path refreshes in a burst at the start of each interval after it: the half
// interval puts the window's ends between bursts, where a count of a periodic schedule has no
// edge to straddle. Reads are counted from OpenBao's audit times inside the window exactly.
// Goal: no mutating apiserver request, backend reads ≤ unique paths per refresh; beside it, per
// path, the reads sooner than its refresh slots allow after the path's previous read
// (earlyReads), and the reads per refresh from each path's own spacing. The baseline is
// arithmetic, not a run: a script refreshing each path once per interval reads P paths per
// refresh and writes nothing.
import { type BaoRead, earlyReads, pathReadSpread, round } from '../lib/figures.ts';
import { refreshWindow } from '../../src/controllers/vaultsecret/refresh.ts';
import { type ScenarioResult, countFields, loadNow } from '../lib/result.ts';
import type { BenchContext } from '../lib/workload.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reads in the window sooner than the schedule allows after the same path's previous read (the
 * warm-up's reads included, so the window's first reads have a previous one): slots are at least
 * interval − window apart (src/controllers/vaultsecret/refresh.ts).
 */
function earlyReadsInWindow(reads: readonly BaoRead[], intervalMs: number, windowStart: number): number {
  return earlyReads(reads, windowStart, intervalMs - refreshWindow(intervalMs));
}

export async function idle(ctx: BenchContext): Promise<ScenarioResult> {
  const { resources, paths, refreshSeconds, idleSeconds } = ctx.knobs;
  const loadStart = loadNow();
  await ctx.operator.stop();
  await ctx.operator.start({
    workers: ctx.knobs.workers,
    defaultRefreshInterval: `${refreshSeconds}s`,
    cpuProfileDir: ctx.cpuProfileDir,
  });
  const intervalMs = refreshSeconds * 1000;
  const warmUpMs = 2.5 * intervalMs;
  ctx.log(
    `idle: warm-up ${warmUpMs / 1000} s, then a window of ${idleSeconds} s at refresh ${refreshSeconds} s`,
  );
  const warm = await ctx.counters.mark();
  await sleep(warmUpMs);
  const mark = await ctx.counters.mark();
  const windowStart = Date.now();
  await sleep(idleSeconds * 1000);
  const counts = await ctx.counters.since(mark);
  const refreshes = idleSeconds / refreshSeconds;
  const reads = ctx.counters.baoReadTimesSince(warm.baoOffset);
  const early = earlyReadsInWindow(reads, intervalMs, windowStart);
  const window = { from: windowStart, to: windowStart + idleSeconds * 1000 };
  const spread = pathReadSpread(reads, window, intervalMs, refreshWindow(intervalMs));
  const readsPerRefresh = spread.reads / refreshes;
  ctx.log(
    `idle: ${counts.mutations} mutations, ${readsPerRefresh.toFixed(1)} reads per refresh ` +
      `(${counts.backendReads} between the counters' marks), ${early} early; ` +
      `reads per path ${JSON.stringify(spread.histogram)}, ${spread.overCount} paths over ` +
      `(${spread.overCountAtStart} first read in the window's first refresh window), ` +
      `${spread.readsPerIntervalByRate.toFixed(1)} reads per refresh by each path's spacing`,
  );
  return {
    scenario: 'idle',
    resources,
    uniquePaths: paths,
    baselineSeconds: null,
    vaultsyncSeconds: null,
    ratio: null,
    ...countFields(counts),
    // Inside the window exactly; the marks' own time around it is not the window's.
    backendReads: spread.reads,
    backendReadsBetweenMarks: counts.backendReads,
    heapBytesPerResource: null,
    noisy: null,
    loadStart,
    loadEnd: loadNow(),
    goal: '0 mutating apiserver requests; backend reads ≤ unique paths per refresh',
    // The count; earlyReads says whether any path was read sooner than its slots allow.
    goalMet: counts.mutations === 0 && readsPerRefresh <= paths,
    earlyReads: early,
    readsPerPath: spread.histogram,
    pathsOverCount: spread.overCount,
    pathsOverCountAtStart: spread.overCountAtStart,
    readsPerRefreshByRate: round(spread.readsPerIntervalByRate, 1),
    refreshSeconds,
    windowSeconds: idleSeconds,
    readsPerRefresh: round(readsPerRefresh, 1),
    mutationsPerRefresh: round(counts.mutations / refreshes, 1),
    baselineReadsPerRefresh: paths,
  };
}
