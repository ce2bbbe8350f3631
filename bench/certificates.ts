// The certificates scenario of make bench (alone: make bench-certs): N ECDSA P-256
// VaultCertificates issued through OpenBao PKI in mode sign (key and CSR made by the operator,
// pki/sign/<role>, a kubernetes.io/tls Secret), sandwiched between two runs of a plain loop doing
// the same work (bench/lib/certificate-loop.ts), then a smaller RSA-2048 run for the event loop
// while keys are made in worker threads.
//
// The operator runs as shipped (bench/lib/operator.ts: a child process with the chart's config,
// ServiceAccount and RBAC; the PKI through an AppRole whose policy allows sign, issue and revoke
// on the mount, nothing else), `workers` reconciles in flight; the plain loop keeps as many
// certificates in flight. Both sides issue 10 certificates untimed first (warmed code, connections,
// tokens, the RSA worker), in namespaces of their own. What is timed:
// - vaultsync: from the first VaultCertificate create (the creates, at the harness's concurrency,
//   are inside the timing, as in the cold sync) to the last tls Secret holding a certificate;
// - per issuance: the operator's "Issued certificate" time (decision to issue → Secret write
//   answered: key, CSR, sign, Secret), against the plain loop's key → Secret create answered;
//   neither includes the wait in its queue. Create → Secret seen is reported too;
// - event-loop delay: the operator's own (prom-client's nodejs_eventloop_lag_*, reset by a scrape
//   just before the creates and read just after the last Secret);
// - requests: the apiserver's counts for the window, less the harness's creates; sign calls
//   from OpenBao's audit log; heap per certificate by the heap hook (caches full − emptied);
// - the floor, outside the sandwich: the plain loop plus the VaultCertificate creates and one
//   status write each, what any operator costs the apiserver beyond the plain loop.
//
//   BENCH_CERTIFICATES=1000 BENCH_RSA=100 BENCH_WORKERS=4 (= the plain loop's width)
import { readFileSync } from 'node:fs';
import { createObject } from '../src/kube/index.ts';
import type { KeySpec } from '../src/pki/index.ts';
import { ensureNamespace } from '../test/support/operator.ts';
import { openbaoAuditLogFile } from '../test/support/testbed/openbao.ts';
import { eventually } from '../test/support/wait.ts';
import {
  type LoopDelay,
  baoSignRequests,
  certificateVerdict,
  eventLoopDelay,
  issuanceLatenciesMs,
} from './lib/certificate-figures.ts';
import { type LoopRun, benchCertificate, certificateIssuers, plainLoop } from './lib/certificate-loop.ts';
import { CertificateSecretWatch } from './lib/certificate-watch.ts';
import type { ServerCounters } from './lib/counters.ts';
import { quantile, round } from './lib/figures.ts';
import { type ScenarioResult, type Series, countFields, loadNow, sandwich } from './lib/result.ts';
import { type BenchContext, deleteAllBestEffort, inParallel, secretsOf } from './lib/workload.ts';

const ECDSA: KeySpec = { algorithm: 'ECDSA', size: 256 };
const RSA: KeySpec = { algorithm: 'RSA', size: 2048 };
const NS = {
  plain1: 'bench-cert-plain-1',
  ours: 'bench-cert',
  plain2: 'bench-cert-plain-2',
  floor: 'bench-cert-floor',
  rsa: 'bench-cert-rsa',
};
const vaultCertificatesOf = (ns: string) => `/apis/vaultsync.io/v1alpha1/namespaces/${ns}/vaultcertificates`;

interface OperatorRun {
  seconds: number;
  createSeconds: number;
  quietSeconds: number;
  /** The operator's issuance times (ms). */
  latenciesMs: number[];
  /** Create answered → its Secret seen holding a certificate (ms), queue wait included. */
  endToEndMs: number[];
  loop: LoopDelay;
  counts: Awaited<ReturnType<ServerCounters['since']>>;
  signRequests: number;
  heapBytesPerCertificate?: number;
}

/** The VaultCertificates, at the harness's concurrency; when each create was answered in `createdAt`. */
async function createCertificates(
  ctx: BenchContext,
  ns: string,
  count: number,
  key: KeySpec,
  createdAt = new Map<string, number>(),
): Promise<void> {
  await inParallel(
    Array.from({ length: count }, (_, i) => i),
    ctx.concurrency,
    async (i) => {
      const vc = benchCertificate(ns, i, key);
      await createObject(ctx.client, vc);
      createdAt.set(vc.spec.secretName, performance.now());
    },
  );
}

const WARM_UP = 10;
const warmNamespace = (ns: string) => `${ns}-warm`;

/**
 * A few certificates issued before any timing, as the plain loop warms up too: the measured
 * burst is a running operator's, not its first calls (code compiled, connections and tokens,
 * the RSA worker started). Left in place until the scenario ends.
 */
