// DELETE .../secrets/{path} end to end (issue 17, deliver 5): the operator as shipped (the
// chart's ServiceAccount, RBAC and rendered config; an OpenBao policy that deletes only where
// allowedWritePaths writes), callers with real tokens and RBAC, over HTTPS and gRPC. A delete
// leaves the consumers' Secrets as they were and their VaultSecrets Ready=False
// RemoteSecretNotFound; whoever lacks `delete`, or names a path the namespace may only read,
// deletes nothing; no value shows anywhere.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { status } from '@grpc/grpc-js';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { createObject, getObject } from '../src/kube/index.ts';
import { type HttpsReply, grpcClients, httpsCall } from './support/api-callers.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { eventually } from './support/wait.ts';
import {
  type ShippedOperator,
  type Tenant,
  adminApply,
  createTenant,
  ensureNamespace,
  forbiddenLines,
  operatorVaultAuth,
  serviceAccountToken,
  startShippedOperator,
} from './security/harness.ts';

const NAME = 'api-delete';
const NS = 'del-team';
const API = 'vaultsync.io/v1alpha1';
const AWS_PATH = `${NS}/app/aws`;
const canary = `canary-${Math.random().toString(36).slice(2)}-delete`;

/** The OpenBao backend: reads in the namespace's tree, writes and deletes below <namespace>/app/. */
const vaultBackend = (bed: Testbed, auth: string) => `
  - name: vault
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: ${auth}
    allowedNamespaces: ["${NS}"]
    allowedPaths: ["{namespace}/**"]
    allowedWritePaths: ["{namespace}/app/*"]`;

