// Rollback of a SecretRotation (issue 17, deliver 4) against the real control plane (kwok, so the
// Deployment really rolls out) and OpenBao, the operator as shipped (chart RBAC, least-privilege
// OpenBao policy). Two rotations, then a rollback through the API (HTTPS, a tenant holding the
// built-in `edit`) and one through the annotation: the earlier value is back as the newest
// version, the VaultSecret follows within a second of the trigger (measured), the consumer rolls
// out once each time, the history says both; gRPC refuses a version that does not exist, a tenant
// holding `view` (or `edit` elsewhere) gets 403, a path outside allowedWritePaths or another tenant's
// path is refused, and no value shows in any
// status, event, log, audit line or API answer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { CoreV1Event, V1Deployment, V1Secret } from '@kubernetes/client-node';
import type { SecretRotation, VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject, getObject, mergePatch } from '../src/kube/index.ts';
import { type grpcClients, httpsCall, serviceAccountToken } from './support/api-callers.ts';
import { startApiOperator } from './support/api-operator.ts';
import { installCrds } from './support/crds.ts';
import { ensureNamespace, type TestOperator } from './support/operator.ts';
import { testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { delay, eventually } from './support/wait.ts';
import { reloadingDeployment } from './support/workloads.ts';

const ns = 'team-rollback';
/** Another tenant's namespace (same backend rules, its own paths). */
const otherNs = 'team-rollback-other';
const API = 'vaultsync.io/v1alpha1';
const ROLLBACK_TO = 'vaultsync.io/rollback-to';
const canary = `canary-${Math.random().toString(36).slice(2)}-rollback`;

interface KvRead {
  data: { data: Record<string, string>; metadata: { version: number } };
}

describe('SecretRotation rollback through the API and the annotation (OpenBao, as shipped)', function () {
  this.timeout(180_000);
  let client: KubeClient;
  let operator: TestOperator;
  let bao: ReturnType<typeof baoApi>;
  let grpcApi: ReturnType<typeof grpcClients>;
  let auditFile: string;
  const tokens = { editor: '', viewer: '' };
  /** The values of every version (ours and the rotations'): none may show anywhere. */
  const values = new Set<string>([canary]);
  const answers: string[] = [];

  const kvRead = async (path: string) => {
    const r = (await bao('GET', `secret/data/${path}`)) as KvRead;
    return { data: r.data.data, version: r.data.metadata.version };
  };
  const ref = (kind: string, name: string, apiVersion = API) => ({ apiVersion, kind, namespace: ns, name });
  const rotation = (name: string) => getObject<SecretRotation>(client, ref('SecretRotation', name));
  const vaultSecret = (name: string) => getObject<VaultSecret>(client, ref('VaultSecret', name));
  const password = async (secret: string) => {
    const s = await getObject<V1Secret>(client, ref('Secret', secret, 'v1'));
    return Buffer.from(s?.data?.password ?? '', 'base64').toString();
  };
  const deployment = () => getObject<V1Deployment>(client, ref('Deployment', 'api', 'apps/v1'));
  /** Each restart changes the pod template once: the Deployment's generation counts them. */
  const generation = async () => (await deployment())?.metadata?.generation ?? 0;
  const rolledOut = async () => {
    const d = await deployment();
    const s = d?.status;
    return (
      s?.observedGeneration === d?.metadata?.generation &&
      s?.updatedReplicas === 1 &&
      s?.availableReplicas === 1
    );
  };
  const ready = (sr: SecretRotation | undefined) => sr?.status?.conditions?.find((c) => c.type === 'Ready');
  const idleAt = (name: string, version: string) =>
    eventually(
      `${name} Idle at version ${version}`,
      async () => {
        const sr = await rotation(name);
        return sr?.status?.phase === 'Idle' && sr.status.currentVersion === version ? sr : undefined;
      },
      60_000,
      200,
    );
  /** How long after `since` the Secret held `value` (polled every 20 ms). */
  const followedAfter = async (since: number, value: string) => {
    await eventually(
      `the Secret holds the restored value`,
      async () => ((await password('db')) === value ? true : undefined),
      10_000,
      20,
    );
    return Date.now() - since;
  };
  /** The Deployment rolled out exactly once more (one new pod template), and stays so. */
  const rolledOutOnce = async (before: number) => {
    await eventually(
      'api rolled out once more',
      async () => ((await generation()) === before + 1 && (await rolledOut()) ? true : undefined),
      60_000,
      200,
    );
    await delay(2000);
    assert.equal(await generation(), before + 1, 'exactly one restart');
  };
  /** Two versions at `path` (canary values), and a rotation `name` of it asked to roll back to 1. */
  const rollbackAskedOn = async (name: string, path: string) => {
    for (const v of [1, 2]) {
      values.add(`${canary}-${name}-${v}`);
      await bao('POST', `secret/data/${path}`, { data: { password: `${canary}-${name}-${v}` } });
    }
    await createObject<SecretRotation>(client, {
      apiVersion: API,
      kind: 'SecretRotation',
      metadata: { name, namespace: ns, annotations: { [ROLLBACK_TO]: '1' } },
      spec: { backend: 'vault', path, interval: '720h', generate: { password: { type: 'password' } } },
    });
  };
  const rememberLatest = async () => values.add((await kvRead(`${ns}/db`)).data.password ?? canary);

  before(async function () {
    this.timeout(240_000);
    const bed = await testbed();
    client = createKubeClient(bed.kubeConfig());
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await installCrds(bed.kubeConfig());
    await ensureNamespace(bed.kubeConfig(), ns);
    ({ operator, grpcApi, auditFile } = await startApiOperator(bed, {
      allowedWritePaths: ['{namespace}/db'],
      api: { requestTimeout: '60s' },
    }));
    // Tenants as shipped: the chart aggregates secretrotations/rollback into edit, not into view.
    for (const [who, role] of [
      ['editor', 'edit'],
      ['viewer', 'view'],
    ] as const) {
      tokens[who] = await serviceAccountToken(client, ns, who);
      await createObject(client, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `${who}-${role}`, namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ kind: 'ServiceAccount', name: who, namespace: ns }],
      } as never);
    }

    await bao('POST', `secret/data/${ns}/db`, { data: { password: canary, user: 'app' } });
    await createObject<VaultSecret>(client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name: 'db', namespace: ns },
      spec: { backend: 'vault', refreshInterval: '1h', dataFrom: [{ extract: { path: `${ns}/db` } }] },
    });
    await createObject<V1Deployment>(client, reloadingDeployment(ns, 'api', 'db'));
    await createObject<SecretRotation>(client, {
      apiVersion: API,
      kind: 'SecretRotation',
      metadata: { name: 'db', namespace: ns },
      spec: {
        backend: 'vault',
        path: `${ns}/db`,
        interval: '720h',
        generate: { password: { type: 'password', length: 24 } },
        restart: { debounce: '1s', readyTimeout: '60s' },
      },
    });
    await eventually('VaultSecret db synced', async () =>
      (await password('db')) === canary ? true : undefined,
    );
    // Two rotations: versions 2 and 3, each rolled out.
    for (const [token, version] of [
      ['first', '2'],
      ['second', '3'],
    ] as const) {
      await mergePatch(client, ref('SecretRotation', 'db'), {
        metadata: { annotations: { 'vaultsync.io/rotate-now': token } },
      });
      await idleAt('db', version);
      await rememberLatest();
    }
  });

  after(async () => {
    grpcApi?.close();
    await operator?.stop();
  });

  it('through the API (a tenant with edit): version 1 is back as version 4, the Secret follows at once, one rollout', async () => {
    const before = await generation();
    const api = { address: operator.apiAddress!, caPem: operator.apiCaPem };
    const url = `/v1/namespaces/${ns}/secretrotations/db:rollback`;
    // The token's first TokenReview and SubjectAccessReview (cached after) are not the rollback's.
    const warm = await httpsCall(api, 'POST', url, tokens.editor, { toVersion: '#' });
    assert.equal(warm.status, 400, warm.text);
    const started = Date.now();
    const call = httpsCall(api, 'POST', url, tokens.editor, { toVersion: '1', waitSeconds: 45 });
    const followed = await followedAfter(started, canary);
    const reply = await call;
    answers.push(reply.text);
    console.log(
      `      API rollback: the VaultSecret's Secret held the restored value ${followed} ms after the call`,
    );
    assert.ok(followed < 1000, `the VaultSecret followed within a second (${followed} ms)`);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body.results[0].state, 'Done', reply.text);
    assert.match(reply.body.token, /^1#/, 'the annotation written: the version, then a fresh token');

    const kv = await kvRead(`${ns}/db`);
    assert.equal(kv.version, 4, 'one new version');
    assert.deepEqual(kv.data, { password: canary, user: 'app' }, "version 1's value, whole");
    await rolledOutOnce(before);
    const sr = await rotation('db');
    assert.equal(sr?.status?.currentVersion, '4');
    assert.deepEqual(
      sr?.status?.history?.map((h) => [h.version, h.outcome, h.restoredFrom]),
      [
        ['4', 'RolledBack', '1'],
        ['3', 'Succeeded', undefined],
        ['2', 'Succeeded', undefined],
      ],
    );
    assert.equal((await vaultSecret('db'))?.status?.sourceVersions?.[`${ns}/db`], '4');
  });

  it('through the annotation: version 2 is back as version 5, the Secret follows at once, one rollout', async () => {
    const before = await generation();
    const second = (await bao('GET', `secret/data/${ns}/db?version=2`)) as KvRead;
    const started = Date.now();
    await mergePatch(client, ref('SecretRotation', 'db'), {
      metadata: { annotations: { [ROLLBACK_TO]: '2' } },
    });
    const followed = await followedAfter(started, second.data.data.password!);
    console.log(
      `      annotation rollback: the Secret held the restored value ${followed} ms after the patch`,
    );
    assert.ok(followed < 1000, `the VaultSecret followed within a second (${followed} ms)`);
    const sr = await idleAt('db', '5');
    assert.equal((await kvRead(`${ns}/db`)).data.password, second.data.data.password);
    await rolledOutOnce(before);
    assert.deepEqual(
      sr.status?.history?.slice(0, 2).map((h) => [h.version, h.outcome, h.restoredFrom]),
      [
        ['5', 'RolledBack', '2'],
        ['4', 'RolledBack', '1'],
      ],
    );
    assert.match(sr.status?.rollbackToHandled ?? '', /^sha256:/, 'a digest, not the value');
    // The VaultSecret's own history has both changes (versions and MACs, no values).
    const changes = (await vaultSecret('db'))?.status?.history ?? [];
    const synced = changes.map((h) => h.sourceVersions?.[`${ns}/db`]);
    assert.ok(synced.includes('5') && synced.includes('4'), `history versions: ${synced.join(', ')}`);
    const triggers = changes.slice(0, 3).map((h) => `${h.sourceVersions?.[`${ns}/db`]} ${h.trigger}`);
    console.log(`      VaultSecret history, newest first: ${triggers.join(', ')}`);
  });

  it('over gRPC, a version that does not exist: Failed with RollbackRefused, nothing written', async () => {
    const reply = await grpcApi.unary(
      'Triggers',
      'RollbackSecret',
      { namespace: ns, name: 'db', toVersion: '99', waitSeconds: 20 },
      tokens.editor,
    );
    answers.push(JSON.stringify(reply));
    assert.equal(reply.code, grpcStatus.OK, reply.details);
    assert.equal(reply.body.results[0].state, 'Failed', JSON.stringify(reply.body));
    assert.equal(reply.body.results[0].reason, 'RollbackRefused');
    assert.match(
      reply.body.results[0].message,
      /version 99 of team-rollback\/db does not exist; nothing was written/,
    );
    assert.equal((await kvRead(`${ns}/db`)).version, 5);
    assert.equal((await rotation('db'))?.status?.phase, 'Failed');
  });

  it('a tenant holding view gets 403 over both transports; nothing is annotated', async () => {
    const overHttps = await httpsCall(
      { address: operator.apiAddress!, caPem: operator.apiCaPem },
      'POST',
      `/v1/namespaces/${ns}/secretrotations/db:rollback`,
      tokens.viewer,
      { toVersion: '1' },
    );
    const overGrpc = await grpcApi.unary(
      'Triggers',
      'RollbackSecret',
      { namespace: ns, name: 'db', toVersion: '1' },
      tokens.viewer,
    );
    answers.push(overHttps.text, JSON.stringify(overGrpc));
    assert.equal(overHttps.status, 403, overHttps.text);
    assert.match(overHttps.body.message, /may not create secretrotations\/rollback/);
    assert.equal(overGrpc.code, grpcStatus.PERMISSION_DENIED);
    // An editor of this namespace is nobody in another one.
    const elsewhere = await httpsCall(
      { address: operator.apiAddress!, caPem: operator.apiCaPem },
      'POST',
      `/v1/namespaces/${otherNs}/secretrotations/db:rollback`,
      tokens.editor,
      { toVersion: '1' },
    );
    answers.push(elsewhere.text);
    assert.equal(elsewhere.status, 403, elsewhere.text);
    const sr = await rotation('db');
    assert.match(sr?.metadata?.annotations?.[ROLLBACK_TO] ?? '', /^99#/, 'still the last allowed call');
  });

  it('a path outside allowedWritePaths: RollbackRefused naming the rule, nothing written', async () => {
    await rollbackAskedOn('readonly', `${ns}/readonly`);
    const sr = await eventually('refused', async () => {
      const x = await rotation('readonly');
      return ready(x)?.reason === 'RollbackRefused' ? x : undefined;
    });
    assert.match(ready(sr)?.message ?? '', /allowedWritePaths/);
    assert.match(ready(sr)?.message ?? '', /nothing was written/);
    assert.equal(sr.status?.phase, 'Failed');
    assert.equal((await kvRead(`${ns}/readonly`)).version, 2, 'nothing written');
  });

  it("another tenant's path named by this tenant's rotation: refused before any read, its value never shown", async () => {
    await rollbackAskedOn('foreign', `${otherNs}/db`);
    // Answered at once; the rotation then fails its own read of the path the same way.
    const sr = await eventually('answered', async () => {
      const x = await rotation('foreign');
      return x?.status?.rollbackToHandled ? x : undefined;
    });
    assert.ok(['RollbackRefused', 'TenancyDenied'].includes(ready(sr)?.reason ?? ''), ready(sr)?.reason);
    const refusal = await eventually('the RollbackRefused event', async () => {
      const events = await client.rest.request<{ items: CoreV1Event[] }>({
        method: 'GET',
        path: `/api/v1/namespaces/${ns}/events`,
        query: { fieldSelector: 'involvedObject.name=foreign,reason=RollbackRefused' },
      });
      return events.items[0];
    });
    assert.match(refusal.message ?? '', /\(TenancyDenied\): .*not allowed for namespace "team-rollback"/);
    assert.equal((await kvRead(`${otherNs}/db`)).version, 2, 'nothing written');
  });

  it('no value in any status, event, log line, audit line or API answer; the audit names each call', async () => {
    const events = await client.rest.request<{ items: CoreV1Event[] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/events`,
    });
    const reasons = events.items
      .filter((e) => e.involvedObject.kind === 'SecretRotation')
      .map((e) => e.reason);
    assert.ok(reasons.includes('RolledBackTo') && reasons.includes('RollbackRefused'), reasons.join());
    const audit = readFileSync(auditFile, 'utf8');
    const lines = audit
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { action: string; status: number; detail?: { toVersion?: string } });
    const rollbacks = lines.filter((l) => l.action === 'secretrotations.rollback');
    assert.deepEqual(
      rollbacks.map((l) => [l.status, l.detail?.toVersion]),
      [
        [400, undefined],
        [200, '1'],
        [200, '99'],
        [403, undefined],
        [403, undefined],
        [403, undefined],
      ],
    );
    const everything = [
      JSON.stringify(await rotation('db')),
      JSON.stringify(await rotation('readonly')),
      JSON.stringify(await rotation('foreign')),
      JSON.stringify(await vaultSecret('db')),
      JSON.stringify(events.items),
      operator.logs.join('\n'),
      audit,
      ...answers,
    ].join('\n');
    for (const v of values) assert.ok(!everything.includes(v), 'a value leaked');
  });
});
