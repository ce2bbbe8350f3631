// Reload under the N: W Deployments, each opted in to one Secret of the cold sync by
// `vaultsync.io/reload-secrets`, in sync with the N VaultSecrets. One change at a time: a new
// value in OpenBao and `vaultsync.io/sync-now` on the VaultSecret (as in propagation), then timed
// (a) from the Secret holding the new value (a watch on Secrets) to the Deployment's pod-template
// patch (a watch on Deployments) — the goal's figure, judged against the reload debounce + 1 s —
// and (b) end to end, from the sync-now to the patch. Every Deployment must get exactly one
// patch per change asked of it. The Deployments only need to exist: the reload controller patches
// the pod template itself and does not wait for a rollout to patch, so the bed runs no
// controller-manager (the rollouts it starts are followed, never completed, and nothing is
// waiting on them: each Deployment restarts for its own Secret, its own concurrency group).
// The baseline, before and after: what Reloader does, as a script (bench/lib/reloader.ts) — a
// watch on Secrets, a digest on the pod template of the Deployments naming the changed Secret —
// the Secret changed by the propagation baseline's script, timed the same way. The operator is
// started afresh as shipped (its default debounce unless BENCH_RELOAD_DEBOUNCE sets the
// Deployments' `vaultsync.io/reload-debounce`) and idles through the baselines.
import { UserAnnotation } from '../../src/apis/v1alpha1/index.ts';
import { DEFAULT_RESTART_POLICY } from '../../src/controllers/shared/restart-policy.ts';
import { createObject, mergePatch } from '../../src/kube/index.ts';
import { ensureNamespace } from '../../test/support/operator.ts';
import { reloadingDeployment } from '../../test/support/workloads.ts';
import { baselinePropagate } from '../lib/baseline.ts';
import type { Counts } from '../lib/counters.ts';
import { DeploymentWatch } from '../lib/deployment-watch.ts';
import { quantile, round } from '../lib/figures.ts';
import {
  type PatchVerdict,
  type ReloadTarget,
  changeOrder,
  countById,
  patchVerdict,
  reloadTargets,
  untargeted,
  withinGoal,
} from '../lib/reload-figures.ts';
import { RELOADER_ANNOTATION, Reloader } from '../lib/reloader.ts';
import { type ScenarioResult, type Series, countFields, loadNow, sandwich } from '../lib/result.ts';
import { SecretWatch } from '../lib/secret-watch.ts';
import {
  type BenchContext,
  type ResourceRef,
  VS_API,
  VS_BULK_NAMESPACE,
  VS_NAMESPACE,
  deleteAllBestEffort,
  inParallel,
  secretsOf,
  valueAt,
} from '../lib/workload.ts';

const BASELINE_NS = 'bench-reload-baseline';
const NAMESPACES = [VS_NAMESPACE, VS_BULK_NAMESPACE, BASELINE_NS];
/** Values of this scenario's writes: apart from propagation's, so each change is new data. */
let generation = 1_000_000;

const deploymentsOf = (ns: string) => `/apis/apps/v1/namespaces/${ns}/deployments`;

interface Watches {
  secrets: SecretWatch;
  deployments: DeploymentWatch;
}

/** One change, timed: (a) Secret updated → Deployment patched, (b) trigger → Deployment patched. */
interface Timing {
  afterSecretMs: number;
  endToEndMs: number;
}

/** A Deployment that uses Secret `secret`, opted in by `annotations` (it never runs here). */
function deployment(namespace: string, name: string, secret: string, annotations: Record<string, string>) {
  const d = reloadingDeployment(namespace, name, secret);
  return { ...d, metadata: { ...d.metadata, annotations } };
}

