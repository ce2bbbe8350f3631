// Restart with every resource in sync: the operator started again over the N VaultSecrets the
// cold sync left, sandwiched between two runs of the script that checks the same (one LIST per
// namespace, one read per path, nothing written). Goal: no Secret write, no status write, no
// backend read, caches synced and work idle within 30 s. The window is watched by sampling the
// apiserver's counters every 2 s (one /metrics GET each) and OpenBao's audit log size.
import { baselineVerify } from '../lib/baseline.ts';
import { round } from '../lib/figures.ts';
import { type ScenarioResult, countFields, loadNow, sandwich } from '../lib/result.ts';
import { type BenchContext, VS_BULK_NAMESPACE, VS_NAMESPACE, resourceRef } from '../lib/workload.ts';

const WINDOW_MS = 30_000;

export async function restart(ctx: BenchContext): Promise<ScenarioResult> {
  const { resources, paths } = ctx.knobs;
  const loadStart = loadNow();
  const refs = Array.from({ length: resources }, (_, i) => resourceRef(i, ctx.knobs));
  const namespaces = [VS_NAMESPACE, VS_BULK_NAMESPACE];
  const first = await baselineVerify(ctx, namespaces, refs);
  const prepared = await ctx.operator.prepare({
    workers: ctx.knobs.workers,
    cpuProfileDir: ctx.cpuProfileDir,
  });
  const mark = await ctx.counters.mark();
  const start = performance.now();
  await ctx.operator.launch(prepared);
  const readySeconds = (performance.now() - start) / 1000;
  const lastActivity = await ctx.counters.quiet(mark, {}, 4000, 2000, WINDOW_MS);
  const rest = WINDOW_MS - (performance.now() - start);
  if (rest > 0) await new Promise((r) => setTimeout(r, rest));
  const counts = await ctx.counters.since(mark);
  const second = await baselineVerify(ctx, namespaces, refs);
  const idleSeconds = Math.max(readySeconds, (lastActivity - start) / 1000);
  const secretWrites = sumOf(
    counts.byKind,
    (k) => / secrets$/.test(k) && !k.startsWith('GET') && !k.startsWith('LIST'),
  );
  const statusWrites = sumOf(counts.byKind, (k) => k.endsWith('/status'));
  ctx.log(
    `restart: ready in ${readySeconds.toFixed(1)} s, ${counts.mutations} mutations, ${counts.backendReads} reads`,
  );
  return {
    scenario: 'restart',
    resources,
    uniquePaths: paths,
    ...sandwich(first.seconds, second.seconds, idleSeconds),
    ...countFields(counts),
    heapBytesPerResource: null,
    loadStart,
    loadEnd: loadNow(),
    goal: '0 Secret writes, 0 status writes, 0 backend reads; synced and idle within 30 s',
    goalMet: secretWrites === 0 && statusWrites === 0 && counts.backendReads === 0 && idleSeconds <= 30,
    readySeconds: round(readySeconds),
    idleSeconds: round(idleSeconds),
    secretWrites,
    statusWrites,
    baselineBackendReads: first.counts.backendReads,
    baselineWrong: first.wrong + second.wrong,
    note: 'vaultsyncSeconds: start of the process to its last write or read (or /readyz, if later); the baseline: a script that verifies every Secret',
  };
}

function sumOf(byKind: Record<string, number>, pick: (kind: string) => boolean): number {
  return Object.entries(byKind).reduce((n, [k, v]) => (pick(k) ? n + v : n), 0);
}
