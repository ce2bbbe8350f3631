// MACs bound to their object (issue 12): statuses written by the v1 scheme (one global key over
// the data), and later by a key being rotated out, are rewritten once by the next operator — and
// that operator writes no Secret and restarts no workload. Runs its own operator namespace (its
// own HMAC key Secret, so the test knows the key and can write v1 MACs as the old release did).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import winston from 'winston';
import { stringify } from 'yaml';
import type { VaultCertificate, VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { MAC_KEYS } from '../src/controllers/vaultcertificate/secret.ts';
import {
  type KubeClient,
  createKubeClient,
  createObject,
  getObject,
  mergePatch,
  patchStatus,
} from '../src/kube/index.ts';
import { createLogger } from '../src/observability/logger.ts';
import { type RunningOperator, startOperator } from '../src/operator.ts';
import { secretDataMac } from '../src/secrets/hmac.ts';
import { Sensitive } from '../src/secrets/sensitive.ts';
import { installCrds } from './support/crds.ts';
import { ensureNamespace } from './support/operator.ts';
import { forbiddenLines, installShippedIdentity } from './support/shipped.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { delay, eventually } from './support/wait.ts';

const API = 'vaultsync.io/v1alpha1';
const run = randomBytes(3).toString('hex');
const OP_NS = `vaultsync-macs-${run}`;
const NS_A = `macs-a-${run}`;
const NS_B = `macs-b-${run}`;
/** The same value in both namespaces. */
const VALUE = `same-${randomBytes(8).toString('hex')}`;
const TOLERATIONS = [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }];

