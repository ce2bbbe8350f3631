// Change propagation under the N: one resource after another, its path gets a new value in
// OpenBao and its VaultSecret the `vaultsync.io/sync-now` annotation; timed from the annotation's
// patch to the Secret holding the new value (seen by the watch). The baseline, before and after:
// a script told of the change reads the path and patches its Secret, timed the same way.
// Goal: p50 ≤ 200 ms, p99 ≤ 1 s. (Secret change → workload patched needs the workload
// controllers of the bed; not measured here.)
import { createObject, mergePatch } from '../../src/kube/index.ts';
import { baselinePropagate } from '../lib/baseline.ts';
import { quantile, round } from '../lib/figures.ts';
import { type ScenarioResult, type Series, countFields, loadNow, sandwich } from '../lib/result.ts';
import { SecretWatch } from '../lib/secret-watch.ts';
import {
  type BenchContext,
  type ResourceRef,
  VS_API,
  VS_BULK_NAMESPACE,
  VS_NAMESPACE,
  deleteAllBestEffort,
  resourceRef,
  secretsOf,
  valueAt,
} from '../lib/workload.ts';

const BASELINE_NS = 'bench-baseline';
let generation = 1;

/** Times `change(ref)` for each resource: new value at its path, then until its Secret holds it. */
async function timeChanges(
  ctx: BenchContext,
  watch: SecretWatch,
  refs: readonly ResourceRef[],
  namespaceOf: (ref: ResourceRef) => string,
  change: (ref: ResourceRef, token: string) => Promise<unknown>,
): Promise<number[]> {
  const latencies: number[] = [];
  for (const ref of refs) {
    const value = valueAt(ref.path, ++generation);
    await ctx.bao('POST', `secret/data/bench/${ref.path}`, { data: { v: value } });
    const id = `${namespaceOf(ref)}/${ref.name}`;
    watch.expect(id, value);
    const start = performance.now();
    await change(ref, `bench-${generation}`);
    await watch.until(`${id} updated`, () => watch.matchedAt.has(id), 30_000);
    latencies.push(watch.matchedAt.get(id)! - start);
  }
  return latencies;
}

export async function propagation(ctx: BenchContext, series: Series): Promise<ScenarioResult> {
  const { resources, paths, changes } = ctx.knobs;
  const loadStart = loadNow();
  const refs = Array.from({ length: Math.min(changes, resources) }, (_, j) =>
    resourceRef(Math.floor((j * resources) / Math.min(changes, resources)), ctx.knobs),
  );
  // The script's Secrets, as a synced script left them.
  for (const ref of refs) {
    const v = valueAt(ref.path, 0);
    await createObject(ctx.client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: ref.name, namespace: BASELINE_NS },
      stringData: { v },
    });
  }
  // Run alone after the cold sync (which stops its operator), the operator is started here.
  if (!ctx.operator.running)
    await ctx.operator.start({ workers: ctx.knobs.workers, cpuProfileDir: ctx.cpuProfileDir });
  const watch = new SecretWatch(ctx.kc, [VS_NAMESPACE, VS_BULK_NAMESPACE, BASELINE_NS]);
  await watch.start();
  try {
    const script = (ref: ResourceRef) => baselinePropagate(ctx.client, ctx.bao, BASELINE_NS, ref);
    const first = await timeChanges(ctx, watch, refs, () => BASELINE_NS, script);
    const mark = await ctx.counters.mark();
    const ours = await timeChanges(
      ctx,
      watch,
      refs,
      (ref) => ref.namespace,
      (ref, token) =>
        mergePatch(
          ctx.client,
          { apiVersion: VS_API, kind: 'VaultSecret', namespace: ref.namespace, name: ref.name },
          { metadata: { annotations: { 'vaultsync.io/sync-now': token } } },
        ),
    );
    const counts = await ctx.counters.since(mark, { 'PATCH vaultsecrets': refs.length });
    const second = await timeChanges(ctx, watch, refs, () => BASELINE_NS, script);
    series.latenciesMs['baseline 1'] = first;
    series.latenciesMs.vaultsync = ours;
    series.latenciesMs['baseline 2'] = second;
    const p50 = quantile(ours, 0.5);
    const p99 = quantile(ours, 0.99);
    ctx.log(`propagation: vaultsync p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`);
    return {
      scenario: 'propagation',
      resources,
      uniquePaths: paths,
      ...sandwich(quantile(first, 0.5) / 1000, quantile(second, 0.5) / 1000, p50 / 1000),
      ...countFields(counts),
      heapBytesPerResource: null,
      loadStart,
      loadEnd: loadNow(),
      goal: 'sync-now → Secret updated: p50 ≤ 200 ms, p99 ≤ 1 s',
      goalMet: p50 <= 200 && p99 <= 1000,
      changes: refs.length,
      p50Ms: round(p50, 1),
      p99Ms: round(p99, 1),
      maxMs: round(Math.max(...ours), 1),
      baselineP50Ms: round(quantile([...first, ...second], 0.5), 1),
      baselineP99Ms: round(quantile([...first, ...second], 0.99), 1),
      note: 'seconds columns are p50 latencies of one change',
    };
  } finally {
    watch.stop();
    await deleteAllBestEffort(ctx, secretsOf(BASELINE_NS));
  }
}
