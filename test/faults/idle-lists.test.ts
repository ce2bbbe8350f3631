// The idle case of the fault suite (issue 14, Deliver 5): not a fault, but the figure belongs in
// the same table. Many VaultSecrets, all synced, then the operator left alone with a short
// resync period: from the apiserver's audit log, the operator lists nothing after its first list
// of each resource (the resync replays its caches instead of relisting), writes nothing, and
// reads no backend (nothing is due). It runs on a PRIVATE bed that audits ServiceAccounts' lists
// and watches (auditReads), with the operator as shipped (chart identity and RBAC,
// least-privilege OpenBao, leader election on).
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject } from '../../src/kube/index.ts';
import { ChangeRecorder } from '../support/api-writes.ts';
import { installCrds } from '../support/crds.ts';
import {
  OPERATOR_NAMESPACE,
  type TestOperator,
  ensureNamespace,
  startTestOperator,
} from '../support/operator.ts';
import { readyVaultSecrets } from '../support/ready.ts';
import { auditLogFile } from '../support/testbed/control-plane.ts';
import type { Testbed } from '../support/testbed/index.ts';
import { baoApi } from '../support/testbed/openbao.ts';
import { delay, eventually } from '../support/wait.ts';
import { startPrivateBed, stopPrivateBed } from './private-bed.ts';
import { faultsMode, reportFault } from './report.ts';

const full = faultsMode() === 'full';
/**
 * The run (full): 1,000 resources idle for 10 minutes, replayed every 2 minutes. Quick
 * (make test): fewer resources and a shorter idle run, replayed every 10 s, to fit its budget.
 */
const COUNT = full ? 1000 : 200;
const RESYNC_SECONDS = full ? 120 : 10;
const IDLE_SECONDS = full ? 600 : 30;
const NS = 'team-idle';
const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:vaultsync`;
const MUTATING = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const name = (i: number) => `s${String(i).padStart(4, '0')}`;

interface AuditLine {
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string };
}

/** Audit lines between two byte offsets of the log, by the operator. */
function operatorRequests(file: string, from: number, to: number): AuditLine[] {
  return readFileSync(file)
    .subarray(from, to)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AuditLine)
    .filter((e) => e.user.username === OPERATOR_USER);
}

/** One count per request: lists and writes when answered, watches when opened. */
function countRequests(lines: readonly AuditLine[]) {
  const done = lines.filter((e) => e.stage === 'ResponseComplete');
  return {
    lists: done.filter((e) => e.verb === 'list'),
    watches: lines.filter((e) => e.verb === 'watch' && e.stage === 'ResponseStarted'),
    writes: done.filter((e) => MUTATING.has(e.verb)),
  };
}

const describeUri = (e: AuditLine) => `${e.verb} ${e.requestURI}`;

/** Sum of a counter's series whose labels match `labels` (from the operator's /metrics). */
async function counter(healthAddress: string, metric: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://${healthAddress}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    if (m[1]!.includes(labels)) sum += Number(m[2]);
  }
  return sum;
}
/** Backend calls that were answered or failed. */
const backendCalls = (health: string) => counter(health, 'vaultsync_backend_requests_total');
/** VaultSecret reconciles, whatever their result. */
const reconciles = (health: string) =>
  counter(health, 'controller_runtime_reconcile_total', 'controller="vaultsecret"');

async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

describe('faults: an idle operator lists nothing (private bed)', function () {
  this.timeout(full ? 1_800_000 : 600_000);
  let bed: Testbed;
  let client: KubeClient;
  let operator: TestOperator | undefined;
  let recorder: ChangeRecorder | undefined;
  /** The canary each path holds in OpenBao: the only value its Secret may ever hold. */
  const truth = new Map<string, string>();

  before(async function () {
    this.timeout(300_000);
    bed = await startPrivateBed('idle', { workloads: false, auditReads: true });
    client = createKubeClient(bed.kubeConfig());
    await installCrds(bed.kubeConfig());
    await ensureNamespace(bed.kubeConfig(), NS);
  });

  after(async function () {
    this.timeout(120_000);
    recorder?.stop();
    await operator?.stop();
    await stopPrivateBed(bed);
  });

  it(`${COUNT} VaultSecrets in sync, idle ${IDLE_SECONDS} s with resync every ${RESYNC_SECONDS} s: no LIST, no write, no backend read`, async () => {
    const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    const indexes = [...Array(COUNT).keys()];
    await inBatches(indexes, 25, async (i) => {
      const canary = `canary-${Math.random().toString(36).slice(2)}-${i}`;
      truth.set(name(i), canary);
      await bao('POST', `secret/data/${NS}/${name(i)}`, { data: { value: canary } });
    });
    await inBatches(indexes, 25, (i) =>
      createObject<VaultSecret>(client, {
        apiVersion: 'vaultsync.io/v1alpha1',
        kind: 'VaultSecret',
        metadata: { name: name(i), namespace: NS },
        spec: {
          backend: 'vault',
          data: [{ secretKey: 'value', remoteRef: { path: `${NS}/${name(i)}`, property: 'value' } }],
          // One in ten syncs once: nothing planned for it, so each replay reconciles it (from
          // the caches: no backend read, no write).
          ...(i % 10 === 0 && { refreshInterval: '0' }),
        },
      } as VaultSecret),
    );
    // Every version of every Secret of the namespace, from before the operator starts.
    recorder = new ChangeRecorder(
      bed.kubeConfig(),
      [{ resource: 'secrets', path: `/api/v1/namespaces/${NS}/secrets` }],
      new Set([NS]),
    );
    await recorder.start();

    const auditFile = auditLogFile(bed.dir);
    const atStart = statSync(auditFile).size;
    const started = Date.now();
    operator = await startTestOperator(bed, {
      leaderElection: true,
      config: `