describe('MAC upgrade and key rotation: statuses rewritten once, no Secret written, no rollout', function () {
  this.timeout(240_000);
  let bed: Testbed;
  let client: KubeClient;
  let operator: RunningOperator | undefined;
  const key1 = randomBytes(32);
  const key2 = randomBytes(32);

  const vaultSecret = (ns: string) =>
    getObject<VaultSecret>(client, { apiVersion: API, kind: 'VaultSecret', namespace: ns, name: 'db' });
  const certificate = () =>
    getObject<VaultCertificate>(client, {
      apiVersion: API,
      kind: 'VaultCertificate',
      namespace: NS_A,
      name: 'web',
    });
  const secret = (ns: string, name: string) =>
    getObject<V1Secret>(client, { apiVersion: 'v1', kind: 'Secret', namespace: ns, name });
  const deployment = () =>
    getObject<V1Deployment>(client, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: NS_A,
      name: 'app',
    });
  const ready = (obj: { status?: { conditions?: { type: string; status: string }[] } } | undefined) =>
    obj?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

  /** The operator as shipped: the chart's ServiceAccount and RBAC, its rendered config. */
  async function start(): Promise<RunningOperator> {
    const shipped = await installShippedIdentity(bed, 'vaultsync-macs', OP_NS, {
      config: {
        operator: { leaderElection: { enabled: false } },
        backends: [
          {
            name: 'memory',
            type: 'memory',
            allowedNamespaces: [`macs-*-${run}`],
            data: { [`${NS_A}/db`]: { password: VALUE }, [`${NS_B}/db`]: { password: VALUE } },
          },
        ],
        issuers: [{ name: 'ca', type: 'local-ca', allowedNamespaces: [`macs-*-${run}`] }],
      },
      api: { enabled: false },
      audit: { sink: 'off' },
    });
    const config = await loadConfig(
      {
        text: stringify({
          ...shipped.config,
          operator: { ...shipped.config.operator, healthAddress: '127.0.0.1:0', metricsAddress: '0' },
        }),
      },
      { env: { POD_NAMESPACE: OP_NS } },
    );
    const logs: string[] = [];
    const logger = createLogger({
      level: 'warn',
      transports: [
        new winston.transports.Stream({
          stream: new Writable({
            write: (chunk, _e, done) => {
              logs.push(String(chunk));
              done();
            },
          }),
        }),
      ],
    });
    const operator = await startOperator({
      config,
      kubeConfig: shipped.kubeConfig,
      logger,
      identity: `macs-${run}`,
    });
    const stop = operator.stop.bind(operator);
    return Object.assign(operator, {
      async stop() {
        await stop();
        assert.deepEqual(
          forbiddenLines(logs),
          [],
          'the operator, with the chart RBAC only, was refused nothing',
        );
      },
    });
  }
  async function setKeys(data: Record<string, Buffer>) {
    await mergePatch(
      client,
      { apiVersion: 'v1', kind: 'Secret', namespace: OP_NS, name: 'vaultsync-hmac-key' },
      { data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('base64')])) },
    );
  }

  type WatchedObject = {
    metadata?: { name?: string; generation?: number; annotations?: Record<string, string> };
  };

  /** A Deployment as its writers change it: generation and annotations, less the controller's revision. */
  const deploymentShape = (o: WatchedObject) =>
    JSON.stringify([
      o.metadata?.generation,
      Object.entries(o.metadata?.annotations ?? {}).filter(
        ([k]) => !k.startsWith('deployment.kubernetes.io/'),
      ),
    ]);

  /** MODIFIED events per object (kind/ns/name) from a watch on each collection, until stopped. */
  async function countWrites() {
    const writes = new Map<string, number>();
    const lastSeen = new Map<string, string>();
    const watch = new k8s.Watch(bed.kubeConfig());
    const stops: AbortController[] = [];
    for (const ns of [NS_A, NS_B]) {
      for (const path of [
        `/apis/${API}/namespaces/${ns}/vaultsecrets`,
        `/apis/${API}/namespaces/${ns}/vaultcertificates`,
        `/api/v1/namespaces/${ns}/secrets`,
        `/apis/apps/v1/namespaces/${ns}/deployments`,
      ]) {
        const list = await client.rest.request<{
          metadata?: { resourceVersion?: string };
          items?: WatchedObject[];
        }>({
          method: 'GET',
          path,
        });
        for (const item of list.items ?? []) {
          const k = `${path.split('/').at(-1)}/${ns}/${item.metadata?.name}`;
          lastSeen.set(k, deploymentShape(item));
        }
        stops.push(
          await watch.watch(
            path,
            { resourceVersion: list.metadata?.resourceVersion },
            (type, obj: WatchedObject) => {
              if (type !== 'MODIFIED') return;
              const k = `${path.split('/').at(-1)}/${ns}/${obj.metadata?.name}`;
              // kube-controller-manager writes a Deployment's status after any template change
              // (the test's own included): only a new generation or new annotations are writes here.
              if (k.startsWith('deployments/')) {
                const seen = deploymentShape(obj);
                if (lastSeen.get(k) === seen) return;
                lastSeen.set(k, seen);
              }
              writes.set(k, (writes.get(k) ?? 0) + 1);
            },
            () => undefined,
          ),
        );
      }
    }
    return {
      writes,
      of: (prefix: string) =>
        [...writes].filter(([k]) => k.startsWith(prefix)).reduce((n, [, count]) => n + count, 0),
      stop: () => stops.forEach((s) => s.abort()),
    };
  }

  /** The certificate material of the VaultCertificate's Secret, as the MAC covers it. */
  async function material(): Promise<Map<string, Buffer>> {
    const s = await secret(NS_A, 'web-tls');
    return new Map(
      MAC_KEYS.filter((k) => s?.data?.[k] !== undefined).map((k) => [k, Buffer.from(s!.data![k]!, 'base64')]),
    );
  }

  before(async function () {
    bed = await testbed();
    client = createKubeClient(bed.kubeConfig());
    await installCrds(bed.kubeConfig());
    for (const ns of [OP_NS, NS_A, NS_B]) await ensureNamespace(bed.kubeConfig(), ns);
    await createObject<V1Secret>(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'vaultsync-hmac-key', namespace: OP_NS },
      data: { key: key1.toString('base64') },
    });
    await createObject<V1Deployment>(client, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app', namespace: NS_A, annotations: { 'vaultsync.io/reload': 'true' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'app' } },
        template: {
          metadata: { labels: { app: 'app' } },
          spec: {
            containers: [
              { name: 'app', image: 'example.invalid/app:1', envFrom: [{ secretRef: { name: 'db' } }] },
            ],
            tolerations: TOLERATIONS,
          },
        },
      },
    });
    for (const ns of [NS_A, NS_B]) {
      await createObject(client, {
        apiVersion: API,
        kind: 'VaultSecret',
        metadata: { name: 'db', namespace: ns },
        spec: { backend: 'memory', dataFrom: [{ extract: { path: `${ns}/db` } }] },
      });
    }
    await createObject(client, {
      apiVersion: API,
      kind: 'VaultCertificate',
      metadata: { name: 'web', namespace: NS_A },
      spec: {
        issuer: { backend: 'ca' },
        secretName: 'web-tls',
        dnsNames: [`web.${NS_A}.svc`],
        rolloutRestartTargets: [{ kind: 'Deployment', name: 'app' }],
      },
    });
  });

  after(async function () {
    await operator?.stop();
    const core = bed?.kubeConfig().makeApiClient(k8s.CoreV1Api);
    for (const ns of [NS_A, NS_B, OP_NS]) await core?.deleteNamespace({ name: ns }).catch(() => undefined);
  });

  it('identical values in two namespaces have unrelated MACs', async () => {
    operator = await start();
    const [a, b] = await Promise.all(
      [NS_A, NS_B].map((ns) =>
        eventually(`VaultSecret ${ns}/db Ready`, async () => {
          const vs = await vaultSecret(ns);
          return ready(vs) ? vs : undefined;
        }),
      ),
    );
    await eventually(
      'VaultCertificate Ready',
      async () => (ready(await certificate()) ? true : undefined),
      60_000,
    );
    const macA = a!.status!.secretMAC!;
    const macB = b!.status!.secretMAC!;
    console.log(`      status.secretMAC ${NS_A}: ${macA}\n      status.secretMAC ${NS_B}: ${macB}`);
    assert.match(macA, /^hmac-sha256:v2:/);
    assert.notEqual(macA, macB);
    // What the v1 scheme wrote for both: one value, equal in every namespace.
    const v1 = secretDataMac(new Sensitive(key1), { password: Buffer.from(VALUE) });
    assert.notEqual(macA, v1);
    await operator.stop();
    operator = undefined;
  });

  it('an operator that wrote v1 MACs is upgraded: each status rewritten once, no Secret, no rollout', async () => {
    // The state the previous release left: v1 MACs in status, a v1 digest on the pod template.
    const v1 = secretDataMac(new Sensitive(key1), { password: Buffer.from(VALUE) });
    for (const ns of [NS_A, NS_B]) {
      await patchStatus(
        client,
        { apiVersion: API, kind: 'VaultSecret', namespace: ns, name: 'db' },
        { secretMAC: v1 },
      );
    }
    const certV1 = secretDataMac(new Sensitive(key1), await material());
    await patchStatus(
      client,
      { apiVersion: API, kind: 'VaultCertificate', namespace: NS_A, name: 'web' },
      { certificateMAC: certV1 },
    );
    await mergePatch(
      client,
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS_A, name: 'app' },
      {
        spec: {
          template: { metadata: { annotations: { 'vaultsync.io/secrets-hmac': `db=${v1.slice(15, 31)}` } } },
        },
      },
    );
    const serial = (await certificate())?.status?.serialNumber;
    const generation = (await deployment())?.metadata?.generation;
    const secrets = await Promise.all([secret(NS_A, 'db'), secret(NS_B, 'db'), secret(NS_A, 'web-tls')]);

    const watch = await countWrites();
    try {
      operator = await start();
      await eventually('statuses rewritten to v2', async () => {
        const [a, b, c] = await Promise.all([vaultSecret(NS_A), vaultSecret(NS_B), certificate()]);
        return [a?.status?.secretMAC, b?.status?.secretMAC, c?.status?.certificateMAC].every((m) =>
          m?.startsWith('hmac-sha256:v2:'),
        )
          ? true
          : undefined;
      });
      await delay(4000); // anything else it would write, it writes now
    } finally {
      watch.stop();
    }
    console.log(`      writes after the upgrade: ${JSON.stringify(Object.fromEntries(watch.writes))}`);
    assert.equal(watch.of('vaultsecrets/'), 2, 'each VaultSecret status rewritten exactly once');
    assert.ok(watch.of('vaultcertificates/') <= 1, 'the VaultCertificate status rewritten at most once');
    assert.equal(watch.of('secrets/'), 0, 'no Secret written');
    assert.equal(watch.of('deployments/'), 0, 'no Deployment written (no rollout)');
    assert.equal((await certificate())?.status?.serialNumber, serial, 'no certificate re-issued');
    assert.equal((await deployment())?.metadata?.generation, generation);
    const after = await Promise.all([secret(NS_A, 'db'), secret(NS_B, 'db'), secret(NS_A, 'web-tls')]);
    assert.deepEqual(
      after.map((s) => s?.metadata?.resourceVersion),
      secrets.map((s) => s?.metadata?.resourceVersion),
    );
    await operator.stop();
    operator = undefined;
  });

  it('a key rotation (new key, old one as previous) rewrites each status once, no Secret, no rollout; a restart then writes nothing', async () => {
    const before = await Promise.all([vaultSecret(NS_A), vaultSecret(NS_B), certificate()]);
    await setKeys({ key: key2, previous: key1 });
    const watch = await countWrites();
    try {
      operator = await start();
      await eventually('statuses rewritten with the new key', async () => {
        const [a, b, c] = await Promise.all([vaultSecret(NS_A), vaultSecret(NS_B), certificate()]);
        return a?.status?.secretMAC !== before[0]?.status?.secretMAC &&
          b?.status?.secretMAC !== before[1]?.status?.secretMAC &&
          c?.status?.certificateMAC !== (before[2] as VaultCertificate | undefined)?.status?.certificateMAC
          ? true
          : undefined;
      });
      await delay(4000);
      await operator.stop();
      operator = undefined;
      console.log(`      writes after the key rotation: ${JSON.stringify(Object.fromEntries(watch.writes))}`);
      assert.equal(watch.of('vaultsecrets/'), 2, 'each VaultSecret status rewritten exactly once');
      assert.equal(watch.of('vaultcertificates/'), 1, 'the VaultCertificate status rewritten once');
      assert.equal(watch.of('secrets/'), 0, 'no Secret written');
      assert.equal(watch.of('deployments/'), 0, 'no rollout');
      // The rotation is done: previous goes, and a restart with the new key alone writes nothing.
      watch.writes.clear();
      await client.rest.request({
        method: 'PATCH',
        path: `/api/v1/namespaces/${OP_NS}/secrets/vaultsync-hmac-key`,
        contentType: 'application/json-patch+json',
        body: [{ op: 'remove', path: '/data/previous' }],
      });
      operator = await start();
      await eventually('VaultSecret Ready again', async () =>
        ready(await vaultSecret(NS_A)) ? true : undefined,
      );
      await delay(4000);
      console.log(
        `      writes after a restart with the new key alone: ${JSON.stringify(Object.fromEntries(watch.writes))}`,
      );
      assert.equal(watch.writes.size, 0, 'nothing written');
    } finally {
      watch.stop();
    }
  });
});
