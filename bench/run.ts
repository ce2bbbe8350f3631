// make bench: 1,000 VaultSecrets brought to Ready by vaultsync, beside the same work done by
// a plain script (read each value from OpenBao, create each Secret) in the same run, on the
// same test bed. Prints wall time, backend reads and apiserver requests for both.
import { mkdtempSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import { createKubeClient, createObject } from '../src/kube/index.ts';
import { installCrds } from '../test/support/crds.ts';
import { ensureNamespace, startTestOperator } from '../test/support/operator.ts';
import { startTestbed } from '../test/support/testbed/index.ts';
import { baoApi } from '../test/support/testbed/openbao.ts';
import { eventually } from '../test/support/wait.ts';

const RESOURCES = Number(process.env.BENCH_RESOURCES ?? 1000);
const PATHS = 100; // ten resources per backend path, as teams share a few secrets
const CONCURRENCY = 4;

/** Total requests the apiserver has served (its own counter), for before/after deltas. */
async function apiserverRequests(kc: KubeConfig): Promise<number> {
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const text = await new Promise<string>((resolve, reject) => {
    https
      .get(`${kc.getCurrentCluster()?.server}/metrics`, opts, (res) => {
        let body = '';
        res.on('data', (d) => (body += String(d)));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
  let total = 0;
  for (const m of text.matchAll(/^apiserver_request_total\{[^}]*\} (\d+(?:\.\d+)?)/gm)) total += Number(m[1]);
  return total;
}

interface Figures {
  seconds: number;
  backendReads: number;
  apiserverRequests: number;
}

async function plainScript(kc: KubeConfig, bao: ReturnType<typeof baoApi>, ns: string): Promise<Figures> {
  const client = createKubeClient(kc);
  const limit = pLimit(CONCURRENCY);
  const apiBefore = await apiserverRequests(kc);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: RESOURCES }, (_, i) =>
      limit(async () => {
        const read = (await bao('GET', `secret/data/bench/p${i % PATHS}`)) as {
          data: { data: { v: string } };
        };
        await createObject(client, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: `s-${i}`, namespace: ns },
          stringData: { v: read.data.data.v },
        });
      }),
    ),
  );
  const seconds = (performance.now() - start) / 1000;
  return {
    seconds,
    backendReads: RESOURCES,
    apiserverRequests: (await apiserverRequests(kc)) - apiBefore - 1,
  };
}

async function vaultsync(bed: Awaited<ReturnType<typeof startTestbed>>, ns: string): Promise<Figures> {
  const kc = bed.kubeConfig();
  const client = createKubeClient(kc);
  const limit = pLimit(CONCURRENCY);
  await Promise.all(
    Array.from({ length: RESOURCES }, (_, i) =>
      limit(() =>
        createObject(client, {
          apiVersion: 'vaultsync.io/v1alpha1',
          kind: 'VaultSecret',
          metadata: { name: `vs-${i}`, namespace: ns },
          spec: {
            backend: 'vault',
            data: [{ secretKey: 'v', remoteRef: { path: `bench/p${i % PATHS}`, property: 'v' } }],
          },
        }),
      ),
    ),
  );
  const apiBefore = await apiserverRequests(kc);
  const start = performance.now();
  const operator = await startTestOperator(bed as never, {
    config: `
backends:
  - name: vault
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ["${ns}"]
    rateLimit: {qps: 1000, burst: 1000}
`,
  });
  try {
    await eventually(
      `${RESOURCES} VaultSecrets Ready`,
      async () => {
        const list = await client.rest.request<{
          items: { status?: { conditions?: { type: string; status: string }[] } }[];
        }>({
          method: 'GET',
          path: `/apis/vaultsync.io/v1alpha1/namespaces/${ns}/vaultsecrets`,
        });
        const ready = list.items.filter((v) =>
          v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === RESOURCES ? true : undefined;
      },
      600_000,
      250,
    );
    const seconds = (performance.now() - start) / 1000;
    const metrics = await (await fetch(`http://${operator.healthAddress}/metrics`)).text();
    let backendReads = 0;
    for (const m of metrics.matchAll(
      /vaultsync_backend_requests_total\{[^}]*operation="read"[^}]*outcome="success"[^}]*\} (\d+)/g,
    )) {
      backendReads += Number(m[1]);
    }
    return { seconds, backendReads, apiserverRequests: (await apiserverRequests(kc)) - apiBefore };
  } finally {
    await operator.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'vaultsync-bench-'));
const bed = await startTestbed({
  dir,
  workloads: false,
  aws: false,
  log: (l) => console.log(`[bench] ${l}`),
});
try {
  const kc = bed.kubeConfig();
  await installCrds(kc);
  const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
  for (let p = 0; p < PATHS; p++) await bao('POST', `secret/data/bench/p${p}`, { data: { v: `value-${p}` } });
  await ensureNamespace(kc, 'bench-script');
  await ensureNamespace(kc, 'bench-vaultsync');
  console.log(`[bench] ${RESOURCES} resources over ${PATHS} backend paths, concurrency ${CONCURRENCY}`);
  const script = await plainScript(kc, bao, 'bench-script');
  const ours = await vaultsync(bed, 'bench-vaultsync');
  const row = (name: string, f: Figures) =>
    `${name.padEnd(22)} ${f.seconds.toFixed(1).padStart(8)} s ${String(f.backendReads).padStart(8)} ${String(Math.round(f.apiserverRequests)).padStart(10)}`;
  console.log(
    `\n${'work'.padEnd(22)} ${'wall'.padStart(10)} ${'reads'.padStart(8)} ${'api reqs'.padStart(10)}`,
  );
  console.log(row('plain script', script));
  console.log(row('vaultsync (to Ready)', ours));
  console.log(
    `ratios vaultsync/script: time ${(ours.seconds / script.seconds).toFixed(2)}, ` +
      `backend reads ${(ours.backendReads / script.backendReads).toFixed(2)}, ` +
      `apiserver requests ${(ours.apiserverRequests / script.apiserverRequests).toFixed(2)}`,
  );
  console.log(
    'note: the script only copies values once; vaultsync also writes status, events and watches for drift.',
  );
} finally {
  await bed.stop();
}
