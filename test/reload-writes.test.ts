// One rollout, at most two writes to the workload (issue 14, Deliver 6), against the real
// control plane with the operator as shipped (chart ServiceAccount and RBAC, least-privilege
// OpenBao). Pending restarts live in the ConfigMap vaultsync-pending-restarts in the operator's
// namespace, never on the workload: a burst of five changed Secrets costs the Deployment one write
// (the restart), counted from the apiserver's audit log (every write request by the operator's
// ServiceAccount, refused ones included) and from metadata.generation. A pending restart
// survives an operator restart between the change and the debounce deadline (restarted once:
// not zero, not twice), and an earlier release's vaultsync.io/pending-restart annotation is read
// and removed by the restart itself.
import assert from 'node:assert/strict';
import type { V1ConfigMap, V1Deployment, V1ReplicaSet, V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject, getObject, mergePatch } from '../src/kube/index.ts';
import { AuditLog, type AuditEvent } from './support/api-writes.ts';
import { installCrds } from './support/crds.ts';
import {
  OPERATOR_NAMESPACE,
  ensureNamespace,
  startTestOperator,
  type TestOperator,
} from './support/operator.ts';
import { auditLogFile } from './support/testbed/control-plane.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { delay, eventually } from './support/wait.ts';

const ns = 'team-reload-writes';
const API = 'vaultsync.io/v1alpha1';
const TOLERATIONS = [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }];
const HMAC_ANNOTATION = 'vaultsync.io/secrets-hmac';
const PENDING_ANNOTATION = 'vaultsync.io/pending-restart';
const PENDING_CONFIGMAP = 'vaultsync-pending-restarts';
const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:vaultsync`;
const READS = new Set(['get', 'list', 'watch']);

describe('workload writes per rollout (pending restarts kept in the operator namespace)', function () {
  this.timeout(180_000);
  let bed: Testbed;
  let client: KubeClient;
  let operator: TestOperator;
  let audit: AuditLog;
  let bao: ReturnType<typeof baoApi>;
  const kv = (path: string, data: Record<string, string>) => bao('POST', `secret/data/${path}`, { data });

  const deployment = (name: string) =>
    getObject<V1Deployment>(client, { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name });
  const secret = (name: string) =>
    getObject<V1Secret>(client, { apiVersion: 'v1', kind: 'Secret', namespace: ns, name });
  const pendingStore = () =>
    getObject<V1ConfigMap>(client, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: OPERATOR_NAMESPACE,
      name: PENDING_CONFIGMAP,
    });
  const storedRecord = async (name: string) => (await pendingStore())?.data?.[`${ns}.Deployment.${name}`];
  const replicaSets = async (app: string) =>
    (
      await client.rest.request<{ items: V1ReplicaSet[] }>({
        method: 'GET',
        path: `/apis/apps/v1/namespaces/${ns}/replicasets`,
        query: { labelSelector: `app=${app}` },
      })
    ).items;
  const hmacOf = (d: V1Deployment | undefined) => d?.spec?.template?.metadata?.annotations?.[HMAC_ANNOTATION];

  /** Write requests the operator's ServiceAccount sent for one object (audit log, from a mark). */
  const operatorWrites = (from: number, resource: string, name: string, namespace = ns): AuditEvent[] =>
    audit
      .events(from)
      .filter(
        (e) =>
          e.user.username === OPERATOR_USER &&
          !READS.has(e.verb) &&
          e.objectRef?.resource === resource &&
          e.objectRef.namespace === namespace &&
          e.objectRef.name === name,
      );

  const synced = async (name: string) => {
    const vs = await getObject<VaultSecret>(client, {
      apiVersion: API,
      kind: 'VaultSecret',
      namespace: ns,
      name,
    });
    const ready = vs?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    return ready && vs?.status?.observedGeneration === vs?.metadata?.generation ? vs : undefined;
  };

  async function createVaultSecret(name: string) {
    await createObject<VaultSecret>(client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name, namespace: ns },
      spec: { backend: 'vault', dataFrom: [{ extract: { path: `${ns}/${name}` } }] },
    });
    return eventually(`${name} synced`, () => synced(name));
  }

  /** A new value in OpenBao, read now (a spec change; the refresh is an hour away), and synced. */
  let bumps = 0;
  async function change(name: string, value: string) {
    await kv(`${ns}/${name}`, { password: value });
    await mergePatch(
      client,
      { apiVersion: API, kind: 'VaultSecret', namespace: ns, name },
      { spec: { target: { annotations: { 'test/bump': String(++bumps) } } } },
    );
  }
  const holds = async (name: string, value: string) =>
    Buffer.from((await secret(name))?.data?.password ?? '', 'base64').toString() === value ? true : undefined;

  async function createDeployment(name: string, secrets: string[], annotations: Record<string, string>) {
    await createObject<V1Deployment>(client, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns, annotations },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'example.invalid/app:1',
                envFrom: secrets.map((s) => ({ secretRef: { name: s } })),
              },
            ],
            tolerations: TOLERATIONS,
          },
        },
      },
    });
    await eventually(`${name} rolled out`, () => rolledOut(name), 120_000);
  }

  async function rolledOut(name: string): Promise<V1Deployment | undefined> {
    const d = await deployment(name);
    const s = d?.status;
    const want = d?.spec?.replicas ?? 1;
    return d &&
      (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
      (s?.updatedReplicas ?? 0) === want &&
      (s?.replicas ?? 0) === want &&
      (s?.availableReplicas ?? 0) === want
      ? d
      : undefined;
  }

  before(async function () {
    this.timeout(240_000);
    bed = await testbed();
    client = createKubeClient(bed.kubeConfig());
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    const log = AuditLog.open(auditLogFile(bed.dir));
    assert.ok(log, 'the bed keeps an apiserver audit log');
    audit = log;
    await installCrds(bed.kubeConfig());
    await ensureNamespace(bed.kubeConfig(), ns);
    operator = await startTestOperator(bed);
  });

  after(async function () {
    this.timeout(90_000);
    await operator?.stop();
  });

  it('a burst of five changed Secrets: one rollout, one write to the Deployment, generation +1', async () => {
    const names = ['burst-a', 'burst-b', 'burst-c', 'burst-d', 'burst-e'];
    for (const n of names) await kv(`${ns}/${n}`, { password: `${n}-v1` });
    for (const n of names) await createVaultSecret(n);
    await createDeployment('burst', names, {
      'vaultsync.io/reload': 'true',
      'vaultsync.io/reload-debounce': '5s',
    });
    const before = await deployment('burst');
    const generation0 = before?.metadata?.generation ?? 0;
    const mark = audit.mark();

    for (const n of names) await change(n, `${n}-v2`);
    for (const n of names) await eventually(`${n} synced v2`, () => holds(n, `${n}-v2`));
    // While the burst waits for its debounce, its record is in the operator's namespace.
    const record = await eventually('the pending restart stored', () => storedRecord('burst'));
    assert.doesNotMatch(record, /-v2|-v1/, 'no value in the record');
    assert.equal(hmacOf(await deployment('burst')), undefined, 'not restarted during the debounce');

    const restarted = await eventually('burst restarted', async () => {
      const d = await deployment('burst');
      return hmacOf(d) ? d : undefined;
    });
    assert.deepEqual(
      (hmacOf(restarted) ?? '').split(',').map((e) => e.split('=')[0]),
      names,
      'the one restart carries the digests of all five Secrets',
    );
    await eventually('burst rolled out', () => rolledOut('burst'), 120_000);
    await eventually('the stored record removed after the restart', async () =>
      (await storedRecord('burst')) === undefined ? true : undefined,
    );
    await delay(3000); // nothing further comes

    const after = await deployment('burst');
    const generations = (after?.metadata?.generation ?? 0) - generation0;
    const writes = operatorWrites(mark, 'deployments', 'burst');
    const storeWrites = operatorWrites(mark, 'configmaps', PENDING_CONFIGMAP, OPERATOR_NAMESPACE);
    const sets = await replicaSets('burst');
    console.log(
      `      five-Secret burst: ${sets.length - 1} rollout, ${writes.length} write request(s) to the Deployment ` +
        `(${writes.map((e) => `${e.verb} ${e.responseStatus?.code}`).join(', ')}), generation +${generations}, ` +
        `${storeWrites.length} write(s) to ${OPERATOR_NAMESPACE}/${PENDING_CONFIGMAP}`,
    );
    assert.equal(sets.length, 2, 'exactly one rollout (one new ReplicaSet)');
    assert.ok(writes.length >= 1 && writes.length <= 2, `write requests to the Deployment: ${writes.length}`);
    assert.ok(generations >= 1 && generations <= 2, `metadata.generation increments: ${generations}`);
    assert.equal(
      after?.metadata?.annotations?.[PENDING_ANNOTATION],
      undefined,
      'nothing pending on the workload',
    );
    assert.ok(storeWrites.length >= 2, 'the record was stored and removed in the operator namespace');
  });

  it('a pending restart survives an operator restart before its debounce deadline: restarted once', async () => {
    await kv(`${ns}/survivor`, { password: 'survivor-v1' });
    await createVaultSecret('survivor');
    await createDeployment('survivor', ['survivor'], {
      'vaultsync.io/reload': 'true',
      'vaultsync.io/reload-debounce': '15s',
    });
    const generation0 = (await deployment('survivor'))?.metadata?.generation ?? 0;
    const mark = audit.mark();

    await change('survivor', 'survivor-v2');
    await eventually('survivor synced v2', () => holds('survivor', 'survivor-v2'));
    await eventually('the pending restart stored', () => storedRecord('survivor'));
    // The operator goes away with the restart still owed (15 s of debounce left, at most).
    await operator.stop();
    assert.equal(hmacOf(await deployment('survivor')), undefined, 'not restarted before the stop');
    operator = await startTestOperator(bed);

    await eventually('survivor restarted by the new process', async () =>
      hmacOf(await deployment('survivor')) ? true : undefined,
    );
    await eventually('survivor rolled out', () => rolledOut('survivor'), 120_000);
    await eventually('the stored record removed', async () =>
      (await storedRecord('survivor')) === undefined ? true : undefined,
    );
    await delay(5000); // a second restart would come now

    const writes = operatorWrites(mark, 'deployments', 'survivor');
    const generations = ((await deployment('survivor'))?.metadata?.generation ?? 0) - generation0;
    const sets = await replicaSets('survivor');
    console.log(
      `      across an operator restart: ${sets.length - 1} rollout, ${writes.length} write request(s) to the ` +
        `Deployment, generation +${generations}`,
    );
    assert.equal(sets.length, 2, 'restarted once: not zero, not twice');
    assert.equal(writes.length, 1, 'one write to the Deployment: the restart');
    assert.equal(generations, 1);
  });

  it('a pending restart survives a leader change: the new leader restarts once, the old one never', async () => {
    await kv(`${ns}/failover`, { password: 'failover-v1' });
    await createVaultSecret('failover');
    await createDeployment('failover', ['failover'], {
      'vaultsync.io/reload': 'true',
      'vaultsync.io/reload-debounce': '15s',
    });
    const leaseHolder = async () =>
      (
        await getObject<{ apiVersion?: string; spec?: { holderIdentity?: string } }>(client, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          namespace: OPERATOR_NAMESPACE,
          name: 'vaultsync-leader',
        })
      )?.spec?.holderIdentity;
    await operator.stop();
    const a = await startTestOperator(bed, { leaderElection: true, identity: 'writes-a' });
    await eventually('writes-a leads', async () => ((await leaseHolder()) === 'writes-a' ? true : undefined));
    const b = await startTestOperator(bed, { leaderElection: true, identity: 'writes-b' });
    operator = b;
    const generation0 = (await deployment('failover'))?.metadata?.generation ?? 0;
    const mark = audit.mark();

    await change('failover', 'failover-v2');
    await eventually('failover synced v2', () => holds('failover', 'failover-v2'));
    await eventually('the pending restart stored by the leader', () => storedRecord('failover'));
    await a.stop(); // releases the Lease: b takes over with the restart still owed
    assert.equal(hmacOf(await deployment('failover')), undefined, 'not restarted by the old leader');
    await eventually('writes-b leads', async () => ((await leaseHolder()) === 'writes-b' ? true : undefined));

    await eventually('failover restarted by the new leader', async () =>
      hmacOf(await deployment('failover')) ? true : undefined,
    );
    await eventually('failover rolled out', () => rolledOut('failover'), 120_000);
    await eventually('the stored record removed', async () =>
      (await storedRecord('failover')) === undefined ? true : undefined,
    );
    await delay(5000);
    const writes = operatorWrites(mark, 'deployments', 'failover');
    const generations = ((await deployment('failover'))?.metadata?.generation ?? 0) - generation0;
    const sets = await replicaSets('failover');
    console.log(
      `      across a leader change: ${sets.length - 1} rollout, ${writes.length} write request(s) to the ` +
        `Deployment, generation +${generations}`,
    );
    assert.equal(sets.length, 2, 'restarted once: not zero, not twice');
    assert.equal(writes.length, 1, 'one write to the Deployment: the restart');
    assert.equal(generations, 1);
    assert.match(b.logs.join('\n'), /"message":"Restarted Deployment"/);
    assert.doesNotMatch(a.logs.join('\n'), /"message":"Restarted Deployment"/);
  });

  it('an earlier release’s pending-restart annotation is read and removed by the restart itself', async () => {
    await kv(`${ns}/legacy`, { password: 'legacy-v1' });
    const vs = await createVaultSecret('legacy');
    await createDeployment('legacy', ['legacy'], { 'vaultsync.io/reload-debounce': '1s' });
    // What the previous release wrote on the workload for a changed Secret (its token: the
    // short form of status.secretMAC).
    const token = (vs.status?.secretMAC ?? '').replace(/^hmac-sha256:v\d+:/, '').slice(0, 16);
    assert.ok(token.length === 16);
    const at = new Date().toISOString();
    const mark = audit.mark();
    await mergePatch(
      client,
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'legacy' },
      {
        metadata: {
          annotations: {
            [PENDING_ANNOTATION]: JSON.stringify({
              secrets: { legacy: token },
              first: at,
              last: at,
              group: 'VaultSecret/legacy',
              reasons: ['Secret legacy changed'],
            }),
          },
        },
      },
    );
    const restarted = await eventually('legacy restarted', async () => {
      const d = await deployment('legacy');
      return hmacOf(d) ? d : undefined;
    });
    assert.equal(restarted.metadata?.annotations?.[PENDING_ANNOTATION], undefined, 'removed by the restart');
    assert.match(hmacOf(restarted) ?? '', /^legacy=/);
    await eventually('legacy rolled out', () => rolledOut('legacy'), 120_000);
    await delay(2000);
    const writes = operatorWrites(mark, 'deployments', 'legacy');
    console.log(
      `      old pending-restart annotation: ${writes.length} operator write request(s) to the Deployment`,
    );
    assert.equal(writes.length, 1, 'the restart is the only write');
    assert.equal((await replicaSets('legacy')).length, 2, 'one rollout');
  });
});
