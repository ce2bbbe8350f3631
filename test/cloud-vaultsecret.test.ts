// VaultSecret end to end with each cloud backend: the real operator (in this process) against
// the real apiserver, reading from moto (AWS Secrets Manager) and from the bed's fakes of
// Google Secret Manager and Azure Key Vault (no emulator for those can be had on this
// machine: see test/support/testbed/gcp-secret-manager-fake.ts and azure-key-vault-fake.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { createBackends, type BackendRegistry } from '../src/backends/registry.ts';
import { kubeSecretsApi } from '../src/backends/kube-client.ts';
import type { Backend, SecretData } from '../src/backends/types.ts';
import { loadConfig } from '../src/config/index.ts';
import { type KubeClient, createKubeClient, createObject, getObject } from '../src/kube/index.ts';
import { Sensitive } from '../src/secrets/sensitive.ts';
import { installCrds } from './support/crds.ts';
import {
  OPERATOR_NAMESPACE,
  ensureNamespace,
  startTestOperator,
  type TestOperator,
} from './support/operator.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { eventually } from './support/wait.ts';
import { secretWriteLines } from './support/log-lines.ts';

const ns = 'team-cloud';
const run = randomBytes(3).toString('hex');
const canary = (backend: string, n: number) => `canary-${run}-${backend}-v${n}`;

/** The three cloud backends; `seeding`: also writable, for the test's own set-up (the operator gets read-only ones). */
function backendsYaml(bed: Testbed, opts: { seeding?: boolean } = {}): string {
  const writes = opts.seeding ? '    allowedWritePaths: ["{namespace}/**"]\n' : '';
  return `
backends:
  - name: aws
    type: aws-secrets-manager
    region: us-east-1
    endpoint: ${bed.cloud.awsEndpoint}
    tls: {insecure: true}
    auth: {static: {accessKeyIdRef: {name: aws-keys, key: id}, secretAccessKeyRef: {name: aws-keys, key: secret}}}
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
${writes}  - name: gcp
    type: gcp-secret-manager
    project: vaultsync-e2e
    endpoint: "${bed.cloud.gcpEndpoint}"
    tls: {insecure: true}
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
${writes}  - name: azure
    type: azure-key-vault
    vaultUrl: ${bed.cloud.azureVaultUrl}
    tls: {caFile: ${bed.cloud.azureCaFile}}
    auth: {emulator: {}}
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
${writes}`;
}

const BACKENDS = ['aws', 'gcp', 'azure'] as const;
type Cloud = (typeof BACKENDS)[number];

const data = (values: Record<string, string>): SecretData =>
  new Sensitive<ReadonlyMap<string, Buffer>>(
    new Map(Object.entries(values).map(([k, v]) => [k, Buffer.from(v)])),
  );