/** The W Deployments on each side, and the script's Secrets as a synced script left them. */
async function createWorkloads(ctx: BenchContext, targets: readonly ReloadTarget[]): Promise<void> {
  await ensureNamespace(ctx.kc, BASELINE_NS);
  const debounce = ctx.knobs.reloadDebounceSeconds;
  const ours = (t: ReloadTarget) => ({
    [UserAnnotation.ReloadSecrets]: t.ref.name,
    ...(debounce !== undefined && { [UserAnnotation.ReloadDebounce]: `${debounce}s` }),
  });
  await inParallel(targets, ctx.concurrency, async (t) => {
    await createObject(ctx.client, deployment(t.ref.namespace, t.deployment, t.ref.name, ours(t)));
    await createObject(
      ctx.client,
      deployment(BASELINE_NS, t.deployment, t.ref.name, { [RELOADER_ANNOTATION]: t.ref.name }),
    );
    await createObject(ctx.client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: t.ref.name, namespace: BASELINE_NS },
      stringData: { v: valueAt(t.ref.path, 0) },
    });
  });
}

/** One change: a new value at the path, `trigger`, then until the Deployment's patch. */
async function timeOne(
  ctx: BenchContext,
  w: Watches,
  t: ReloadTarget,
  namespace: string,
  trigger: (t: ReloadTarget, token: string) => Promise<unknown>,
  timeoutMs: number,
): Promise<Timing> {
  const value = valueAt(t.ref.path, ++generation);
  await ctx.bao('POST', `secret/data/bench/${t.ref.path}`, { data: { v: value } });
  const secretId = `${namespace}/${t.ref.name}`;
  w.secrets.expect(secretId, value);
  const patched = w.deployments.nextPatch(`${namespace}/${t.deployment}`, timeoutMs);
  patched.catch(() => undefined); // awaited below; a failed trigger must not leave it unhandled
  const start = performance.now();
  await trigger(t, `bench-reload-${generation}`);
  const patchedAt = await patched;
  await w.secrets.until(`${secretId} updated`, () => w.secrets.matchedAt.has(secretId), 10_000);
  return { afterSecretMs: patchedAt - w.secrets.matchedAt.get(secretId)!, endToEndMs: patchedAt - start };
}

interface Phase {
  timings: Timing[];
  counts: Counts;
  verdict: PatchVerdict;
}

/**
 * The changes one after another on one side; then, after `settleMs` (a second restart would
 * come within a debounce), the servers' counts and the patches seen per Deployment.
 */
async function runPhase(
  ctx: BenchContext,
  w: Watches,
  changes: readonly ReloadTarget[],
  side: {
    namespace: (t: ReloadTarget) => string;
    trigger: (t: ReloadTarget, token: string) => Promise<unknown>;
  },
  opts: { timeoutMs: number; settleMs: number; own: Record<string, number>; label: string },
): Promise<Phase> {
  w.deployments.reset();
  const mark = await ctx.counters.mark();
  const timings: Timing[] = [];
  for (const [k, t] of changes.entries()) {
    timings.push(await timeOne(ctx, w, t, side.namespace(t), side.trigger, opts.timeoutMs));
    if ((k + 1) % 10 === 0)
      ctx.log(
        `reload: ${opts.label} ${k + 1}/${changes.length}, last ${timings.at(-1)!.afterSecretMs.toFixed(0)} ms`,
      );
  }
  await new Promise((r) => setTimeout(r, opts.settleMs));
  const counts = await ctx.counters.since(mark, opts.own);
  const wanted = countById(changes.map((t) => `${side.namespace(t)}/${t.deployment}`));
  return { timings, counts, verdict: patchVerdict(wanted, w.deployments.patches) };
}

/** The baseline: the script changes the Secret, the Reloader script patches the Deployment. */
async function baselinePhase(ctx: BenchContext, w: Watches, changes: readonly ReloadTarget[], label: string) {
  const reloader = new Reloader(ctx.kc, ctx.client, BASELINE_NS);
  await reloader.start();
  try {
    const phase = await runPhase(
      ctx,
      w,
      changes,
      {
        namespace: () => BASELINE_NS,
        trigger: (t) => baselinePropagate(ctx.client, ctx.bao, BASELINE_NS, t.ref),
      },
      { timeoutMs: 30_000, settleMs: 1000, own: {}, label },
    );
    if (reloader.failures.length > 0) throw new Error(`the Reloader script failed: ${reloader.failures[0]}`);
    return phase;
  } finally {
    reloader.stop();
  }
}

