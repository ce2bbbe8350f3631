// Cold sync: N VaultSecrets applied to a running, idle operator, timed from the first create to
// the last Secret holding its value (seen by one watch), sandwiched between two runs of the
// script doing the same work. Requests are the apiserver's own counts for the window, less the
// harness's N VaultSecret creates; they keep being counted until the operator goes quiet (its
// status patches and events after the last Secret are part of the cost). Then the apiserver's
// floor: the writes no operator can skip (VaultSecret create, Secret create, status write) made
// by a script with no logic (baseline.ts floorSync), so the row tells what the apiserver must do
// from what vaultsync adds.
import { baselineSync, floorSync } from '../lib/baseline.ts';
import { round } from '../lib/figures.ts';
import { type ScenarioResult, type Series, countFields, loadNow, sandwich } from '../lib/result.ts';
import { SecretWatch } from '../lib/secret-watch.ts';
import {
  type BenchContext,
  type ResourceRef,
  VS_BULK_NAMESPACE,
  VS_NAMESPACE,
  createVaultSecret,
  inParallel,
  resourceRef,
  valueAt,
  vaultSecretsOf,
} from '../lib/workload.ts';
import { isReady } from '../../test/support/ready.ts';

const GOAL_RATIO = 1.5;
const GOAL_REQUESTS_PER_RESOURCE = 2.5;

/** The status vaultsync wrote for its first resource: the floor script writes one of that size. */
async function writtenStatus(ctx: BenchContext, ref: ResourceRef): Promise<Record<string, unknown>> {
  const vs = await ctx.client.rest.request<{ status?: Record<string, unknown> }>({
    method: 'GET',
    path: `${vaultSecretsOf(ref.namespace)}/${ref.name}`,
  });
  if (!vs.status) throw new Error(`${ref.namespace}/${ref.name} has no status after the cold sync`);
  return vs.status;
}

async function readyCount(ctx: BenchContext): Promise<number> {
  let n = 0;
  for (const ns of [VS_NAMESPACE, VS_BULK_NAMESPACE]) {
    const list = await ctx.client.rest.request<{ items: Parameters<typeof isReady>[0][] }>({
      method: 'GET',
      path: vaultSecretsOf(ns),
    });
    n += list.items.filter(isReady).length;
  }
  return n;
}

/** The operator side: creates every VaultSecret and waits for every Secret. */
async function vaultsyncSync(ctx: BenchContext, refs: readonly ResourceRef[]) {
  const watch = new SecretWatch(ctx.kc, [VS_NAMESPACE, VS_BULK_NAMESPACE]);
  for (const ref of refs) watch.expect(`${ref.namespace}/${ref.name}`, valueAt(ref.path, 0));
  await watch.start();
  try {
    const own = { 'POST vaultsecrets': refs.length };
    const cpuBefore = ctx.operator.cpuSeconds();
    const mark = await ctx.counters.mark();
    const start = performance.now();
    await inParallel(refs, ctx.concurrency, (ref) => createVaultSecret(ctx.client, ref));
    const createdSeconds = (performance.now() - start) / 1000;
    await watch.until('every Secret synced', () => watch.matchedAt.size === refs.length, 1_800_000);
    const seconds = (Math.max(...watch.matchedAt.values()) - start) / 1000;
    const quietAt = await ctx.counters.quiet(mark, own);
    const cpuSeconds = ctx.operator.cpuSeconds() - cpuBefore;
    const counts = await ctx.counters.since(mark, own);
    const completions = [...watch.matchedAt.values()].map((t) => (t - start) / 1000).sort((a, b) => a - b);
    return {
      seconds,
      createdSeconds,
      quietSeconds: (quietAt - start) / 1000,
      counts,
      completions,
      cpuSeconds,
    };
  } finally {
    watch.stop();
  }
}

export async function coldSync(ctx: BenchContext, series: Series): Promise<ScenarioResult> {
  const { resources, paths } = ctx.knobs;
  const loadStart = loadNow();
  const refs = Array.from({ length: resources }, (_, i) => resourceRef(i, ctx.knobs));
  ctx.log(`cold: baseline 1 (script, concurrency ${ctx.concurrency})`);
  const first = await baselineSync(ctx, 'bench-baseline-1', refs);
  ctx.log(`cold: baseline 1 took ${first.seconds.toFixed(1)} s; vaultsync next`);
  await ctx.operator.start({ workers: ctx.knobs.workers, cpuProfileDir: ctx.cpuProfileDir });
  const ours = await vaultsyncSync(ctx, refs);
  const ready = await readyCount(ctx);
  await ctx.operator.stop();
  ctx.log(`cold: vaultsync took ${ours.seconds.toFixed(1)} s (${ready} Ready); baseline 2 next`);
  const second = await baselineSync(ctx, 'bench-baseline-2', refs);
  ctx.log(`cold: baseline 2 took ${second.seconds.toFixed(1)} s; the apiserver's floor next`);
  const floor = await floorSync(ctx, 'bench-floor', refs, await writtenStatus(ctx, refs[0]!));
  ctx.log(`cold: the floor's writes took ${floor.seconds.toFixed(1)} s`);
  series.completions['floor (the same writes by script)'] = floor.completions;
  series.completions['baseline 1'] = first.completions;
  series.completions.vaultsync = ours.completions;
  series.completions['baseline 2'] = second.completions;
  const verdict = sandwich(first.seconds, second.seconds, ours.seconds);
  const perResource = ours.counts.requests / resources;
  const met =
    (verdict.ratio ?? Infinity) <= GOAL_RATIO &&
    ours.counts.backendReads <= paths * 1.1 &&
    perResource <= GOAL_REQUESTS_PER_RESOURCE;
  return {
    scenario: 'cold',
    resources,
    uniquePaths: paths,
    ...verdict,
    ...countFields(ours.counts),
    heapBytesPerResource: null,
    loadStart,
    loadEnd: loadNow(),
    goal: `≤ ${GOAL_RATIO}× baseline time, ≤ 1.1 reads per path, ≤ ${GOAL_REQUESTS_PER_RESOURCE} apiserver requests per resource`,
    goalMet: met,
    requestsPerResource: round(perResource),
    readyAtEnd: ready,
    operatorCpuSeconds: round(ours.cpuSeconds),
    operatorCpuMsPerResource: round((ours.cpuSeconds * 1000) / resources),
    createSeconds: round(ours.createdSeconds),
    quietSeconds: round(ours.quietSeconds),
    floorSeconds: round(floor.seconds),
    floorOverBaseline: verdict.baselineSeconds ? round(floor.seconds / verdict.baselineSeconds) : null,
    vaultsyncOverFloor: round(ours.seconds / floor.seconds),
    floorApiserverRequests: floor.counts.requests,
    floorPhaseSeconds: Object.fromEntries(Object.entries(floor.phaseSeconds).map(([k, v]) => [k, round(v)])),
    baselineBackendReads: first.counts.backendReads,
    baselineApiserverRequests: first.counts.requests,
    baselineApiserverMutations: first.counts.mutations,
  };
}
