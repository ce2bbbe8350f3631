// The certificates scenario of make bench (or node bench/certificates.ts alone): 1,000 VaultCertificates issued through OpenBao PKI in mode sign
// (key and CSR made here, pki/sign/<role>, kubernetes.io/tls Secret), beside a plain loop doing
// the same work against the same OpenBao and apiserver in the same run. Reports certificates
// per second, p50/p99 per issuance, event-loop delay, and the operator's memory per certificate.
// Then a smaller RSA-2048 run shows the event loop while keys are made in worker threads.
//
//   BENCH_CERTIFICATES=1000  BENCH_RSA=100  BENCH_CONCURRENCY=4 (plain loop)  BENCH_WORKERS=4 (operator)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pLimit from 'p-limit';
import { createKubeClient, createObject, type KubeClient } from '../src/kube/index.ts';
import { createCsr, generatePrivateKey } from '../src/pki/index.ts';
import { installCrds } from '../test/support/crds.ts';
import { Writable } from 'node:stream';
import winston from 'winston';
import { loadConfig } from '../src/config/index.ts';
import { createLogger } from '../src/observability/logger.ts';
import { type RunningOperator, startOperator } from '../src/operator.ts';
import { OPERATOR_NAMESPACE, ensureNamespace } from '../test/support/operator.ts';
import { startTestbed, type Testbed } from '../test/support/testbed/index.ts';
import { baoApi } from '../test/support/testbed/openbao.ts';
import { eventually } from '../test/support/wait.ts';
import { quantile, round } from './lib/figures.ts';
import { type ScenarioResult, type Series, loadNow, sandwich } from './lib/result.ts';

const N = Number(process.env.BENCH_CERTIFICATES ?? 1000);
const RSA = Number(process.env.BENCH_RSA ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const WORKERS = Number(process.env.BENCH_WORKERS ?? CONCURRENCY);
const DOMAIN = 'bench.svc.cluster.local';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Figures {
  certificates: number;
  seconds: number;
  latenciesMs: number[];
  loop: { p50: number; p99: number; max: number };
  memoryPerCertificateKiB?: number;
  /** Longest event-loop stall while the operator started (config, clients, health server). */
  startLoopMaxMs?: number;
  rssPerCertificateKiB?: number;
}

const loopFigures = (h: ReturnType<typeof monitorEventLoopDelay>) => ({
  p50: h.percentile(50) / 1e6,
  p99: h.percentile(99) / 1e6,
  max: h.max / 1e6,
});

async function heapAfterGc(): Promise<{ heap: number; rss: number }> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
}

/** The same work without an operator: key, CSR, pki/sign, create the Secret. */
async function plainLoop(client: KubeClient, bao: ReturnType<typeof baoApi>, ns: string): Promise<Figures> {
  const limit = pLimit(CONCURRENCY);
  const latencies: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      limit(async () => {
        const t0 = performance.now();
        const name = `c-${i}.${DOMAIN}`;
        const key = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
        const csr = await createCsr(
          {
            dnsNames: [name],
            ipAddresses: [],
            uris: [],
            emailAddresses: [],
            usages: ['digital signature', 'key encipherment', 'server auth'],
            isCA: false,
          },
          key,
        );
        const signed = (await bao('POST', 'pki/sign/svc', {
          csr,
          common_name: name,
          ttl: '24h',
          format: 'pem',
        })) as {
          data: { certificate: string; issuing_ca: string };
        };
        await createObject(client, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: `c-${i}-tls`, namespace: ns },
          type: 'kubernetes.io/tls',
          stringData: {
            'tls.crt': signed.data.certificate,
            'tls.key': key.pem().reveal(),
            'ca.crt': signed.data.issuing_ca,
          },
        });
        latencies.push(performance.now() - t0);
      }),
    ),
  );
  const seconds = (performance.now() - start) / 1000;
  loop.disable();
  return { certificates: N, seconds, latenciesMs: latencies, loop: loopFigures(loop) };
}

async function readyCount(client: KubeClient, ns: string): Promise<number> {
  const list = await client.rest.request<{
    items: { status?: { conditions?: { type: string; status: string }[] } }[];
  }>({ method: 'GET', path: `/apis/vaultsync.io/v1alpha1/namespaces/${ns}/vaultcertificates` });
  return list.items.filter((v) =>
    v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  ).length;
}

