// A backend that stops answering (OpenBao frozen with SIGSTOP for 60 s): Secrets stay as they
// were, the operator backs off instead of hammering, and everything is Ready again soon
// after the backend comes back.
import assert from 'node:assert/strict';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject } from '../src/kube/index.ts';
import { installCrds } from './support/crds.ts';
import { ensureNamespace, startTestOperator } from './support/operator.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { delay, eventually } from './support/wait.ts';

const ns = 'team-outage';
const API = 'vaultsync.io/v1alpha1';
const count = 5;
const outageMs = 60_000;

/** Calls that reached OpenBao: a call refused by the open circuit breaker sends nothing. */
function backendRequests(metrics: string): number {
  let total = 0;
  for (const m of metrics.matchAll(/vaultsync_backend_requests_total\{([^}]*)\} (\d+)/g)) {
    const labels = m[1] ?? '';
    if (labels.includes('backend="vault"') && !labels.includes('outcome="CircuitOpen"'))
      total += Number(m[2]);
  }
  return total;
}

describe('backend outage', function () {
  this.timeout(240_000);
  let bed: Testbed;
  let client: KubeClient;

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    client = createKubeClient(bed.kubeConfig());
    await installCrds(bed.kubeConfig());
    await ensureNamespace(bed.kubeConfig(), ns);
    await baoApi({ addr: bed.baoAddr, token: bed.baoToken })('POST', `secret/data/${ns}/app`, {
      data: { v: 'kept' },
    });
  });

  it('keeps every Secret through 60 s of a frozen backend, bounded retries, Ready again after', async () => {
    const operator = await startTestOperator(bed, {
      config: `
backends:
  - name: vault
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ["team-*"]
    timeout: 2s
    circuitBreaker: {failureThreshold: 3, halfOpenAfter: 5s}
`,
    });
    const baoPid = JSON.parse((await import('node:fs')).readFileSync(`${bed.dir}/pids.json`, 'utf8')).find(
      (p: { name: string }) => p.name === 'openbao',
    ).pid as number;
    const list = async <T>(path: string) =>
      (await client.rest.request<{ items: T[] }>({ method: 'GET', path })).items;
    const secretsState = async () =>
      JSON.stringify(
        (await list<V1Secret>(`/api/v1/namespaces/${ns}/secrets`)).map((s) => [
          s.metadata?.name,
          s.metadata?.resourceVersion,
          s.data,
        ]),
      );
    const readyCount = async () =>
      (await list<VaultSecret>(`/apis/${API}/namespaces/${ns}/vaultsecrets`)).filter((vs) =>
        vs.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ).length;
    try {
      for (let i = 0; i < count; i++) {
        await createObject<VaultSecret>(client, {
          apiVersion: API,
          kind: 'VaultSecret',
          metadata: { name: `app-${i}`, namespace: ns },
          spec: {
            backend: 'vault',
            refreshInterval: '10s',
            data: [{ secretKey: 'v', remoteRef: { path: `${ns}/app`, property: 'v' } }],
          },
        });
      }
      await eventually('all Ready', async () => ((await readyCount()) === count ? true : undefined), 30_000);
      const before = await secretsState();
      const metricsUrl = `http://${operator.healthAddress}/metrics`;
      const requestsBefore = backendRequests(await (await fetch(metricsUrl)).text());

      process.kill(baoPid, 'SIGSTOP');
      try {
        await delay(outageMs);
      } finally {
        process.kill(baoPid, 'SIGCONT');
      }
      const metricsAfter = await (await fetch(metricsUrl)).text();
      const requestsDuring = backendRequests(metricsAfter) - requestsBefore;
      assert.equal(await secretsState(), before, 'no Secret changed or deleted during the outage');
      assert.ok((await readyCount()) < count, 'the outage is reported (Ready=False)');
      // Without backoff, 5 resources refreshing every 10 s with retries would send hundreds.
      const refused = /outcome="CircuitOpen"\} (\d+)/.exec(metricsAfter)?.[1] ?? '0';
      console.log(
        `      during the 60 s outage: ${requestsDuring} requests sent, ${refused} refused by the open circuit`,
      );
      assert.ok(requestsDuring <= 30, `requests during the outage bounded: ${requestsDuring}`);

      const resumed = Date.now();
      await eventually(
        'all Ready again',
        async () => ((await readyCount()) === count ? true : undefined),
        60_000,
        250,
      );
      console.log(
        `      all Ready ${((Date.now() - resumed) / 1000).toFixed(1)} s after the backend resumed`,
      );
      assert.equal(await secretsState(), before, 'same data after recovery: no rewrite');
    } finally {
      await operator.stop();
    }
  });
});