describe('API delete: recoverable deletes through HTTPS and gRPC, consumers kept', function () {
  this.timeout(120_000);
  let bed: Testbed;
  let bao: ReturnType<typeof baoApi>;
  let auth: string;
  let op: ShippedOperator;
  let tenant: Tenant;
  let grpcApi: ReturnType<typeof grpcClients>;
  let auditFile: string;
  let moto: SecretsManagerClient;
  const tokens = { deleter: '', writer: '', editor: '' };
  const outputs: string[] = [];

  const base = `/v1/namespaces/${NS}/backends/vault/secrets`;
  const call = async (method: string, path: string, token: string): Promise<HttpsReply> => {
    const reply = await httpsCall({ address: op.apiAddress!, caPem: op.apiCaPem }, method, path, token);
    outputs.push(reply.text);
    return reply;
  };
  const kvMetadata = (path: string) =>
    bao('GET', `secret/metadata/${path}`) as Promise<{
      data: { current_version: number; versions: Record<string, { deletion_time: string }> };
    }>;
  const secretData = async (name: string) => {
    const s = await getObject<V1Secret>(tenant.client, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: NS,
      name,
    });
    return Object.fromEntries(
      Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
  };
  const ready = async (name: string) => {
    const vs = await getObject<VaultSecret>(tenant.client, {
      apiVersion: API,
      kind: 'VaultSecret',
      namespace: NS,
      name,
    });
    return vs?.status?.conditions?.find((c) => c.type === 'Ready');
  };
  /** The VaultSecret's Ready condition once it is False (a delete is seen within seconds). */
  const notReady = (name: string) =>
    eventually(
      `${name} Ready=False`,
      async () => {
        const cond = await ready(name);
        return cond?.status === 'False' ? cond : undefined;
      },
      15_000,
      100,
    );
  const consumer = async (name: string, path: string, backend = 'vault') => {
    await createObject<VaultSecret>(tenant.client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name, namespace: NS },
      spec: { backend, refreshInterval: '1h', dataFrom: [{ extract: { path } }] },
    } as VaultSecret);
  };
  /** A ServiceAccount of the namespace bound to one of the chart's API ClusterRoles. */
  const boundTo = async (name: string, roleSuffix: string) => {
    const role = op.manifests.find((m) => m.kind === 'ClusterRole' && m.metadata.name.endsWith(roleSuffix));
    assert.ok(role, `the chart ships the ${roleSuffix} ClusterRole`);
    await adminApply(bed, [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: NS } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name, namespace: NS },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name },
        subjects: [{ kind: 'ServiceAccount', name, namespace: NS }],
      },
    ]);
    return serviceAccountToken(bed, NS, name, ['vaultsync']);
  };

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    // OpenBao's layer: read the namespace's paths; delete (and look at the metadata first) only
    // below del-team/app/ — the line allowedWritePaths draws.
    auth = await operatorVaultAuth(
      bed,
      NAME,
      [
        `path "secret/data/${NS}/*" { capabilities = ["read"] }`,
        `path "secret/data/${NS}/app/*" { capabilities = ["read", "delete"] }`,
        `path "secret/metadata/${NS}/app/*" { capabilities = ["read", "delete"] }`,
      ].join('\n'),
    );
    // moto takes any key; the operator reads its keys from a Secret beside it, as shipped.
    await ensureNamespace(bed, `vaultsync-${NAME}`);
    await adminApply(bed, [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'aws-keys', namespace: `vaultsync-${NAME}` },
        stringData: { id: 'AKIDDELETE', secret: 'delete-secret-key' },
      },
    ]);
    moto = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: bed.cloud.awsEndpoint,
      credentials: { accessKeyId: 'setup', secretAccessKey: 'setup' },
    });
    await moto
      .send(new DeleteSecretCommand({ SecretId: AWS_PATH, ForceDeleteWithoutRecovery: true }))
      .catch(() => undefined);
    await moto.send(
      new CreateSecretCommand({ Name: AWS_PATH, SecretString: JSON.stringify({ password: canary }) }),
    );
    auditFile = join(mkdtempSync(join(tmpdir(), 'vaultsync-audit-')), 'audit.log');
    op = await startShippedOperator(bed, {
      name: NAME,
      config: `
backends:${vaultBackend(bed, auth)}
  - name: aws
    type: aws-secrets-manager
    region: us-east-1
    endpoint: ${bed.cloud.awsEndpoint}
    tls: {insecure: true}
    auth: {static: {accessKeyIdRef: {name: aws-keys, key: id}, secretAccessKeyRef: {name: aws-keys, key: secret}}}
    allowedNamespaces: ["${NS}"]
    allowedPaths: ["{namespace}/**"]
    allowedWritePaths: ["{namespace}/app/*"]
api:
  grpc: {address: "127.0.0.1:0"}
  rateLimit: {max: 1000, window: 1m}
audit: {sink: file, path: ${auditFile}}
`,
      chartValues: { api: { secretDeletes: true } },
    });
    tenant = await createTenant(bed, NS);
    grpcApi = grpcClients(op.grpcAddress!, op.apiCaPem);
    for (const path of ['app/one', 'app/two', 'db']) {
      await bao('DELETE', `secret/metadata/${NS}/${path}`).catch(() => undefined); // a rerun starts clean
      await bao('POST', `secret/data/${NS}/${path}`, { data: { password: canary } });
    }
    tokens.deleter = await boundTo('deleter', '-api-secret-deleter');
    tokens.writer = await boundTo('writer', '-api-secret-writer');
    tokens.editor = await tenant.tokenFor('vaultsync');
    await consumer('one', `${NS}/app/one`);
    await consumer('two', `${NS}/app/two`);
    await consumer('three', AWS_PATH, 'aws');
    for (const name of ['one', 'two', 'three']) {
      await eventually(
        `${name} Ready`,
        async () => ((await ready(name))?.status === 'True' ? true : undefined),
        30_000,
      );
    }
  });

  after(async () => {
    moto?.destroy();
    grpcApi?.close();
    await op?.stop();
  });

  it('RBAC delete is needed: a writer (update) and an editor are 403, and OpenBao keeps the value', async () => {
    // The binding is effective once the deleter gets past RBAC (404 for a path that is not there).
    const missing = await eventually(
      'deleter binding effective',
      async () => {
        const r = await call('DELETE', `${base}/${NS}/app/missing`, tokens.deleter);
        return r.status === 403 ? undefined : r;
      },
      20_000,
      500,
    );
    assert.equal(missing.status, 404, missing.text);
    assert.equal(missing.body.code, 'NotFound');
    for (const who of ['writer', 'editor'] as const) {
      const r = await call('DELETE', `${base}/${NS}/app/one`, tokens[who]);
      assert.equal(r.status, 403, `${who}: ${r.text}`);
      assert.match(
        r.body.message,
        /may not delete backends\/secrets\.vaultsync\.io "vault" in namespace "del-team"/,
      );
    }
    const overGrpc = await grpcApi.unary(
      'Secrets',
      'Delete',
      { namespace: NS, backend: 'vault', path: `${NS}/app/one` },
      tokens.writer,
    );
    assert.equal(overGrpc.code, status.PERMISSION_DENIED);
    outputs.push(overGrpc.details ?? '');
    assert.equal((await kvMetadata(`${NS}/app/one`)).data.versions['1']!.deletion_time, '', 'not deleted');
  });

  it('a path the namespace may read but not write is 403 naming allowedWritePaths, and nothing is deleted', async () => {
    const r = await call('DELETE', `${base}/${NS}/db`, tokens.deleter);
    assert.equal(r.status, 403, r.text);
    assert.match(
      r.body.message,
      /path "del-team\/db" is not writable for namespace "del-team" .*allowedWritePaths/,
    );
    const kept = (await bao('GET', `secret/data/${NS}/db`)) as { data: { data: Record<string, string> } };
    assert.equal(kept.data.data.password, canary);
  });

  it('HTTPS DELETE (latest): the VaultSecret goes RemoteSecretNotFound, its Secret kept; the version is recoverable', async () => {
    const started = Date.now();
    const r = await call('DELETE', `${base}/${NS}/app/one`, tokens.deleter);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { path: `${NS}/app/one`, scope: 'latest', refreshed: 1 });
    const c = await notReady('one');
    console.log(
      `      one: Ready=False ${c.reason} ${Date.now() - started} ms after the DELETE: ${c.message}`,
    );
    assert.equal(c.reason, 'RemoteSecretNotFound');
    assert.deepEqual(await secretData('one'), { password: canary }, 'the Secret is kept as it was');
    const meta = await kvMetadata(`${NS}/app/one`);
    assert.notEqual(meta.data.versions['1']!.deletion_time, '', 'the newest version is deleted');
    // Recoverable: KV undelete brings it back (as the admin would).
    await bao('POST', `secret/undelete/${NS}/app/one`, { versions: [1] });
    const again = (await bao('GET', `secret/data/${NS}/app/one`)) as {
      data: { data: Record<string, string> };
    };
    assert.equal(again.data.data.password, canary);
  });

  it('gRPC Delete (scope all) removes every version; the VaultSecret goes RemoteSecretNotFound, its Secret kept', async () => {
    const r = await grpcApi.unary(
      'Secrets',
      'Delete',
      { namespace: NS, backend: 'vault', path: `${NS}/app/two`, scope: 'all' },
      tokens.deleter,
    );
    assert.equal(r.code, status.OK, r.details);
    assert.deepEqual(r.body, { path: `${NS}/app/two`, scope: 'all', refreshed: 1 });
    const c = await notReady('two');
    assert.equal(c.reason, 'RemoteSecretNotFound');
    assert.deepEqual(await secretData('two'), { password: canary }, 'the Secret is kept as it was');
    await assert.rejects(kvMetadata(`${NS}/app/two`), 'the metadata is gone');
    const bad = await grpcApi.unary(
      'Secrets',
      'Delete',
      { namespace: NS, backend: 'vault', path: `${NS}/app/one`, scope: 'everything' },
      tokens.deleter,
    );
    assert.equal(bad.code, status.INVALID_ARGUMENT, bad.details);
  });

  it('AWS (moto): DELETE schedules the deletion with a recovery window; the VaultSecret goes RemoteSecretNotFound, its Secret kept', async () => {
    const r = await call('DELETE', `/v1/namespaces/${NS}/backends/aws/secrets/${AWS_PATH}`, tokens.deleter);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { path: AWS_PATH, scope: 'latest', refreshed: 1 });
    const c = await notReady('three');
    assert.equal(c.reason, 'RemoteSecretNotFound', c.message);
    assert.deepEqual(await secretData('three'), { password: canary }, 'the Secret is kept as it was');
    const described = await moto.send(new DescribeSecretCommand({ SecretId: AWS_PATH }));
    assert.ok(described.DeletedDate, 'scheduled for deletion');
    await moto.send(new RestoreSecretCommand({ SecretId: AWS_PATH }));
    assert.equal(
      (await moto.send(new DescribeSecretCommand({ SecretId: AWS_PATH }))).DeletedDate,
      undefined,
      'recoverable',
    );
  });

  it('every call is audited (secrets.delete, scope, no value), and no canary shows in answers or logs', async () => {
    const lines = readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    // From the deleter's first call past RBAC (a 404: its binding took a moment to apply).
    const all = lines.filter((l) => l.action === 'secrets.delete');
    const deletes = all.slice(all.findIndex((l) => l.status === 404));
    assert.deepEqual(
      deletes.map((l) => [l.outcome, l.status, l.transport ?? 'https', l.detail?.scope ?? null]),
      [
        ['failed', 404, 'https', 'latest'],
        ['denied', 403, 'https', null],
        ['denied', 403, 'https', null],
        ['denied', 403, 'grpc', null],
        ['denied', 403, 'https', 'latest'],
        ['allowed', 200, 'https', 'latest'],
        ['allowed', 200, 'grpc', 'all'],
        ['failed', 400, 'grpc', null],
        ['allowed', 200, 'https', 'latest'],
      ],
    );
    assert.equal(deletes[5]!.detail.refreshed, 1);
    const everything = [...outputs, readFileSync(auditFile, 'utf8'), ...op.logs];
    const vss = await tenant.client.rest.request<{ items: VaultSecret[] }>({
      method: 'GET',
      path: `/apis/${API}/namespaces/${NS}/vaultsecrets`,
    });
    const events = await tenant.client.rest.request<object>({
      method: 'GET',
      path: `/api/v1/namespaces/${NS}/events`,
    });
    everything.push(JSON.stringify(vss.items.map((v) => v.status)), JSON.stringify(events));
    assert.ok(
      !everything.some((t) => t.includes(canary)),
      'no value in answers, audit, logs, status or events',
    );
    assert.deepEqual(forbiddenLines(op.logs), [], 'the operator itself was refused nothing');
  });

  it('with api.secretDeletes off, the deleter gets 404 Disabled, the writer 403, and nothing is deleted', async () => {
    await op.stop();
    const offAuth = await operatorVaultAuth(
      bed,
      `${NAME}-off`,
      `path "secret/data/${NS}/*" { capabilities = ["read"] }`,
    );
    op = await startShippedOperator(bed, {
      name: `${NAME}-off`,
      config: `
backends:${vaultBackend(bed, offAuth)}
`,
    });
    const off = await call('DELETE', `${base}/${NS}/app/one`, tokens.deleter);
    assert.equal(off.status, 404, off.text);
    assert.equal(off.body.code, 'Disabled');
    assert.match(off.body.message, /api\.secretDeletes: true/);
    const writer = await call('DELETE', `${base}/${NS}/app/one`, tokens.writer);
    assert.equal(writer.status, 403, writer.text);
    assert.equal((await kvMetadata(`${NS}/app/one`)).data.versions['1']!.deletion_time, '', 'not deleted');
  });
});
