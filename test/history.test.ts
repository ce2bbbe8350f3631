// History against the real bed, the operator as shipped (chart RBAC, least-privilege OpenBao):
// a VaultSecret's status.history records each change of its synced data (versions, MAC, what
// caused it) and nothing for a read that changes nothing; a SecretRotation's records its versions;
// the API serves both over HTTPS and gRPC to callers with `get` on the resource (the chart's view
// and edit roles) and to nobody else; spec.historyLimit bounds it. No value anywhere.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { SecretRotation, VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { tokenDigest } from '../src/apis/v1alpha1/trigger-token.ts';
import { type KubeClient, createKubeClient, createObject, getObject, mergePatch } from '../src/kube/index.ts';
import { apiKeyRotation, httpsCall, serviceAccountToken } from './support/api-callers.ts';
import { type ApiOperator, startApiOperator } from './support/api-operator.ts';
import { installCrds } from './support/crds.ts';
import { ensureNamespace } from './support/operator.ts';
import { testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { delay, eventually } from './support/wait.ts';

const ns = 'team-history';
const otherNs = 'team-history-other';
const API = 'vaultsync.io/v1alpha1';
const canary = `canary-${Math.random().toString(36).slice(2)}-history`;

describe('History: VaultSecret and SecretRotation status.history, served over HTTPS and gRPC', function () {
  this.timeout(120_000);
  let client: KubeClient;
  let bao: ReturnType<typeof baoApi>;
  /** The operator, its gRPC clients and audit file. */
  let run: ApiOperator;
  const tokens: Record<'viewer' | 'editorElsewhere' | 'noRbac', string> = {
    viewer: '',
    editorElsewhere: '',
    noRbac: '',
  };
  /** Every answer and error the API gave: none may hold a value. */
  const answers: string[] = [];

  const vaultSecret = () =>
    getObject<VaultSecret>(client, { apiVersion: API, kind: 'VaultSecret', namespace: ns, name: 'db' });
  const history = async () => (await vaultSecret())?.status?.history ?? [];
  const writeValue = (n: number) =>
    bao('POST', `secret/data/${ns}/db`, { data: { password: `${canary}-${n}`, user: 'app' } });
  /** Asks for a read now (sync-now) and waits until it is answered. */
  const syncNow = async (token: string) => {
    await mergePatch(
      client,
      { apiVersion: API, kind: 'VaultSecret', namespace: ns, name: 'db' },
      { metadata: { annotations: { 'vaultsync.io/sync-now': token } } },
    );
    return eventually(`sync-now ${token} answered`, async () => {
      const vs = await vaultSecret();
      return vs?.status?.syncNowHandled === tokenDigest(token) ? vs : undefined;
    });
  };
  const api = (path: string, token: string) =>
    httpsCall({ address: run.operator.apiAddress!, caPem: run.operator.apiCaPem }, 'GET', path, token).then(
      (r) => {
        answers.push(r.text);
        return r;
      },
    );
  const grpc = (method: string, namespace: string, name: string, token: string) =>
    run.grpcApi.unary('History', method, { namespace, name }, token).then((r) => {
      answers.push(JSON.stringify(r));
      return r;
    });

  before(async function () {
    this.timeout(240_000);
    const bed = await testbed();
    client = createKubeClient(bed.kubeConfig());
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await installCrds(bed.kubeConfig());
    await ensureNamespace(bed.kubeConfig(), ns);
    await ensureNamespace(bed.kubeConfig(), otherNs);
    run = await startApiOperator(bed, { allowedWritePaths: ['{namespace}/rotated'] });
    // Tenants as shipped: the chart aggregates get on vaultsync resources into view (and edit).
    const bind = async (who: string, namespace: string, role: string, where: string) => {
      const token = await serviceAccountToken(client, namespace, who);
      await createObject(client, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `${who}-${role}`, namespace: where },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ kind: 'ServiceAccount', name: who, namespace }],
      } as never).catch(() => undefined);
      return token;
    };
    tokens.viewer = await bind('viewer', ns, 'view', ns);
    tokens.editorElsewhere = await bind('editor', otherNs, 'edit', otherNs);
    tokens.noRbac = await serviceAccountToken(client, ns, 'no-rbac');

    await writeValue(1);
    await createObject<VaultSecret>(client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name: 'db', namespace: ns },
      spec: { backend: 'vault', refreshInterval: '1h', dataFrom: [{ extract: { path: `${ns}/db` } }] },
    });
    await createObject(client, apiKeyRotation(ns));
    await eventually('the first sync recorded', async () =>
      (await history()).length === 1 ? true : undefined,
    );
  });

  after(async () => {
    run?.grpcApi.close();
    await run?.operator.stop();
  });

  it('records the first sync and each change of the value: versions, MAC, trigger; newest first', async () => {
    const [first] = await history();
    assert.equal(first?.trigger, 'FirstSync');
    assert.deepEqual(first?.sourceVersions, { [`${ns}/db`]: '1' });
    for (const n of [2, 3]) {
      await writeValue(n);
      await syncNow(`change-${n}`);
    }
    const vs = await vaultSecret();
    const entries = vs?.status?.history ?? [];
    assert.deepEqual(
      entries.map((e) => [e.trigger, e.sourceVersions?.[`${ns}/db`]]),
      [
        ['SyncNow', '3'],
        ['SyncNow', '2'],
        ['FirstSync', '1'],
      ],
    );
    assert.equal(entries[0]?.mac, vs?.status?.secretMAC, 'the newest entry holds the MAC of the data synced');
    assert.equal(new Set(entries.map((e) => e.mac)).size, 3, 'each change its own MAC');
    for (const e of entries) assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('a read that changes nothing adds nothing: the same value read again, or as a new version', async () => {
    await syncNow('unchanged');
    assert.equal((await history()).length, 3);
    // A new backend version holding the same data: the versions in status move, the history does not.
    await writeValue(3);
    const vs = await syncNow('same-data-new-version');
    assert.deepEqual(vs.status?.sourceVersions, { [`${ns}/db`]: '4' });
    assert.equal(vs.status?.history?.length, 3);
    // And once idle, nothing is written at all.
    const before = vs.metadata?.resourceVersion;
    await delay(2_000);
    assert.equal((await vaultSecret())?.metadata?.resourceVersion, before, 'no status write when idle');
  });

  it('a SecretRotation records its versions and outcomes', async () => {
    await mergePatch(
      client,
      { apiVersion: API, kind: 'SecretRotation', namespace: ns, name: 'api-key' },
      { metadata: { annotations: { 'vaultsync.io/rotate-now': 'history-1' } } },
    );
    const entry = await eventually('the rotation recorded', async () => {
      const sr = await getObject<SecretRotation>(client, {
        apiVersion: API,
        kind: 'SecretRotation',
        namespace: ns,
        name: 'api-key',
      });
      return sr?.status?.history?.[0];
    });
    assert.equal(entry.outcome, 'Succeeded');
    assert.match(entry.version, /^\d+$/);
  });

  it('the API serves both histories to a caller with get (the view role), over HTTPS and gRPC alike', async () => {
    const stored = await history();
    const overHttps = await api(`/v1/namespaces/${ns}/vaultsecrets/db/history`, tokens.viewer);
    assert.equal(overHttps.status, 200, overHttps.text);
    assert.deepEqual(overHttps.body, { namespace: ns, name: 'db', kind: 'VaultSecret', history: stored });
    const overGrpc = await grpc('VaultSecretHistory', ns, 'db', tokens.viewer);
    assert.equal(overGrpc.code, grpcStatus.OK, overGrpc.details);
    assert.deepEqual(
      overGrpc.body.history.map((e: { mac: string; trigger: string; sourceVersions: object }) => [
        e.trigger,
        e.mac,
        e.sourceVersions,
      ]),
      stored.map((e) => [e.trigger, e.mac, e.sourceVersions]),
    );
    const rotations = await api(`/v1/namespaces/${ns}/secretrotations/api-key/history`, tokens.viewer);
    assert.equal(rotations.status, 200, rotations.text);
    assert.equal(rotations.body.history[0].outcome, 'Succeeded');
    const rotationsGrpc = await grpc('SecretRotationHistory', ns, 'api-key', tokens.viewer);
    assert.equal(rotationsGrpc.body.history[0].version, rotations.body.history[0].version);
    const missing = await api(`/v1/namespaces/${ns}/vaultsecrets/nope/history`, tokens.viewer);
    assert.equal(missing.status, 404);
    assert.equal((await grpc('VaultSecretHistory', ns, 'nope', tokens.viewer)).code, grpcStatus.NOT_FOUND);
  });

  it('refuses a tenant with edit in another namespace, and a caller without RBAC, over both', async () => {
    for (const token of [tokens.editorElsewhere, tokens.noRbac]) {
      for (const [kind, name, method] of [
        ['vaultsecrets', 'db', 'VaultSecretHistory'],
        ['secretrotations', 'api-key', 'SecretRotationHistory'],
      ] as const) {
        const overHttps = await api(`/v1/namespaces/${ns}/${kind}/${name}/history`, token);
        assert.equal(overHttps.status, 403, overHttps.text);
        assert.match(overHttps.body.message, new RegExp(`may not get ${kind}.vaultsync.io "${name}"`));
        const overGrpc = await grpc(method, ns, name, token);
        assert.equal(overGrpc.code, grpcStatus.PERMISSION_DENIED);
        assert.equal(overGrpc.details, overHttps.body.message);
      }
    }
    // The editor's own namespace answers it (nothing there: 404, not 403).
    const own = await api(`/v1/namespaces/${otherNs}/vaultsecrets/db/history`, tokens.editorElsewhere);
    assert.equal(own.status, 404, own.text);
  });

  it('spec.historyLimit bounds it at once; 0 removes it', async () => {
    const patchLimit = (historyLimit: number) =>
      mergePatch(
        client,
        { apiVersion: API, kind: 'VaultSecret', namespace: ns, name: 'db' },
        { spec: { historyLimit } },
      );
    await patchLimit(2);
    await eventually('history cut to 2', async () => ((await history()).length === 2 ? true : undefined));
    await patchLimit(0);
    const vs = await eventually('history gone', async () => {
      const v = await vaultSecret();
      return v?.status?.observedGeneration === v?.metadata?.generation && !v?.status?.history ? v : undefined;
    });
    assert.ok(vs.status?.secretMAC, 'the rest of the status stays');
  });

  it('no value in any status, API answer, audit line or log', async () => {
    const vs = await vaultSecret();
    const sr = await getObject(client, {
      apiVersion: API,
      kind: 'SecretRotation',
      namespace: ns,
      name: 'api-key',
    });
    const audit = readFileSync(run.auditFile, 'utf8');
    assert.ok(audit.includes('vaultsecrets.history'), 'the history calls are audited');
    const everything = [
      JSON.stringify(vs),
      JSON.stringify(sr),
      answers.join('\n'),
      audit,
      run.operator.logs.join(''),
    ].join('\n');
    assert.ok(answers.length >= 10);
    assert.ok(!everything.includes(canary), 'canary leaked');
  });
});