/** Asks the operator to read the target's VaultSecret now. */
const syncNow = (ctx: BenchContext, ref: ResourceRef, token: string) =>
  mergePatch(
    ctx.client,
    { apiVersion: VS_API, kind: 'VaultSecret', namespace: ref.namespace, name: ref.name },
    { metadata: { annotations: { [UserAnnotation.SyncNow]: token } } },
  );

/** vaultsync: the sync-now annotation on the VaultSecret; the operator does the rest. */
function vaultsyncPhase(ctx: BenchContext, w: Watches, changes: readonly ReloadTarget[], debounceMs: number) {
  return runPhase(
    ctx,
    w,
    changes,
    { namespace: (t) => t.ref.namespace, trigger: (t, token) => syncNow(ctx, t.ref, token) },
    {
      timeoutMs: debounceMs + 60_000,
      settleMs: debounceMs + 2000,
      own: { 'PATCH vaultsecrets': changes.length },
      label: 'vaultsync',
    },
  );
}

/**
 * The operator afresh, as shipped, its workload caches holding the Deployments; then one sync-now
 * of a VaultSecret no Deployment asks for (its login to OpenBao is not the first change's cost,
 * and whatever it reads restarts nothing); once quiet.
 */
async function freshOperator(ctx: BenchContext, warmUp: ResourceRef): Promise<void> {
  await ctx.operator.stop();
  await ctx.operator.start({ workers: ctx.knobs.workers, cpuProfileDir: ctx.cpuProfileDir });
  await syncNow(ctx, warmUp, 'bench-reload-warm-up');
  await ctx.counters.quiet(await ctx.counters.mark(), {}, 4000, 2000, 120_000);
}

const ms = (xs: readonly number[], q: number) => round(quantile(xs, q), 1);

export async function reload(ctx: BenchContext, series: Series): Promise<ScenarioResult> {
  const { workloads, reloads } = ctx.knobs;
  const loadStart = loadNow();
  const debounceMs = (ctx.knobs.reloadDebounceSeconds ?? DEFAULT_RESTART_POLICY.debounceMs / 1000) * 1000;
  const targets = reloadTargets(workloads, ctx.knobs);
  const changes = changeOrder(targets, reloads);
  if (changes.length === 0) throw new Error('reload: BENCH_WORKLOADS and BENCH_RELOADS must be ≥ 1');
  ctx.log(
    `reload: ${targets.length} Deployments, ${changes.length} changes, debounce ${debounceMs / 1000} s`,
  );
  const w: Watches = {
    secrets: new SecretWatch(ctx.kc, NAMESPACES),
    deployments: new DeploymentWatch(ctx.kc, NAMESPACES),
  };
  try {
    await createWorkloads(ctx, targets);
    // The watches first: their initial listing (every Secret of the bed) is read while the
    // operator starts, not inside the first change's timing.
    await w.secrets.start();
    await w.deployments.start();
    await freshOperator(ctx, untargeted(targets, ctx.knobs));
    const first = await baselinePhase(ctx, w, changes, 'baseline 1');
    const ours = await vaultsyncPhase(ctx, w, changes, debounceMs);
    // Gone before the second baseline: the operator follows their rollouts (which never complete
    // here) and would say so after its ready timeout, inside the baseline's count.
    for (const ns of [VS_NAMESPACE, VS_BULK_NAMESPACE]) await deleteAllBestEffort(ctx, deploymentsOf(ns));
    const second = await baselinePhase(ctx, w, changes, 'baseline 2');
    return summarise(ctx, series, { loadStart, debounceMs, targets: targets.length, first, ours, second });
  } finally {
    w.secrets.stop();
    w.deployments.stop();
    for (const ns of NAMESPACES) await deleteAllBestEffort(ctx, deploymentsOf(ns));
    await deleteAllBestEffort(ctx, secretsOf(BASELINE_NS));
  }
}