async function createCertificates(
  client: KubeClient,
  ns: string,
  count: number,
  key: Record<string, unknown>,
) {
  const limit = pLimit(8);
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      limit(() =>
        createObject(client, {
          apiVersion: 'vaultsync.io/v1alpha1',
          kind: 'VaultCertificate',
          metadata: { name: `c-${i}`, namespace: ns },
          spec: {
            issuer: { backend: 'vault-pki', role: 'svc' },
            dnsNames: [`c-${i}.${ns}.svc.cluster.local`], // the issuer certifies a namespace's own names only
            duration: '24h',
            privateKey: key,
            secretName: `c-${i}-tls`,
          },
        }),
      ),
    ),
  );
}

/** Issuance times the operator logged ("Issued certificate", field seconds). */
function issuanceLatencies(logs: string[]): number[] {
  const out: number[] = [];
  for (const line of logs) {
    if (!line.includes('"Issued certificate"')) continue;
    try {
      const seconds = (JSON.parse(line) as { seconds?: number }).seconds;
      if (typeof seconds === 'number') out.push(seconds * 1000);
    } catch {
      // not JSON
    }
  }
  return out;
}

/** The real operator in this process, logging (info) into `logs`, with `operator.workers` set. */
async function startBenchOperator(
  bed: Testbed,
  namespaces: string[],
  logs: string[],
): Promise<RunningOperator> {
  const config = await loadConfig(
    {
      text: `
operator:
  namespace: ${OPERATOR_NAMESPACE}
  workers: ${WORKERS}
  healthAddress: "127.0.0.1:0"
  metricsAddress: "0"
  leaderElection: {enabled: false}
backends:
  - name: vault-pki
    type: vault-pki
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ${JSON.stringify(namespaces)}
    rateLimit: {qps: 2000, burst: 2000}
api: {address: "0"}
`,
    },
    { env: {} },
  );
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({
    level: 'info',
    transports: [new winston.transports.Stream({ stream: sink })],
  });
  return startOperator({ config, kubeConfig: bed.kubeConfig(), logger });
}