describe('VaultSecret from the cloud backends against the real apiserver', function () {
  this.timeout(120_000);
  let bed: Testbed;
  let client: KubeClient;
  let operator: TestOperator;
  let seeder: BackendRegistry;
  /** Version of each backend's `db` secret after the first write. */
  const firstVersion = new Map<Cloud, string>();

  const secret = (name: string) =>
    getObject<V1Secret>(client, { apiVersion: 'v1', kind: 'Secret', namespace: ns, name });
  const decoded = (s: V1Secret | undefined) =>
    Object.fromEntries(
      Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
  const ready = async (name: string, status = 'True', reason?: string) => {
    const vs = await getObject<VaultSecret>(client, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultSecret',
      namespace: ns,
      name,
    });
    const c = vs?.status?.conditions?.find((x) => x.type === 'Ready');
    return c?.status === status &&
      (!reason || c.reason === reason) &&
      vs?.status?.observedGeneration === vs?.metadata?.generation
      ? vs
      : undefined;
  };
  const create = (name: string, spec: VaultSecret['spec']) =>
    createObject<VaultSecret>(client, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultSecret',
      metadata: { name, namespace: ns },
      spec,
    });
  const remote = (cloud: Cloud): Backend => {
    const b = seeder.get(cloud);
    assert.ok(b);
    return b;
  };
  const writeDb = (cloud: Cloud, n: number) =>
    remote(cloud).write(
      { path: `${ns}/db-${run}`, data: data({ user: 'app', password: canary(cloud, n) }) },
      { namespace: ns },
    );

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    const kc = bed.kubeConfig();
    client = createKubeClient(kc);
    await installCrds(kc);
    await ensureNamespace(kc, ns);
    await ensureNamespace(kc, OPERATOR_NAMESPACE);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core
      .deleteNamespacedSecret({ namespace: OPERATOR_NAMESPACE, name: 'aws-keys' })
      .catch(() => undefined);
    await core.createNamespacedSecret({
      namespace: OPERATOR_NAMESPACE,
      body: { metadata: { name: 'aws-keys' }, stringData: { id: 'AKIDE2E', secret: 'e2e-secret-key' } },
    });
    const config = await loadConfig(
      { text: `operator: {namespace: ${OPERATOR_NAMESPACE}}\n${backendsYaml(bed, { seeding: true })}` },
      { env: {} },
    );
    seeder = createBackends(config, { secrets: kubeSecretsApi(kc) });
    for (const cloud of BACKENDS) {
      firstVersion.set(cloud, (await writeDb(cloud, 1)).version);
      await writeDb(cloud, 2);
      await remote(cloud).write(
        { path: `${ns}/token-${run}`, data: data({ value: `plain-token-${cloud}` }) },
        { namespace: ns },
      );
    }
    operator = await startTestOperator(bed, { config: backendsYaml(bed) });
  });

  after(async () => {
    await operator?.stop();
    await seeder?.close();
  });

  for (const cloud of BACKENDS) {
    it(`syncs a Secret from ${cloud}: a property, a whole plain value, dataFrom and a pinned version`, async () => {
      await create(`${cloud}-db`, {
        backend: cloud,
        refreshInterval: '10s',
        data: [
          { secretKey: 'password', remoteRef: { path: `${ns}/db-${run}`, property: 'password' } },
          { secretKey: 'token', remoteRef: { path: `${ns}/token-${run}` } },
        ],
        dataFrom: [{ extract: { path: `${ns}/db-${run}` } }],
      });
      await create(`${cloud}-pinned`, {
        backend: cloud,
        data: [
          {
            secretKey: 'password',
            remoteRef: { path: `${ns}/db-${run}`, property: 'password', version: firstVersion.get(cloud) },
          },
        ],
      });
      const vs = await eventually(`${cloud}-db Ready`, () => ready(`${cloud}-db`));
      await eventually(`${cloud}-pinned Ready`, () => ready(`${cloud}-pinned`));
      assert.deepEqual(decoded(await secret(`${cloud}-db`)), {
        user: 'app',
        password: canary(cloud, 2),
        token: `plain-token-${cloud}`,
      });
      assert.deepEqual(decoded(await secret(`${cloud}-pinned`)), { password: canary(cloud, 1) });
      assert.equal(vs.status?.conditions?.[0]?.reason, 'Synced');
      assert.ok(vs.status?.sourceVersions?.[`${ns}/db-${run}`], 'source version recorded');
    });
  }

  it('follows a new version of each cloud secret on refresh', async () => {
    await Promise.all(BACKENDS.map((cloud) => writeDb(cloud, 3)));
    for (const cloud of BACKENDS) {
      await eventually(
        `${cloud} v3 synced`,
        async () => (decoded(await secret(`${cloud}-db`)).password === canary(cloud, 3) ? true : undefined),
        25_000,
      );
      assert.equal(decoded(await secret(`${cloud}-pinned`)).password, canary(cloud, 1));
    }
  });

  it('reports a missing cloud secret as RemoteSecretNotFound and writes no Secret', async () => {
    for (const cloud of BACKENDS) {
      await create(`${cloud}-missing`, {
        backend: cloud,
        data: [{ secretKey: 'x', remoteRef: { path: `${ns}/missing-${run}`, property: 'x' } }],
      });
    }
    for (const cloud of BACKENDS) {
      const vs = await eventually(`${cloud}-missing not found`, () =>
        ready(`${cloud}-missing`, 'False', 'RemoteSecretNotFound'),
      );
      assert.match(vs.status?.conditions?.[0]?.message ?? '', new RegExp(`missing-${run}`));
      assert.equal(await secret(`${cloud}-missing`), undefined);
    }
  });

  it('never lets a value reach logs, events or status', async () => {
    const events = await client.rest.request<{ items: unknown[] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/events`,
    });
    const statuses = await client.rest.request<{ items: unknown[] }>({
      method: 'GET',
      path: `/apis/vaultsync.io/v1alpha1/namespaces/${ns}/vaultsecrets`,
    });
    assert.ok(operator.logs.length > 10, 'debug logs were captured');
    for (const [where, text] of [
      ['logs', operator.logs.join('\n')],
      ['events', JSON.stringify(events)],
      ['status', JSON.stringify(statuses)],
    ] as const) {
      for (const cloud of BACKENDS) {
        for (const n of [1, 2, 3]) assert.equal(text.includes(canary(cloud, n)), false, `canary in ${where}`);
        assert.equal(text.includes(`plain-token-${cloud}`), false, `token in ${where}`);
      }
    }
    // Names are not values: the Secrets the canaries went into are named in full.
    for (const cloud of BACKENDS) {
      for (const verb of ['Created', 'Updated'] as const) {
        const lines = secretWriteLines(operator.logs, ns, `${cloud}-db`, verb);
        assert.ok(lines.length >= 1, `a "${verb} Secret" line naming ${ns}/${cloud}-db`);
      }
    }
  });
});