function summarise(
  ctx: BenchContext,
  series: Series,
  run: { loadStart: number[]; debounceMs: number; targets: number; first: Phase; ours: Phase; second: Phase },
): ScenarioResult {
  const { first, ours, second, debounceMs } = run;
  const a = (p: Phase) => p.timings.map((t) => t.afterSecretMs);
  const e2e = ours.timings.map((t) => t.endToEndMs);
  const baseline = [...a(first), ...a(second)];
  series.latenciesMs['reload: baseline 1'] = a(first);
  series.latenciesMs['reload: vaultsync'] = a(ours);
  // On the log axis 10 s and 10.1 s look alike: what the operator adds beyond its wait is drawn too.
  series.latenciesMs['reload: vaultsync beyond the debounce'] = a(ours).map((x) => x - debounceMs);
  series.latenciesMs['reload: baseline 2'] = a(second);
  const p99 = quantile(a(ours), 0.99);
  const changes = ours.timings.length;
  ctx.log(
    `reload: vaultsync p50 ${quantile(a(ours), 0.5).toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (debounce ${debounceMs} ms); ${ours.verdict.patches} patches for ${changes} changes`,
  );
  return {
    scenario: 'reload',
    resources: ctx.knobs.resources,
    uniquePaths: ctx.knobs.paths,
    ...sandwich(
      quantile(a(first), 0.5) / 1000,
      quantile(a(second), 0.5) / 1000,
      quantile(a(ours), 0.5) / 1000,
    ),
    ...countFields(ours.counts),
    heapBytesPerResource: null,
    loadStart: run.loadStart,
    loadEnd: loadNow(),
    goal: `Secret updated → Deployment patched: p99 ≤ debounce (${debounceMs / 1000} s) + 1 s, one patch per change`,
    goalMet: withinGoal(p99, debounceMs) && ours.verdict.exact,
    workloads: run.targets,
    changes,
    debounceSeconds: debounceMs / 1000,
    p50Ms: ms(a(ours), 0.5),
    p99Ms: ms(a(ours), 0.99),
    maxMs: round(Math.max(...a(ours)), 1),
    beyondDebounceP50Ms: round(quantile(a(ours), 0.5) - debounceMs, 1),
    beyondDebounceP99Ms: round(p99 - debounceMs, 1),
    // What the operator adds beyond its (deliberate) wait, against the script's whole latency.
    ratioBeyondDebounce: round((quantile(a(ours), 0.5) - debounceMs) / quantile(baseline, 0.5)),
    endToEndP50Ms: ms(e2e, 0.5),
    endToEndP99Ms: ms(e2e, 0.99),
    endToEndMaxMs: round(Math.max(...e2e), 1),
    patchesPerChange: round(ours.verdict.patches / changes),
    deploymentsPatchedTooOften: ours.verdict.extra,
    deploymentsNotPatched: ours.verdict.missing,
    deploymentPatches: ours.counts.byKind['PATCH deployments'] ?? 0,
    requestsPerChange: round(ours.counts.requests / changes),
    baselineP50Ms: ms(baseline, 0.5),
    baselineP99Ms: ms(baseline, 0.99),
    baselineEndToEndP99Ms: ms(
      [...first.timings, ...second.timings].map((t) => t.endToEndMs),
      0.99,
    ),
    baselinePatchesExact: first.verdict.exact && second.verdict.exact,
    baselineApiserverRequests: first.counts.requests,
    baselineBackendReads: first.counts.backendReads,
    note: 'seconds columns are p50 of Secret updated → Deployment patched; vaultsync waits its debounce by design, the script has none',
  };
}