async function vaultsync(
  bed: Testbed,
  client: KubeClient,
  ns: string,
  count: number,
  key: Record<string, unknown>,
  measureMemory: boolean,
): Promise<Figures> {
  await createCertificates(client, ns, count, key);
  const logs: string[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const startLoop = monitorEventLoopDelay({ resolution: 10 });
  const start = performance.now();
  startLoop.enable();
  const operator = await startBenchOperator(bed, [ns], logs);
  startLoop.disable();
  loop.enable();
  try {
    await eventually(
      `${count} certificates Ready`,
      async () => ((await readyCount(client, ns)) === count ? true : undefined),
      900_000,
      500,
    );
    const seconds = (performance.now() - start) / 1000;
    loop.disable();
    const latencies = issuanceLatencies(logs);
    const figures: Figures = {
      certificates: count,
      seconds,
      latenciesMs: latencies,
      loop: loopFigures(loop),
      startLoopMaxMs: startLoop.max / 1e6,
    };
    if (measureMemory) {
      // What the operator keeps per certificate (caches, bookkeeping): heap with every
      // certificate and its Secret cached, minus the heap once they are deleted.
      logs.length = 0;
      await new Promise((r) => setTimeout(r, 2000));
      const full = await heapAfterGc();
      await client.rest.request({
        method: 'DELETE',
        path: `/apis/vaultsync.io/v1alpha1/namespaces/${ns}/vaultcertificates`,
      });
      await client.rest.request({
        method: 'DELETE',
        path: `/api/v1/namespaces/${ns}/secrets`,
        query: { labelSelector: 'vaultsync.io/vaultcertificate' },
      });
      await eventually(
        'caches emptied',
        async () => {
          const text = await (await fetch(`http://${operator.healthAddress}/metrics`)).text();
          return /vaultsync_resource_ready\{kind="VaultCertificate"/.test(text) ? undefined : true;
        },
        120_000,
        500,
      );
      await new Promise((r) => setTimeout(r, 3000));
      logs.length = 0;
      const empty = await heapAfterGc();
      figures.memoryPerCertificateKiB = (full.heap - empty.heap) / count / 1024;
      figures.rssPerCertificateKiB = (full.rss - empty.rss) / count / 1024;
    }
    return figures;
  } finally {
    loop.disable();
    await operator.stop();
  }
}

function row(name: string, f: Figures): string {
  const rate = f.certificates / f.seconds;
  const cells = [
    name.padEnd(30),
    `${f.seconds.toFixed(1)} s`.padStart(9),
    `${rate.toFixed(1)}/s`.padStart(9),
    `${quantile(f.latenciesMs, 0.5).toFixed(1)} ms`.padStart(10),
    `${quantile(f.latenciesMs, 0.99).toFixed(1)} ms`.padStart(10),
    `${f.loop.p99.toFixed(1)} / ${f.loop.max.toFixed(1)} ms`.padStart(18),
    f.memoryPerCertificateKiB === undefined
      ? ''
      : `${f.memoryPerCertificateKiB.toFixed(1)} KiB (rss ${f.rssPerCertificateKiB!.toFixed(1)})`.padStart(
          24,
        ),
  ];
  return cells.join(' ');
}

/**
 * The certificates scenario of make bench (bench/run.ts) on its bed: the plain loop, vaultsync,
 * the plain loop again (the sandwich), then the RSA-2048 run. Goals: ≥ 0.8× the plain loop's
 * rate, p99 ≤ 100 ms, event-loop p99 ≤ 20 ms during the burst (ECDSA and RSA alike).
 */
export async function certificatesScenario(bed: Testbed, series: Series): Promise<ScenarioResult> {
  const loadStart = loadNow();
  const client = createKubeClient(bed.kubeConfig());
  const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
  for (const ns of ['bench-plain', 'bench-plain-2', 'bench-certs', 'bench-rsa', OPERATOR_NAMESPACE])
    await ensureNamespace(bed.kubeConfig(), ns);
  const first = await plainLoop(client, bao, 'bench-plain');
  const ours = await vaultsync(bed, client, 'bench-certs', N, { algorithm: 'ECDSA', size: 256 }, true);
  const second = await plainLoop(client, bao, 'bench-plain-2');
  const rsa =
    RSA > 0
      ? await vaultsync(bed, client, 'bench-rsa', RSA, { algorithm: 'RSA', size: 2048 }, false)
      : undefined;
  for (const f of [first, ours, second, rsa])
    if (f)
      console.log(
        row(f === ours ? 'vaultsync (ECDSA)' : f === rsa ? 'vaultsync (RSA-2048)' : 'plain loop (ECDSA)', f),
      );
  series.latenciesMs['certificates: plain loop'] = [...first.latenciesMs, ...second.latenciesMs];
  series.latenciesMs['certificates: vaultsync'] = ours.latenciesMs;
  const verdict = sandwich(first.seconds, second.seconds, ours.seconds);
  const rateRatio = verdict.baselineSeconds! / ours.seconds;
  const p99 = quantile(ours.latenciesMs, 0.99);
  return {
    scenario: 'certificates',
    resources: N,
    uniquePaths: 1,
    ...verdict,
    backendReads: null,
    apiserverRequests: null,
    apiserverMutations: null,
    heapBytesPerResource:
      ours.memoryPerCertificateKiB === undefined ? null : Math.round(ours.memoryPerCertificateKiB * 1024),
    loadStart,
    loadEnd: loadNow(),
    goal: "≥ 0.8× the plain loop's rate, p99 ≤ 100 ms, event-loop p99 ≤ 20 ms (ECDSA and RSA)",
    goalMet: rateRatio >= 0.8 && p99 <= 100 && ours.loop.p99 <= 20 && (rsa?.loop.p99 ?? 0) <= 20,
    rateRatio: round(rateRatio),
    certificatesPerSecond: round(N / ours.seconds, 1),
    plainCertificatesPerSecond: round(N / verdict.baselineSeconds!, 1),
    p50Ms: round(quantile(ours.latenciesMs, 0.5), 1),
    p99Ms: round(p99, 1),
    eventLoopP99Ms: round(ours.loop.p99, 1),
    rsaCertificates: rsa ? RSA : 0,
    rsaEventLoopP99Ms: rsa ? round(rsa.loop.p99, 1) : null,
    note: 'operator in the bench process with a root token (not the shipped child process); p50/p99 from its issuance log',
  };
}

// node bench/certificates.ts: the scenario alone, on a bed of its own.
if (import.meta.main) {
  const dir = mkdtempSync(join(tmpdir(), 'vaultsync-bench-certs-'));
  const bed = await startTestbed({
    dir,
    workloads: false,
    aws: false,
    log: (l) => console.log(`[bench] ${l}`),
  });
  try {
    await installCrds(bed.kubeConfig());
    console.log(
      `[bench] ${N} ECDSA P-256 certificates through pki/sign/svc; plain loop concurrency ${CONCURRENCY}, operator workers ${WORKERS}`,
    );
    console.log(
      JSON.stringify(await certificatesScenario(bed, { completions: {}, latenciesMs: {} }), null, 2),
    );
  } finally {
    await bed.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
