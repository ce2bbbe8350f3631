// Fault case (issue 14, Deliver 1 and 8): the leader frozen (SIGSTOP) past its lease while a
// standby takes over, then resumed. Two operator processes as shipped (the chart's identity and
// RBAC, least-privilege OpenBao) on the shared bed — only the operators are frozen, the bed stays
// healthy. The leader is frozen in the middle of real work (a cold sync of a few hundred
// VaultSecrets: reads done, writes pending), OpenBao's value changes while it is frozen, and the
// standby takes over and finishes. Then the old leader resumes with stale data in hand.
//
// Asserted from the apiserver's own view (its audit log, which names the replica in the
// User-Agent, and a watch of every Secret version):
// - ZERO write requests from the old leader after it resumed, and none between the takeover and
//   the resume; nothing unattributed either;
// - the old leader stands down (exits for a fresh replica);
// - no wrong Secret write: every version holds a value OpenBao held, never blanked, never an
//   older value after a newer one; every Secret correct at the end;
// - the Deployment consuming a Secret is restarted at most once (one real change).
// The unit tests in src/kube/rest.test.ts show the same writes going out without the fence.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../../src/apis/v1alpha1/index.ts';
import {
  type KubeClient,
  createKubeClient,
  createObject,
  getObject,
  mergePatch,
} from '../../src/kube/index.ts';
import { type AuditEvent, AuditLog, ChangeRecorder, type StoredChange } from '../support/api-writes.ts';
import { installCrds } from '../support/crds.ts';
import { OPERATOR_NAMESPACE, ensureNamespace } from '../support/operator.ts';
import { OperatorProcess, leaseHolder, writeShippedOperatorFiles } from '../support/operator-process.ts';
import { isReady } from '../support/ready.ts';
import { testbed, type Testbed } from '../support/testbed.ts';
import { auditLogFile } from '../support/testbed/control-plane.ts';
import { baoApi } from '../support/testbed/openbao.ts';
import { delay, eventually } from '../support/wait.ts';
import { BackendTruth, describeWrongWrite, wrongSecretWrites } from './backend-truth.ts';
import { faultsMode, reportFault } from './report.ts';

