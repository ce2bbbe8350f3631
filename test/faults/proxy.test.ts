// Network faults between the operator and what it talks to: the operator as shipped (chart
// identity, least-privilege OpenBao) reaches OpenBao through one loopback fault proxy and the
// kube-apiserver through another (test/support/fault-proxy.ts). VaultSecrets sync canary values;
// in the middle of each fault the backend's values change. Every Secret version the apiserver
// stores is compared with the backend's history (no version may hold anything else, be blanked
// or go back to an older value), and the time from the end of the fault until every Secret holds
// the new values and every VaultSecret is Ready again is measured. The proxies sit between the
// operator and the shared bed only, so the bed stays healthy for later test files.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { type Socket, connect, createServer } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import winston from 'winston';
import type { VaultSecret } from '../../src/apis/v1alpha1/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { type KubeClient, createKubeClient, createObject } from '../../src/kube/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { type RunningOperator, startOperator } from '../../src/operator.ts';
import { ChangeRecorder } from '../support/api-writes.ts';
import { installCrds } from '../support/crds.ts';
import { FaultProxy, type FaultMode, type ProxyStats, statsSince } from '../support/fault-proxy.ts';
import { ensureNamespace, shippedOperatorConfig } from '../support/operator.ts';
import { readyVaultSecrets } from '../support/ready.ts';
import { forbiddenLines } from '../support/shipped.ts';
import { testbed, type Testbed } from '../support/testbed.ts';
import { baoApi } from '../support/testbed/openbao.ts';
import { delay, eventually } from '../support/wait.ts';
import { BackendTruth, describeWrongWrite, wrongSecretWrites } from './backend-truth.ts';
import { faultsMode, reportFault } from './report.ts';

const ns = 'team-netfault';
const API = 'vaultsync.io/v1alpha1';
const full = faultsMode() === 'full';
const COUNT = full ? 20 : 5;
const FAULT_MS = full ? 30_000 : 10_000;

/** The vault backend's circuit breaker as the operator's metrics say: 0 closed, 1 half-open, 2 open. */
function circuitState(metrics: string): number {
  return Number(/^vaultsync_backend_circuit_state\{backend="vault"\} (\S+)$/m.exec(metrics)?.[1] ?? 0);
}