operator:
  resyncPeriod: ${RESYNC_SECONDS}s
backends:
  - name: vault
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ["${NS}"]
    allowedPaths: ["{namespace}/*"]
    rateLimit: {qps: 200, burst: 200}
`,
    });
    const health = operator.healthAddress!;
    await eventually(
      `all ${COUNT} VaultSecrets Ready`,
      async () => ((await readyVaultSecrets(client, NS)) === COUNT ? true : undefined),
      full ? 900_000 : 240_000,
      2000,
    );
    const coldSyncSeconds = (Date.now() - started) / 1000;
    // The last status writes land; then nothing may move.
    await eventually('writes to settle', () => (recorder!.quietFor() > 3000 ? true : undefined), 60_000, 500);

    const idleFrom = statSync(auditFile).size;
    const changesBefore = recorder.changes.length;
    const backendBefore = await backendCalls(health);
    const reconcilesBefore = await reconciles(health);
    const replayLine =
      /"message":"Replayed cache".*"informer":"vaultsecrets"|"informer":"vaultsecrets".*"message":"Replayed cache"/;
    const replaysBefore = operator.logs.filter((l) => replayLine.test(l)).length;
    await delay(IDLE_SECONDS * 1000);
    const idleTo = statSync(auditFile).size;
    const backendDuring = (await backendCalls(health)) - backendBefore;
    const replayedReconciles = (await reconciles(health)) - reconcilesBefore;
    const replays = operator.logs.filter((l) => replayLine.test(l)).length - replaysBefore;
    const secretChanges = recorder.changes.slice(changesBefore);
    recorder.assertComplete();

    const first = countRequests(operatorRequests(auditFile, atStart, idleFrom));
    const idle = countRequests(operatorRequests(auditFile, idleFrom, idleTo));

    // No Secret version ever held anything but its canary (never blanked, never deleted).
    const wrong = recorder.changes.filter((c) => {
      const data = (c.after as V1Secret).data ?? {};
      const value = data.value === undefined ? undefined : Buffer.from(data.value, 'base64').toString();
      return c.type === 'DELETED' || value !== truth.get(c.name) || Object.keys(data).length !== 1;
    }).length;

    reportFault({
      fault: `idle, resync every ${RESYNC_SECONDS} s`,
      faultSeconds: IDLE_SECONDS,
      wrongSecretWrites: wrong,
      recoverySeconds: null,
      requestsDuringFault: {
        'apiserver lists': idle.lists.length,
        'apiserver watches': idle.watches.length,
        'apiserver writes': idle.writes.length,
        openbao: backendDuring,
      },
      notes:
        `${COUNT} VaultSecrets synced in ${coldSyncSeconds.toFixed(0)} s with ${first.lists.length} lists ` +
        `(each informer once, 500 a page); idle: ${replays} replays of each cache, ` +
        `${replayedReconciles} reconciles (the ${COUNT / 10} sync-once VaultSecrets, from the caches)`,
    });

    assert.equal(wrong, 0, 'every Secret version holds its canary');
    assert.ok(
      replays >= Math.floor(IDLE_SECONDS / RESYNC_SECONDS) - 1,
      `the caches were replayed while idle (${replays} replays of the VaultSecret cache)`,
    );
    assert.ok(
      replayedReconciles >= COUNT / 10,
      `replays reached the controller: the sync-once VaultSecrets were re-checked (${replayedReconciles} reconciles)`,
    );
    assert.deepEqual(idle.lists.map(describeUri), [], 'no LIST after the first one of each resource');
    assert.deepEqual(idle.writes.map(describeUri), [], 'no mutating request while idle');
    assert.equal(secretChanges.length, 0, 'no Secret changed while idle');
    assert.equal(backendDuring, 0, 'no backend call while idle: nothing was due');
    // Before the idle run too, every list was a first one: each informer's collection (with its
    // selector) listed once, pages aside.
    const firstPages = first.lists.filter((e) => !/[?&]continue=/.test(e.requestURI)).map(describeUri);
    assert.deepEqual(firstPages, [...new Set(firstPages)], 'no collection listed twice');
  });
});