async function warmUp(ctx: BenchContext, ns: string, key: KeySpec): Promise<void> {
  const watch = new CertificateSecretWatch(ctx.kc, ns);
  await watch.start();
  try {
    await createCertificates(ctx, ns, WARM_UP, key);
    await watch.until(WARM_UP, 300_000);
  } finally {
    watch.stop();
  }
}

/** The operator issues `count` certificates of `key` in `ns`, as shipped; `memory` adds the heap figure. */
async function operatorRun(
  ctx: BenchContext,
  ns: string,
  count: number,
  key: KeySpec,
  memory: boolean,
): Promise<OperatorRun> {
  const { bed } = ctx;
  await ctx.operator.start({
    workers: ctx.knobs.workers,
    cpuProfileDir: ctx.cpuProfileDir,
    extraConfig: certificateIssuers(bed.baoAddr, bed.baoToken),
  });
  await warmUp(ctx, warmNamespace(ns), key);
  const watch = new CertificateSecretWatch(ctx.kc, ns);
  await watch.start();
  try {
    const logStart = ctx.operator.logs().length;
    const own = { 'POST vaultcertificates': count };
    await ctx.operator.metrics(); // prom-client resets its event-loop histogram at each scrape
    const mark = await ctx.counters.mark();
    const createdAt = new Map<string, number>();
    const start = performance.now();
    await createCertificates(ctx, ns, count, key, createdAt);
    const createSeconds = (performance.now() - start) / 1000;
    await watch.until(count, 1_800_000);
    const seconds = (Math.max(...watch.issuedAt.values()) - start) / 1000;
    const loop = eventLoopDelay(await ctx.operator.metrics());
    const quietAt = await ctx.counters.quiet(mark, own);
    const counts = await ctx.counters.since(mark, own);
    const audit = readFileSync(openbaoAuditLogFile(bed.dir)).subarray(mark.baoOffset).toString('utf8');
    const run: OperatorRun = {
      seconds,
      createSeconds,
      quietSeconds: (quietAt - start) / 1000,
      latenciesMs: issuanceLatenciesMs(ctx.operator.logs().slice(logStart)),
      endToEndMs: [...watch.issuedAt].map(([name, at]) => at - (createdAt.get(name) ?? start)),
      loop,
      counts,
      signRequests: baoSignRequests(audit),
    };
    if (memory) run.heapBytesPerCertificate = await retainedPerCertificate(ctx, ns, count);
    return run;
  } finally {
    watch.stop();
    await ctx.operator.stop();
  }
}

/**
 * What the operator keeps per certificate (caches, its memory of what it wrote): its heap after
 * GC with every certificate and Secret cached, less the heap once both are deleted and gone from
 * its caches (the ready gauge of its VaultCertificates emptied).
 */
async function retainedPerCertificate(ctx: BenchContext, ns: string, count: number): Promise<number> {
  const full = await ctx.operator.heap();
  await deleteAllBestEffort(ctx, vaultCertificatesOf(ns));
  await deleteAllBestEffort(ctx, secretsOf(ns));
  const gauge = new RegExp(`vaultsync_resource_ready\\{[^}]*namespace="${ns}"`);
  await eventually(
    'the operator forgets the certificates',
    async () => (gauge.test(await ctx.operator.metrics()) ? undefined : true),
    300_000,
    1000,
  );
  await new Promise((r) => setTimeout(r, 2000));
  const empty = await ctx.operator.heap();
  return (full.heapUsed - empty.heapUsed) / count;
}

const rate = (count: number, seconds: number) => round(count / seconds, 1);
const ms = (xs: readonly number[], q: number) => round(quantile(xs, q), 1);

function printRows(rows: [string, number, { seconds: number; latenciesMs: number[] }, LoopDelay][]): void {
  console.log('run                        wall s   rate/s   p50 ms   p99 ms   loop p99 / max ms');
  for (const [name, count, r, loop] of rows)
    console.log(
      [
        name.padEnd(24),
        r.seconds.toFixed(2).padStart(8),
        (count / r.seconds).toFixed(1).padStart(8),
        quantile(r.latenciesMs, 0.5).toFixed(1).padStart(8),
        quantile(r.latenciesMs, 0.99).toFixed(1).padStart(8),
        `${loop.p99Ms.toFixed(1)} / ${loop.maxMs.toFixed(1)}`.padStart(18),
      ].join(' '),
    );
}