const API = 'vaultsync.io/v1alpha1';
const NS = 'team-freeze';
const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:vaultsync`;
const TOLERATIONS = [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }];
const full = faultsMode() === 'full';
const COUNT = full ? 400 : 200;
const FREEZE_MS = full ? 30_000 : 15_000;
// A short lease, so the standby takes over inside the freeze (at most leaseDuration + retryPeriod
// after the last renewal), yet long enough for a busy test machine to renew in time.
const LEASE = { enabled: true, leaseDuration: '10s', renewDeadline: '7s', retryPeriod: '1s' };
const seconds = (ms: number) => Math.round(ms / 100) / 10;

type Audited = AuditEvent & { userAgent?: string };

/** Runs `fn` over `items`, `width` at a time. */
async function inBatches<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn));
}

/** The value of key `v` in a stored Secret version (undefined: no such key). */
const valueOf = (obj: unknown): string | undefined => {
  const v = (obj as V1Secret | undefined)?.data?.v;
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
};

/** Changes of the pod template's annotations (a rollout restart), per Deployment version. */
function restarts(changes: readonly StoredChange[], initial: Map<string, unknown>, name: string): number {
  let before = JSON.stringify(
    (initial.get(`deployments ${NS}/${name}`) as V1Deployment | undefined)?.spec?.template?.metadata
      ?.annotations ?? {},
  );
  let count = 0;
  for (const c of changes) {
    if (c.resource !== 'deployments' || c.name !== name || c.type === 'DELETED') continue;
    const now = JSON.stringify((c.after as V1Deployment).spec?.template?.metadata?.annotations ?? {});
    if (now !== before) count++;
    before = now;
  }
  return count;
}

describe('fault: the leader frozen past its lease, then resumed', function () {
  this.timeout(full ? 600_000 : 240_000);
  let bed: Testbed;
  let client: KubeClient;
  const replicas: OperatorProcess[] = [];

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    client = createKubeClient(bed.kubeConfig());
    await installCrds(bed.kubeConfig());
    await ensureNamespace(bed.kubeConfig(), NS);
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    // What each replica said last (never a secret value: the operator does not log them).
    for (const r of replicas)
      console.log(`      --- ${r.identity} (last lines)\n${r.logs.slice(-40).join('\n')}`);
  });

  after(() => {
    for (const r of replicas) r.kill();
  });

  /** A replica as shipped (not restarted when it exits: the stand-down is what is asserted). */
  function startReplica(identity: string, files: { configFile: string; kubeconfigFile: string }) {
    const replica = new OperatorProcess({ identity, ...files });
    replicas.push(replica);
    return replica;
  }

  const listSecrets = async () =>
    (
      await client.rest.request<{ items: V1Secret[] }>({
        method: 'GET',
        path: `/api/v1/namespaces/${NS}/secrets`,
      })
    ).items;

  it('the old leader writes nothing after it resumes; the standby finishes the work', async () => {
    const audit = AuditLog.open(auditLogFile(bed.dir));
    assert.ok(audit, 'the bed keeps an apiserver audit log');
    const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    const kv = (v: string) => bao('POST', `secret/data/${NS}/app`, { data: { v } });
    const canary = (n: number) => `canary-freeze-${n}-${randomBytes(6).toString('hex')}`;
    const history = [canary(1), canary(2)];
    const names = Array.from({ length: COUNT }, (_, i) => `app-${i}`);
    /** Backend truth: every Secret may hold canary 1, then canary 2 (recorded before OpenBao has it). */
    const truth = new BackendTruth();
    const change = async (v: string) => {
      for (const name of names) truth.record(name, { v });
      await kv(v);
    };
    await change(history[0]!);

    // A Deployment restarted when app-0's data changes (the one real change: canary 1 → 2).
    await createObject<V1Deployment>(client, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS, annotations: { 'vaultsync.io/reload-debounce': '1s' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              { name: 'app', image: 'example.invalid/app:1', envFrom: [{ secretRef: { name: 'app-0' } }] },
            ],
            tolerations: TOLERATIONS,
          },
        },
      },
    });
    const recorder = new ChangeRecorder(
      bed.kubeConfig(),
      [
        { resource: 'secrets', path: `/api/v1/namespaces/${NS}/secrets` },
        { resource: 'deployments', path: `/apis/apps/v1/namespaces/${NS}/deployments` },
      ],
      new Set([NS]),
    );
    await recorder.start();
    const from = audit.mark();

    // Two replicas as shipped, with a short lease.
    const files = await writeShippedOperatorFiles(bed, { name: 'freeze', leaderElection: LEASE });
    const a = startReplica('freeze-a', files);
    await eventually(
      'freeze-a leads',
      async () => ((await leaseHolder(client)) === 'freeze-a' ? true : undefined),
      60_000,
      200,
    );
    const b = startReplica('freeze-b', files);
    await eventually(
      'freeze-b started',
      () => (b.logs.some((l) => l.includes('Started vaultsync')) ? true : undefined),
      60_000,
    );

    try {
      // Work in flight: a cold sync of COUNT VaultSecrets.
      const created = inBatches(names, 25, (name) =>
        createObject<VaultSecret>(client, {
          apiVersion: API,
          kind: 'VaultSecret',
          metadata: { name, namespace: NS },
          spec: {
            backend: 'vault',
            data: [{ secretKey: 'v', remoteRef: { path: `${NS}/app`, property: 'v' } }],
            ...(name === 'app-0' && { rolloutRestartTargets: [{ kind: 'Deployment', name: 'web' }] }),
          },
        }),
      );
      const frozenWith = await eventually(
        'a quarter synced by the leader',
        async () => {
          const n = (await listSecrets()).length;
          return n >= COUNT / 4 ? n : undefined;
        },
        120_000,
        50,
      );

      // The freeze, with the leader's reads done and its writes pending.
      assert.ok(a.running, 'the leader is still running before the freeze');
      a.signal('SIGSTOP');
      const frozenAt = Date.now();
      await change(history[1]!); // OpenBao changes while the old leader holds the old value
      await created;
      // Every VaultSecret asks for a sync, so those synced with canary 1 take canary 2.
      await inBatches(names, 25, (name) =>
        mergePatch(
          client,
          { apiVersion: API, kind: 'VaultSecret', namespace: NS, name },
          {
            metadata: { annotations: { 'vaultsync.io/sync-now': 'after-freeze' } },
          },
        ),
      );
      await eventually(
        'freeze-b leads',
        async () => ((await leaseHolder(client)) === 'freeze-b' ? true : undefined),
        60_000,
        100,
      );
      const takeoverAt = Date.now();
      await delay(Math.max(0, frozenAt + FREEZE_MS - Date.now()));
      a.signal('SIGCONT');
      const resumedAt = Date.now();

      // The old leader stands down: it exits for a fresh replica.
      const exit = await Promise.race([a.exited(), delay(30_000).then(() => undefined)]);
      assert.equal(exit?.code, 1, 'the old leader exited with status 1 after it resumed');

      const correct = async () => {
        const secrets = await listSecrets();
        const good = secrets.filter((s) => valueOf(s) === history[1]).length;
        return good === COUNT ? true : undefined;
      };
      await eventually('every Secret holds canary 2', correct, 180_000, 250);
      const convergedAt = Date.now();
      await delay(2000); // stragglers would show now
      recorder.assertComplete();

      // What the apiserver saw, by replica (the User-Agent names it).
      const requests = (audit.events(from) as Audited[]).filter((e) => e.user.username === OPERATOR_USER);
      const at = (e: Audited) => Date.parse(e.requestReceivedTimestamp);
      // A TokenRequest (for a Vault login) is audited as a create but stores nothing: counted apart.
      const isTokenRequest = (e: Audited) => e.objectRef?.subresource === 'token';
      const events = requests.filter((e) => !isTokenRequest(e));
      const byA = events.filter((e) => e.userAgent?.includes('(freeze-a)'));
      const byB = events.filter((e) => e.userAgent?.includes('(freeze-b)'));
      const unattributed = requests.filter(
        (e) => !e.userAgent?.includes('(freeze-a)') && !e.userAgent?.includes('(freeze-b)'),
      );
      const aTokenRequestsAfterResume = requests.filter(
        (e) => isTokenRequest(e) && e.userAgent?.includes('(freeze-a)') && at(e) >= resumedAt,
      ).length;
      const describe = (list: Audited[]) =>
        list.map(
          (e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.subresource ?? ''} ${e.objectRef?.name}`,
        );
      const aBeforeFreeze = byA.filter((e) => at(e) < frozenAt).length;
      const aAfterTakeover = byA.filter((e) => at(e) >= takeoverAt && at(e) < resumedAt);
      const aAfterResume = byA.filter((e) => at(e) >= resumedAt);
      const bDuringFreeze = byB.filter((e) => at(e) >= frozenAt && at(e) < resumedAt).length;
      const refused = a.logs.filter((l) => l.includes('not the leader')).length;

      const wrong = wrongSecretWrites(recorder.changes, truth).map(describeWrongWrite);
      const webRestarts = restarts(recorder.changes, recorder.initial as Map<string, unknown>, 'web');
      reportFault({
        fault: 'Leader frozen (SIGSTOP) past its lease, then resumed',
        faultSeconds: seconds(resumedAt - frozenAt),
        wrongSecretWrites: wrong.length,
        recoverySeconds: seconds(Math.max(0, convergedAt - resumedAt)),
        requestsDuringFault: {
          'old leader writes': byA.filter((e) => at(e) >= frozenAt).length,
          'new leader writes': bDuringFreeze,
        },
        notes:
          `${COUNT} VaultSecrets, ${frozenWith} synced at the freeze; takeover ${seconds(takeoverAt - frozenAt)} s ` +
          `into the freeze; old leader: ${aBeforeFreeze} writes before, 0 expected after, ${refused} refused by ` +
          `its fence (log lines), ${aTokenRequestsAfterResume} TokenRequests after resume; Deployment restarts ${webRestarts}`,
      });

      assert.ok(aBeforeFreeze > 0, 'the audit log attributes the old leader its writes (User-Agent)');
      assert.deepEqual(
        describe(aAfterTakeover),
        [],
        'no write from the old leader between takeover and resume',
      );
      assert.deepEqual(describe(aAfterResume), [], 'no write from the old leader after it resumed');
      assert.deepEqual(
        unattributed.map((e) => `${describe([e])[0]} by ${e.userAgent}`),
        [],
        'every operator write names its replica',
      );
      assert.deepEqual(wrong, [], 'no wrong Secret write');
      assert.ok(webRestarts <= 1, `the Deployment restarted ${webRestarts} times for one change`);
      assert.ok(
        isReady(
          await getObject<VaultSecret>(client, {
            apiVersion: API,
            kind: 'VaultSecret',
            namespace: NS,
            name: 'app-0',
          }),
        ),
        'app-0 is Ready',
      );
    } finally {
      recorder.stop();
      // Leave nothing for later test files' operators: delete while the new leader still runs.
      await client.rest
        .request({ method: 'DELETE', path: `/apis/${API}/namespaces/${NS}/vaultsecrets` })
        .catch(() => undefined);
      await eventually(
        'VaultSecrets gone',
        async () =>
          (
            await client.rest.request<{ items: unknown[] }>({
              method: 'GET',
              path: `/apis/${API}/namespaces/${NS}/vaultsecrets`,
            })
          ).items.length === 0
            ? true
            : undefined,
        60_000,
        250,
      ).catch(() => undefined);
      // A clean shutdown releases the Lease.
      await b.stop();
    }
    assert.equal(await leaseHolder(client), '', 'the Lease is released on clean shutdown');
  });
});
