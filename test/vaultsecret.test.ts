// VaultSecret end to end: the real operator (in this process) against the real apiserver and
// a real OpenBao. What users care about: the Secret holds the right data, follows changes,
// survives backend failures and edits, and never leaks a value.
import assert from 'node:assert/strict';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../src/apis/v1alpha1/index.ts';
import {
  type KubeClient,
  createKubeClient,
  createObject,
  deleteObject,
  getObject,
  mergePatch,
  serverSideApply,
} from '../src/kube/index.ts';
import { installCrds } from './support/crds.ts';
import { ensureNamespace, startTestOperator, type TestOperator } from './support/operator.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { eventually, delay } from './support/wait.ts';
import { secretWriteLines } from './support/log-lines.ts';
import { tokenDigest } from '../src/apis/v1alpha1/trigger-token.ts';

const ns = 'team-vs';
const canary = `canary-${Math.random().toString(36).slice(2)}-value`;

describe('VaultSecret against the real apiserver and OpenBao', function () {
  this.timeout(120_000);
  let bed: Testbed;
  let kc: KubeConfig;
  let client: KubeClient;
  let operator: TestOperator;
  let bao: ReturnType<typeof baoApi>;

  const kv = (path: string, data: Record<string, string>) => bao('POST', `secret/data/${path}`, { data });
  const secret = (name: string) =>
    getObject<V1Secret>(client, { apiVersion: 'v1', kind: 'Secret', namespace: ns, name });
  const vaultSecret = (name: string) =>
    getObject<VaultSecret>(client, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultSecret',
      namespace: ns,
      name,
    });
  const decoded = (s: V1Secret | undefined) =>
    Object.fromEntries(
      Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
  const ready = async (name: string, status = 'True', reason?: string) => {
    const vs = await vaultSecret(name);
    const c = vs?.status?.conditions?.find((x) => x.type === 'Ready');
    return c?.status === status &&
      (!reason || c.reason === reason) &&
      vs?.status?.observedGeneration === vs?.metadata?.generation
      ? vs
      : undefined;
  };
  const create = (name: string, spec: VaultSecret['spec'], namespace = ns) =>
    createObject<VaultSecret>(client, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultSecret',
      metadata: { name, namespace },
      spec,
    });

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    kc = bed.kubeConfig();
    client = createKubeClient(kc);
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await installCrds(kc);
    await ensureNamespace(kc, ns);
    await ensureNamespace(kc, 'blocked-vs');
    await kv(`${ns}/db`, { password: canary, user: 'app' });
    operator = await startTestOperator(bed);
  });

  after(async () => {
    await operator?.stop();
  });

  it('creates the Secret with the backend data and reports Ready without values', async () => {
    await create('db', {
      backend: 'vault',
      data: [
        { secretKey: 'password', remoteRef: { path: `${ns}/db`, property: 'password' } },
        { secretKey: 'user', remoteRef: { path: `${ns}/db`, property: 'user' } },
      ],
      target: {
        template: { data: { url: 'postgres://{{ user }}:{{ password }}@db/shop', user: '{{user}}' } },
      },
    });
    const vs = await eventually('db Ready', () => ready('db'));
    assert.deepEqual(decoded(await secret('db')), { url: `postgres://app:${canary}@db/shop`, user: 'app' });
    assert.equal(vs.status?.conditions?.[0]?.reason, 'Synced');
    assert.match(vs.status?.secretMAC ?? '', /^hmac-sha256:v2:[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(vs.status?.sourceVersions, { [`${ns}/db`]: '1' });
  });

  it('follows a new KV version on refresh and keeps a pinned version', async () => {
    await kv(`${ns}/rotating`, { token: 'v1-token' });
    await kv(`${ns}/rotating`, { token: 'v2-token' });
    await create('follow', {
      backend: 'vault',
      refreshInterval: '10s',
      data: [{ secretKey: 'token', remoteRef: { path: `${ns}/rotating`, property: 'token' } }],
    });
    await create('pinned', {
      backend: 'vault',
      data: [{ secretKey: 'token', remoteRef: { path: `${ns}/rotating`, property: 'token', version: '1' } }],
    });
    await eventually('follow Ready', () => ready('follow'));
    await eventually('pinned Ready', () => ready('pinned'));
    assert.equal(decoded(await secret('follow')).token, 'v2-token');
    assert.equal(decoded(await secret('pinned')).token, 'v1-token');
    await kv(`${ns}/rotating`, { token: 'v3-token' });
    await eventually(
      'new version synced',
      async () => (decoded(await secret('follow')).token === 'v3-token' ? true : undefined),
      15_000,
    );
    assert.equal(decoded(await secret('pinned')).token, 'v1-token');
    // The status patch follows the Secret write.
    await eventually('status names version 3', async () =>
      (await vaultSecret('follow'))?.status?.sourceVersions?.[`${ns}/rotating`] === '3' ? true : undefined,
    );
  });

  it('reports a missing path or property as Ready=False and leaves the Secret alone', async () => {
    await create('missing-path', {
      backend: 'vault',
      data: [{ secretKey: 'x', remoteRef: { path: `${ns}/does-not-exist`, property: 'x' } }],
    });
    const vs = await eventually('RemoteSecretNotFound', () =>
      ready('missing-path', 'False', 'RemoteSecretNotFound'),
    );
    assert.match(vs.status?.conditions?.[0]?.message ?? '', /does-not-exist/);
    assert.equal(await secret('missing-path'), undefined);

    const before = await secret('db');
    await mergePatch(
      client,
      { apiVersion: 'vaultsync.io/v1alpha1', kind: 'VaultSecret', namespace: ns, name: 'db' },
      {
        spec: {
          data: [{ secretKey: 'password', remoteRef: { path: `${ns}/db`, property: 'nope' } }],
          target: { template: null },
        },
      },
    );
    await eventually('db not found property', () => ready('db', 'False', 'RemoteSecretNotFound'));
    const after = await secret('db');
    assert.equal(after?.metadata?.resourceVersion, before?.metadata?.resourceVersion);
    assert.deepEqual(decoded(after), decoded(before));
  });

  it('restores an edited or deleted Secret within seconds', async () => {
    await create('drift', {
      backend: 'vault',
      data: [{ secretKey: 'user', remoteRef: { path: `${ns}/db`, property: 'user' } }],
    });
    await eventually('drift Ready', () => ready('drift'));
    await mergePatch(
      client,
      { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'drift' },
      { data: { user: Buffer.from('hacked').toString('base64') } },
    );
    await eventually(
      'edit reverted',
      async () => (decoded(await secret('drift')).user === 'app' ? true : undefined),
      10_000,
    );
    await deleteObject(client, { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'drift' });
    await eventually(
      'Secret recreated',
      async () => (decoded(await secret('drift')).user === 'app' ? true : undefined),
      10_000,
    );
  });

  it('never overwrites a Secret it does not own', async () => {
    await createObject(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'someone-else', namespace: ns },
      stringData: { user: 'theirs' },
    });
    await create('takeover', {
      backend: 'vault',
      target: { name: 'someone-else' },
      data: [{ secretKey: 'user', remoteRef: { path: `${ns}/db`, property: 'user' } }],
    });
    const vs = await eventually('SecretNotOwned', () => ready('takeover', 'False', 'SecretNotOwned'));
    assert.match(vs.status?.conditions?.[0]?.message ?? '', /not managed by vaultsync/);
    assert.deepEqual(decoded(await secret('someone-else')), { user: 'theirs' });
  });

  it('refuses a namespace or path outside the tenancy rules before any backend request', async () => {
    await bao('PUT', 'sys/audit/file', {
      type: 'file',
      options: { file_path: `${bed.dir}/bao-audit.log` },
    }).catch(() => undefined);
    await create('elsewhere', {
      backend: 'vault',
      data: [{ secretKey: 'p', remoteRef: { path: 'other-team/forbidden-path', property: 'p' } }],
    });
    await create(
      'wrong-ns',
      {
        backend: 'vault',
        data: [{ secretKey: 'p', remoteRef: { path: 'blocked-vs/forbidden-ns', property: 'p' } }],
      },
      'blocked-vs',
    );
    const a = await eventually('path denied', () => ready('elsewhere', 'False', 'TenancyDenied'));
    assert.match(a.status?.conditions?.[0]?.message ?? '', /allowedPaths/);
    await eventually('namespace denied', async () => {
      const vs = await getObject<VaultSecret>(client, {
        apiVersion: 'vaultsync.io/v1alpha1',
        kind: 'VaultSecret',
        namespace: 'blocked-vs',
        name: 'wrong-ns',
      });
      return vs?.status?.conditions?.find((c) => c.reason === 'TenancyDenied');
    });
    const { readFileSync, existsSync } = await import('node:fs');
    const audit = existsSync(`${bed.dir}/bao-audit.log`)
      ? readFileSync(`${bed.dir}/bao-audit.log`, 'utf8')
      : '';
    assert.equal(audit.includes('forbidden-path'), false, 'no request for a path outside allowedPaths');
    assert.equal(audit.includes('forbidden-ns'), false, 'no request for a namespace not allowed');
  });

  it('writes nothing when nothing changed', async () => {
    const vs = await eventually('pinned Ready', () => ready('pinned'));
    const s = await secret('pinned');
    // An unrelated metadata change wakes the reconciler without a spec change.
    await mergePatch(
      client,
      { apiVersion: 'vaultsync.io/v1alpha1', kind: 'VaultSecret', namespace: ns, name: 'pinned' },
      { metadata: { labels: { touched: 'yes' } } },
    );
    await delay(2000);
    const vsAfter = await vaultSecret('pinned');
    assert.deepEqual(vsAfter?.status, vs.status);
    assert.equal((await secret('pinned'))?.metadata?.resourceVersion, s?.metadata?.resourceVersion);
  });

  it('with Merge + Delete writes only its keys into an existing Secret and takes them back on deletion', async () => {
    await createObject(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'shared-config', namespace: ns, labels: { team: 'a' } },
      stringData: { 'log-level': 'debug' },
    });
    await create('merged', {
      backend: 'vault',
      target: { name: 'shared-config', creationPolicy: 'Merge', deletionPolicy: 'Delete' },
      data: [{ secretKey: 'user', remoteRef: { path: `${ns}/db`, property: 'user' } }],
    });
    await eventually('merged Ready', () => ready('merged'));
    assert.deepEqual(decoded(await secret('shared-config')), { 'log-level': 'debug', user: 'app' });
    await deleteObject(client, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultSecret',
      namespace: ns,
      name: 'merged',
    });
    await eventually('VaultSecret gone', async () => ((await vaultSecret('merged')) ? undefined : true));
    const after = await secret('shared-config');
    assert.deepEqual(decoded(after), { 'log-level': 'debug' });
    assert.equal(after?.metadata?.labels?.team, 'a');
    assert.equal(after?.metadata?.labels?.['vaultsync.io/vaultsecret'], undefined);
  });

  it('after an upgrade from the shared field manager: writes nothing, then drops keys only the old one owned', async () => {
    await create('upgraded', {
      backend: 'vault',
      data: [
        { secretKey: 'password', remoteRef: { path: `${ns}/db`, property: 'password' } },
        { secretKey: 'user', remoteRef: { path: `${ns}/db`, property: 'user' } },
      ],
    });
    await eventually('upgraded Ready', () => ready('upgraded'));
    // The Secret as an earlier release left it: applied by the one manager `vaultsync`.
    const s = (await secret('upgraded'))!;
    const meta = { name: 'upgraded', namespace: ns };
    await serverSideApply(
      client,
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { ...meta, labels: s.metadata?.labels, annotations: s.metadata?.annotations },
        type: s.type,
        data: s.data,
      },
      { fieldManager: 'vaultsync', force: true },
    );
    const legacy = await serverSideApply<V1Secret>(
      client,
      { apiVersion: 'v1', kind: 'Secret', metadata: meta },
      { fieldManager: 'vaultsync-vaultsecret' },
    );
    const appliers = (x: V1Secret | undefined) =>
      (x?.metadata?.managedFields ?? []).filter((m) => m.operation === 'Apply').map((m) => m.manager);
    assert.deepEqual(appliers(legacy), ['vaultsync']);
    assert.deepEqual(decoded(legacy), { password: canary, user: 'app' });

    await mergePatch(
      client,
      { apiVersion: 'vaultsync.io/v1alpha1', kind: 'VaultSecret', ...meta },
      { metadata: { annotations: { 'vaultsync.io/sync-now': 'after-upgrade' } } },
    );
    await eventually('sync-now answered', async () =>
      (await vaultSecret('upgraded'))?.status?.syncNowHandled === tokenDigest('after-upgrade')
        ? true
        : undefined,
    );
    assert.equal((await secret('upgraded'))?.metadata?.resourceVersion, legacy.metadata?.resourceVersion);

    await mergePatch(
      client,
      { apiVersion: 'vaultsync.io/v1alpha1', kind: 'VaultSecret', ...meta },
      { spec: { data: [{ secretKey: 'password', remoteRef: { path: `${ns}/db`, property: 'password' } }] } },
    );
    const after = await eventually('user dropped', async () => {
      const x = await secret('upgraded');
      return Object.keys(x?.data ?? {}).join() === 'password' ? x : undefined;
    });
    assert.deepEqual(appliers(after), ['vaultsync-vaultsecret']);
  });

  it('with Owner + Delete leaves the Secret to the garbage collector; with Retain keeps it', async () => {
    const spec = (name: string, deletionPolicy: 'Delete' | 'Retain'): VaultSecret['spec'] => ({
      backend: 'vault',
      target: { name, deletionPolicy },
      data: [{ secretKey: 'user', remoteRef: { path: `${ns}/db`, property: 'user' } }],
    });
    await create('owned-delete', spec('owned-delete', 'Delete'));
    await create('owned-retain', spec('owned-retain', 'Retain'));
    await eventually('both Ready', async () =>
      (await ready('owned-delete')) && (await ready('owned-retain')) ? true : undefined,
    );
    assert.equal((await secret('owned-delete'))?.metadata?.ownerReferences?.[0]?.name, 'owned-delete');
    for (const name of ['owned-delete', 'owned-retain']) {
      await deleteObject(client, {
        apiVersion: 'vaultsync.io/v1alpha1',
        kind: 'VaultSecret',
        namespace: ns,
        name,
      });
    }
    await eventually(
      'owned Secret collected',
      async () => ((await secret('owned-delete')) ? undefined : true),
      30_000,
    );
    assert.ok(await secret('owned-retain'), 'a Retain Secret stays');
  });

  it('authenticates to Vault as the ServiceAccount of the resource namespace (Kubernetes auth)', async () => {
    const auth = bed.baoKubernetesAuth;
    await kv(`${auth.namespace}/app`, { token: 'tenant-a-token' });
    await kv('team-b/app', { token: 'tenant-b-token' });
    const k8sOperator = await startTestOperator(bed, {
      config: `
backends:
  - name: vault-k8s
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: {kubernetes: {role: ${auth.role}, mountPath: ${auth.mountPath}, serviceAccountName: ${auth.serviceAccount}}}
    allowedNamespaces: ["team-*"]
`,
    });
    try {
      const inTenant = (name: string, path: string) =>
        create(
          name,
          { backend: 'vault-k8s', data: [{ secretKey: 'token', remoteRef: { path, property: 'token' } }] },
          auth.namespace,
        );
      const readyIn = async (name: string, status: string, reason: string) => {
        const vs = await getObject<VaultSecret>(client, {
          apiVersion: 'vaultsync.io/v1alpha1',
          kind: 'VaultSecret',
          namespace: auth.namespace,
          name,
        });
        const c = vs?.status?.conditions?.find((x) => x.type === 'Ready');
        return c?.status === status && c.reason === reason ? vs : undefined;
      };
      await inTenant('own-path', `${auth.namespace}/app`);
      await inTenant('other-tenant', 'team-b/app');
      await eventually('own path synced', () => readyIn('own-path', 'True', 'Synced'));
      const denied = await eventually('Vault policy refuses the other tenant', () =>
        readyIn('other-tenant', 'False', 'PermissionDenied'),
      );
      assert.doesNotMatch(JSON.stringify(denied.status), /tenant-b-token/);
      const s = await getObject<V1Secret>(client, {
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: auth.namespace,
        name: 'own-path',
      });
      assert.equal(decoded(s).token, 'tenant-a-token');
    } finally {
      await k8sOperator.stop();
    }
  });

  it('never lets a planted value reach logs, events, status, metrics or conditions', async () => {
    const events = await client.rest.request<{ items: unknown[] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/events`,
    });
    const statuses = await client.rest.request<{ items: unknown[] }>({
      method: 'GET',
      path: `/apis/vaultsync.io/v1alpha1/namespaces/${ns}/vaultsecrets`,
    });
    // Another test's operator (other backends) may just have marked it BackendNotFound; this
    // operator puts it right again.
    await eventually('pinned Ready again', () => ready('pinned'));
    const metrics = await eventually('pinned in the ready gauge', async () => {
      const text = await (await fetch(`http://${operator.healthAddress}/metrics`)).text();
      return /vaultsync_resource_ready\{kind="VaultSecret",namespace="team-vs",name="pinned"\} 1/.test(text)
        ? text
        : undefined;
    });
    assert.ok(operator.logs.length > 10, 'debug logs were captured');
    assert.ok(events.items.length > 0, 'events were written');
    for (const [where, text] of [
      ['logs', operator.logs.join('\n')],
      ['events', JSON.stringify(events)],
      ['status', JSON.stringify(statuses)],
      ['metrics', metrics],
    ] as const) {
      assert.equal(text.includes(canary), false, `canary found in ${where}`);
    }
    // Names are not values: the Secret the canary was written into is named in full.
    const created = secretWriteLines(operator.logs, ns, 'db');
    assert.ok(created.length >= 1, `a "Created Secret" line naming ${ns}/db`);
    assert.deepEqual([created[0]?.namespace, created[0]?.secret], [ns, 'db']);
    assert.match(
      metrics,
      /vaultsync_resource_ready\{kind="VaultSecret",namespace="team-vs",name="pinned"\} 1/,
    );
  });
});