/** The certificates scenario on the bench's bed: plain loop → vaultsync → plain loop, then RSA. */
export async function certificatesScenario(ctx: BenchContext, series: Series): Promise<ScenarioResult> {
  const { certificates: n, rsa: rsaCount, workers } = ctx.knobs;
  const loadStart = loadNow();
  for (const ns of Object.values(NS)) {
    await ensureNamespace(ctx.kc, ns);
    await ensureNamespace(ctx.kc, warmNamespace(ns));
  }
  ctx.log(`certificates: ${n} ECDSA P-256; plain loop width ${workers} = operator workers ${workers}`);
  await plainLoop(ctx, warmNamespace(NS.plain1), WARM_UP, ECDSA, workers); // untimed, as warmUp
  const first = await plainLoop(ctx, NS.plain1, n, ECDSA, workers);
  const ours = await operatorRun(ctx, NS.ours, n, ECDSA, true);
  const second = await plainLoop(ctx, NS.plain2, n, ECDSA, workers);
  // Outside the sandwich: the plain loop plus the VaultCertificate create and a status write.
  const floor = await plainLoop(ctx, NS.floor, n, ECDSA, workers, true);
  const rsa = rsaCount > 0 ? await operatorRun(ctx, NS.rsa, rsaCount, RSA, false) : undefined;
  for (const ns of [NS.rsa, ...[NS.ours, NS.rsa].map(warmNamespace)]) {
    await deleteAllBestEffort(ctx, vaultCertificatesOf(ns));
    await deleteAllBestEffort(ctx, secretsOf(ns));
  }
  printRows([
    ['plain loop (before)', n, first, first.loop],
    ['vaultsync (ECDSA)', n, ours, ours.loop],
    ['plain loop (after)', n, second, second.loop],
    ['floor (+ create, status)', n, floor, floor.loop],
    ...(rsa ? [['vaultsync (RSA-2048)', rsaCount, rsa, rsa.loop] as const] : []),
  ] as [string, number, OperatorRun | LoopRun, LoopDelay][]);
  series.latenciesMs['certificates: plain loop'] = [...first.latenciesMs, ...second.latenciesMs];
  series.latenciesMs['certificates: vaultsync'] = ours.latenciesMs;
  const verdict = sandwich(first.seconds, second.seconds, ours.seconds);
  const rateRatio = verdict.baselineSeconds! / ours.seconds;
  const judged = certificateVerdict({
    rateRatio,
    p99Ms: quantile(ours.latenciesMs, 0.99),
    eventLoopP99Ms: ours.loop.p99Ms,
    rsaEventLoopP99Ms: rsa?.loop.p99Ms,
  });
  return {
    scenario: 'certificates',
    resources: n,
    uniquePaths: 1,
    ...verdict,
    ...countFields(ours.counts),
    backendReads: 0,
    heapBytesPerResource: round(ours.heapBytesPerCertificate, 0),
    loadStart,
    loadEnd: loadNow(),
    goal: "≥ 0.8× the plain loop's rate, p99 ≤ 100 ms, event-loop p99 ≤ 20 ms (ECDSA and RSA)",
    goalMet: judged.met,
    findings: judged.findings,
    workers,
    plainLoopWidth: workers,
    createConcurrency: ctx.concurrency,
    rateRatio: round(rateRatio),
    certificatesPerSecond: rate(n, ours.seconds),
    plainCertificatesPerSecond: rate(n, verdict.baselineSeconds!),
    floorSeconds: round(floor.seconds),
    floorRatio: round(floor.seconds / verdict.baselineSeconds!),
    // Less the creates, as vaultsync's count is less the harness's creates.
    floorRequestsPerCertificate: round((floor.counts.requests - n) / n),
    createSeconds: round(ours.createSeconds),
    quietSeconds: round(ours.quietSeconds),
    signRequests: ours.signRequests,
    requestsPerCertificate: round(ours.counts.requests / n),
    plainRequestsPerCertificate: round(first.counts.requests / n),
    p50Ms: ms(ours.latenciesMs, 0.5),
    p99Ms: ms(ours.latenciesMs, 0.99),
    plainP50Ms: ms([...first.latenciesMs, ...second.latenciesMs], 0.5),
    plainP99Ms: ms([...first.latenciesMs, ...second.latenciesMs], 0.99),
    createToSecretP50Ms: ms(ours.endToEndMs, 0.5),
    createToSecretP99Ms: ms(ours.endToEndMs, 0.99),
    eventLoopP99Ms: round(ours.loop.p99Ms, 1),
    eventLoopMaxMs: round(ours.loop.maxMs, 1),
    plainEventLoopP99Ms: round(Math.max(first.loop.p99Ms, second.loop.p99Ms), 1),
    rsaCertificates: rsa ? rsaCount : 0,
    rsaSeconds: rsa ? round(rsa.seconds) : null,
    rsaP99Ms: rsa ? ms(rsa.latenciesMs, 0.99) : null,
    rsaEventLoopP99Ms: rsa ? round(rsa.loop.p99Ms, 1) : null,
    rsaEventLoopMaxMs: rsa ? round(rsa.loop.maxMs, 1) : null,
  };
}