describe('faults: the network between the operator and OpenBao / the kube-apiserver', function () {
  this.timeout(full ? 900_000 : 240_000);
  let bed: Testbed;
  let admin: KubeClient;
  let baoProxy: FaultProxy;
  let kubeProxy: FaultProxy;
  let operator: RunningOperator | undefined;
  const logs: string[] = [];
  /** Every value written to OpenBao, per Secret, oldest first. */
  const truth = new BackendTruth();
  const bao = () => baoApi({ addr: bed.baoAddr, token: bed.baoToken });

  /** Writes a fresh canary for every Secret to OpenBao (directly, not through the proxy). */
  async function changeBackend(): Promise<void> {
    for (let i = 0; i < COUNT; i++) {
      const name = `app-${i}`;
      const data = truth.record(name, { v: `canary-${name}-${randomBytes(6).toString('hex')}` });
      await bao()('POST', `secret/data/${ns}/${name}`, { data });
    }
  }

  /** True when every Secret holds the backend's latest value and every VaultSecret is Ready. */
  async function converged(): Promise<boolean> {
    const list = async <T>(path: string) =>
      (await admin.rest.request<{ items: T[] }>({ method: 'GET', path })).items;
    const secrets = new Map(
      (await list<k8s.V1Secret>(`/api/v1/namespaces/${ns}/secrets`)).map((s) => [s.metadata!.name!, s]),
    );
    if ((await readyVaultSecrets(admin, ns)) !== COUNT) return false;
    for (const name of truth.secrets) {
      const data = secrets.get(name)?.data?.v;
      if (!data || Buffer.from(data, 'base64').toString('utf8') !== truth.latest(name)?.v) return false;
    }
    return true;
  }

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    admin = createKubeClient(bed.kubeConfig());
    await installCrds(bed.kubeConfig());
    await ensureNamespace(bed.kubeConfig(), ns);
    const apiserver = bed.kubeConfig().getCurrentCluster()!.server;
    baoProxy = await FaultProxy.start(bed.baoAddr, { httpRequests: true }); // OpenBao speaks plain HTTP here
    kubeProxy = await FaultProxy.start(apiserver);

    // The operator as shipped, its backend address and its kubeconfig's server both proxied.
    const shipped = await shippedOperatorConfig(bed, {
      config: `
backends:
  - name: vault
    type: vault
    address: ${baoProxy.url(bed.baoAddr)}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ["${ns}"]
    allowedPaths: ["{namespace}/**"]
`,
    });
    const kc = shipped.kubeConfig;
    const cluster = kc.getCurrentCluster()!;
    const proxied = new k8s.KubeConfig();
    proxied.loadFromOptions({
      clusters: [{ ...cluster, name: 'proxied', server: kubeProxy.url(apiserver) }],
      users: [kc.getCurrentUser()!],
      contexts: [{ name: 'proxied', cluster: 'proxied', user: kc.getCurrentUser()!.name }],
      currentContext: 'proxied',
    });
    const sink = new Writable({ write: (c, _e, done) => (logs.push(String(c)), done()) });
    operator = await startOperator({
      config: await loadConfig({ text: shipped.configText }, { env: {} }),
      kubeConfig: proxied,
      logger: createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream: sink })] }),
    });

    await changeBackend();
    for (let i = 0; i < COUNT; i++) {
      await createObject<VaultSecret>(admin, {
        apiVersion: API,
        kind: 'VaultSecret',
        metadata: { name: `app-${i}`, namespace: ns },
        spec: {
          backend: 'vault',
          refreshInterval: '10s',
          data: [{ secretKey: 'v', remoteRef: { path: `${ns}/app-${i}`, property: 'v' } }],
        },
      });
    }
    await eventually(
      'every VaultSecret synced',
      async () => ((await converged()) ? true : undefined),
      60_000,
      250,
    );
  });

  after(async function () {
    this.timeout(60_000);
    baoProxy?.set({ kind: 'pass' });
    kubeProxy?.set({ kind: 'pass' });
    await operator?.stop();
    await Promise.all([baoProxy?.close(), kubeProxy?.close()]);
    await admin?.rest.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}` }).catch(() => undefined);
    const refused = forbiddenLines(logs);
    assert.deepEqual(refused, [], 'the operator (chart RBAC, least-privilege OpenBao) was refused nothing');
  });

  /**
   * Puts both proxies in `mode` for the fault's length, changes every backend value halfway,
   * then measures: wrong Secret writes (from a watch of every stored version), the time until
   * everything is correct again, and what the operator sent meanwhile.
   */
  async function faultCase(fault: string, mode: FaultMode, proxies: readonly FaultProxy[]) {
    const recorder = new ChangeRecorder(
      bed.kubeConfig(),
      [{ resource: 'secrets', path: `/api/v1/namespaces/${ns}/secrets` }],
      new Set([ns]),
    );
    await recorder.start();
    const metricsUrl = `http://${operator!.healthAddress}/metrics`;
    const proxyBefore: [ProxyStats, ProxyStats] = [baoProxy.stats(), kubeProxy.stats()];

    for (const p of proxies) p.set(mode);
    let ended: number;
    try {
      await delay(FAULT_MS / 2);
      await changeBackend();
      await delay(FAULT_MS / 2);
    } finally {
      for (const p of proxies) p.set({ kind: 'pass' });
      ended = Date.now();
    }
    const circuitAtEnd = circuitState(await (await fetch(metricsUrl)).text());
    const [baoDuring, kubeDuring] = [
      statsSince(proxyBefore[0], baoProxy.stats()),
      statsSince(proxyBefore[1], kubeProxy.stats()),
    ];

    await eventually(
      'every Secret correct and Ready again',
      async () => ((await converged()) ? true : undefined),
      full ? 180_000 : 90_000,
      250,
    );
    const recoverySeconds = (Date.now() - ended) / 1000;
    await delay(1000); // versions still in flight on the watch
    recorder.stop();
    recorder.assertComplete();
    const wrong = wrongSecretWrites(recorder.changes, truth).map(describeWrongWrite);
    reportFault({
      fault,
      faultSeconds: FAULT_MS / 1000,
      wrongSecretWrites: wrong.length,
      recoverySeconds,
      requestsDuringFault: {
        openbao: baoDuring.httpRequests,
        'openbao connections': baoDuring.connections,
        'apiserver connections': kubeDuring.connections,
      },
      notes:
        `${COUNT} VaultSecrets, values changed halfway; ${recorder.changes.length} Secret writes seen; ` +
        `${baoDuring.resets + kubeDuring.resets} connections reset; circuit breaker ` +
        `${['closed', 'half-open', 'open'][circuitAtEnd] ?? circuitAtEnd} when the fault ended`,
    });
    assert.deepEqual(wrong, [], 'no Secret held anything but a backend value, in order');
    assert.ok(
      recorder.changes.length >= COUNT,
      'the new values were written (the wrong-write check saw them)',
    );
  }

  it('the fault proxy: passes, delays, resets and black-holes a connection, and counts it', async () => {
    const echo = createServer((s) => {
      s.on('error', () => {}); // the proxy resets it
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const proxy = await FaultProxy.start(`127.0.0.1:${(echo.address() as { port: number }).port}`);
    const roundTrip = (sock: Socket, text: string) =>
      new Promise<number>((resolve) => {
        const start = Date.now();
        sock.once('data', () => resolve(Date.now() - start));
        sock.write(text);
      });
    try {
      const sock = connect(proxy.port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      assert.ok((await roundTrip(sock, 'a')) < 150, 'pass');
      proxy.set({ kind: 'latency', ms: 200 });
      assert.ok((await roundTrip(sock, 'b')) >= 400, 'latency both ways');
      proxy.set({ kind: 'blackhole' });
      let arrived = false;
      const held = roundTrip(sock, 'c').then((ms) => ((arrived = true), ms));
      await delay(500);
      assert.equal(arrived, false, 'nothing moves in a black hole');
      proxy.set({ kind: 'pass' });
      assert.ok((await held) >= 500, 'held bytes delivered once it ends');
      const closed = new Promise<string>((r) =>
        sock.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? '')),
      );
      proxy.set({ kind: 'reset' });
      assert.equal(await closed, 'ECONNRESET');
      const fresh = connect(proxy.port, '127.0.0.1');
      assert.equal(
        await new Promise<string>((r) => fresh.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? ''))),
        'ECONNRESET',
      );
      const s = proxy.stats();
      assert.equal(s.connections, 2);
      assert.equal(s.resets, 2);
      assert.equal(s.bytesUp, 3);
      assert.equal(s.bytesDown, 3);
      assert.equal(s.httpRequests, 0, 'not counted unless asked');
      const http = await FaultProxy.start(`127.0.0.1:${(echo.address() as { port: number }).port}`, {
        httpRequests: true,
      });
      const c = connect(http.port, '127.0.0.1');
      await roundTrip(
        c,
        'GET /v1/a HTTP/1.1\r\nHost: x\r\n\r\nPOST /v1/b HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}',
      );
      c.destroy();
      assert.equal(http.stats().httpRequests, 2);
      await http.close();
    } finally {
      await proxy.close();
      echo.close();
    }
  });

  it(`latency: 200 ms added each way on OpenBao and the apiserver for ${FAULT_MS / 1000} s`, async () => {
    await faultCase(
      'network latency +200 ms each way (OpenBao and apiserver)',
      { kind: 'latency', ms: 200 },
      [baoProxy, kubeProxy],
    );
  });

  it(`resets: every connection to OpenBao and the apiserver reset for ${FAULT_MS / 1000} s`, async () => {
    await faultCase('every connection reset (OpenBao and apiserver)', { kind: 'reset' }, [
      baoProxy,
      kubeProxy,
    ]);
  });

  it(`black hole: OpenBao and the apiserver unreachable (no answer) for ${FAULT_MS / 1000} s`, async () => {
    await faultCase('black hole (OpenBao and apiserver)', { kind: 'blackhole' }, [baoProxy, kubeProxy]);
  });

  if (full) {
    it('black hole on OpenBao alone', async () => {
      await faultCase('black hole (OpenBao only)', { kind: 'blackhole' }, [baoProxy]);
    });
    it('black hole on the apiserver alone', async () => {
      await faultCase('black hole (apiserver only)', { kind: 'blackhole' }, [kubeProxy]);
    });
  }
});
