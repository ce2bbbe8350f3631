// Memory: the operator's retained heap (its own process, after GC, through the bench's heap hook)
// with all N pairs in sync, then — after deleting the nine tenth in VS_BULK_NAMESPACE (two
// DELETE collection requests) and starting it again — with N/10: the slope is the cost of one more
// managed pair. Both points are measured on a fresh start once the operator is quiet, so neither
// carries the garbage of a burst. Then 150 unrelated Secrets of 400 KiB are created beside it:
// what they add to the heap (the goal: < 10 MB; an operator that caches every Secret pays 60 MB).
// Destructive: it runs after every scenario that needs the N resources.
import { createObject } from '../../src/kube/index.ts';
import { heapSlope, round } from '../lib/figures.ts';
import { type ScenarioResult, loadNow } from '../lib/result.ts';
import {
  type BenchContext,
  VS_BULK_NAMESPACE,
  deleteAllAndWait,
  deleteAllBestEffort,
  inParallel,
  secretsOf,
  smallCount,
  vaultSecretsOf,
} from '../lib/workload.ts';

const GOAL_BYTES = 3 * 1024;
const UNRELATED = 150;
const UNRELATED_BYTES = 400 * 1024;
const UNRELATED_NS = 'bench-unrelated';

/** Starts the operator afresh and measures its heap once it went quiet. */
async function freshHeap(ctx: BenchContext): Promise<{ heapUsed: number; rss: number }> {
  await ctx.operator.stop();
  const prepared = await ctx.operator.prepare({
    workers: ctx.knobs.workers,
    cpuProfileDir: ctx.cpuProfileDir,
  });
  const mark = await ctx.counters.mark();
  await ctx.operator.launch(prepared);
  await ctx.counters.quiet(mark, {}, 4000, 2000, 60_000);
  return ctx.operator.heap();
}

export async function memory(ctx: BenchContext): Promise<ScenarioResult> {
  const { resources, paths } = ctx.knobs;
  const small = smallCount(resources);
  const loadStart = loadNow();
  const large = await freshHeap(ctx);
  ctx.log(`memory: ${(large.heapUsed / 2 ** 20).toFixed(1)} MiB heap with ${resources} pairs`);
  await ctx.operator.stop();
  await deleteAllAndWait(ctx, vaultSecretsOf(VS_BULK_NAMESPACE));
  await deleteAllAndWait(ctx, secretsOf(VS_BULK_NAMESPACE));
  const reduced = await freshHeap(ctx);
  ctx.log(`memory: ${(reduced.heapUsed / 2 ** 20).toFixed(1)} MiB heap with ${small} pairs`);
  const slope = heapSlope({ resources: small, heap: reduced.heapUsed }, { resources, heap: large.heapUsed });
  const value = 'x'.repeat(UNRELATED_BYTES);
  await inParallel(
    Array.from({ length: UNRELATED }, (_, i) => `big-${i}`),
    8,
    (name) =>
      createObject(ctx.client, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: UNRELATED_NS },
        stringData: { v: value },
      }),
  );
  await new Promise((r) => setTimeout(r, 5000));
  const withUnrelated = await ctx.operator.heap();
  await deleteAllBestEffort(ctx, secretsOf(UNRELATED_NS));
  const unrelatedBytes = withUnrelated.heapUsed - reduced.heapUsed;
  return {
    scenario: 'memory',
    resources,
    uniquePaths: paths,
    baselineSeconds: null,
    vaultsyncSeconds: null,
    ratio: null,
    backendReads: null,
    apiserverRequests: null,
    apiserverMutations: null,
    heapBytesPerResource: Math.round(slope),
    noisy: null,
    loadStart,
    loadEnd: loadNow(),
    goal: `≤ ${GOAL_BYTES} B retained heap per pair; 150 unrelated Secrets of 400 KiB add < 10 MB`,
    goalMet: slope <= GOAL_BYTES && unrelatedBytes < 10e6,
    heapBytesAtResources: { [small]: reduced.heapUsed, [resources]: large.heapUsed },
    rssBytesAtResources: { [small]: reduced.rss, [resources]: large.rss },
    unrelatedSecretsHeapBytes: unrelatedBytes,
    unrelatedSecretsHeapMiB: round(unrelatedBytes / 2 ** 20, 1),
  };
}
