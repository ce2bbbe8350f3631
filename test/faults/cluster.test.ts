// Fault cases of the control plane (issue 14, Deliver 8): kube-apiserver frozen, kube-apiserver
// restarted, etcd compacted at head, and the operator SIGKILLed every 5 s through a cold sync.
// They break the control plane, so they run on a PRIVATE bed (started here, stopped after): the
// shared bed of later test files stays healthy. The operator runs as shipped, as a child process
// restarted like a container (test/support/operator-process.ts), with leader election on.
//
// What every case asserts, from the apiserver's own view:
// - no wrong Secret write: every version of every managed Secret (a watch of all of them, from
//   before the operator starts) holds exactly a value OpenBao held for it (canaries written to
//   OpenBao by this test), never blanked, never deleted;
// - recovery: everything correct again (and how long it took from the end of the fault);
// - what the operator sent meanwhile: its writes, lists and watches from the apiserver's audit log
//   (the bed audits ServiceAccounts' lists and watches: auditReads), its OpenBao requests from
//   its metrics;
// - the Deployment that consumes a Secret (vaultsync.io/reload) is restarted only by a real change.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject } from '../../src/kube/index.ts';
import { type AuditEvent, AuditLog, ChangeRecorder } from '../support/api-writes.ts';
import { installCrds } from '../support/crds.ts';
import { OPERATOR_NAMESPACE, ensureNamespace } from '../support/operator.ts';
import { OperatorProcess, writeShippedOperatorFiles } from '../support/operator-process.ts';
import { isReady } from '../support/ready.ts';
import { auditLogFile } from '../support/testbed/control-plane.ts';
import type { Testbed } from '../support/testbed/index.ts';
import { baoApi } from '../support/testbed/openbao.ts';
import { killGroup } from '../support/testbed/processes.ts';
import { delay, eventually } from '../support/wait.ts';
import { BackendRequestMeter } from './backend-requests.ts';
import { BackendTruth, describeWrongWrite, wrongSecretWrites } from './backend-truth.ts';
import { startPrivateBed, stopPrivateBed } from './private-bed.ts';
import { faultsMode, reportFault } from './report.ts';

const API = 'vaultsync.io/v1alpha1';
const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:vaultsync`;
const TOLERATIONS = [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }];
const full = faultsMode() === 'full';
const seconds = (ms: number) => Math.round(ms / 100) / 10;
// The chart's Lease timings (charts/vaultsync/values.yaml), not the tests' short ones: how long a
// replica rides out an unreachable apiserver is part of what these cases measure.
const CHART_LEASE = { enabled: true, leaseDuration: '15s', renewDeadline: '10s', retryPeriod: '2s' };

type Audited = AuditEvent & { requestURI?: string };

describe('faults: kube-apiserver, etcd and the operator killed (private bed)', function () {
  this.timeout(full ? 2_400_000 : 900_000);
  let bed: Testbed;
  let client: KubeClient;
  let audit: AuditLog;
  let bao: ReturnType<typeof baoApi>;
  /** Every value this test ever wrote to OpenBao, by path (`ns/name`), oldest first. */
  const truth = new BackendTruth();
  const operators: OperatorProcess[] = [];
  const recorders: ChangeRecorder[] = [];

  before(async function () {
    this.timeout(300_000);
    bed = await startPrivateBed('cluster', { auditReads: true });
    client = createKubeClient(bed.kubeConfig());
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await installCrds(bed.kubeConfig());
    audit = AuditLog.open(auditLogFile(bed.dir))!;
  });

  // One operator per case: the next case's operator must not find another one leading.
  afterEach(async function () {
    this.timeout(60_000);
    for (const r of recorders.splice(0)) r.stop();
    await Promise.allSettled(operators.splice(0).map((o) => o.stop()));
  });

  after(async function () {
    this.timeout(120_000);
    // The apiserver may still be stopped if a case failed half-way: stopPrivateBed resumes it.
    await stopPrivateBed(bed);
  });

  // --- the backend: canaries in OpenBao ---

  /** Writes a canary; it is recorded as a legitimate value before OpenBao has it. */
  async function putCanary(path: string, value: string): Promise<void> {
    const data = truth.record(path, { password: value });
    await bao('POST', `secret/data/${path}`, { data });
  }

  async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
    for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
  }

  const names = (n: number) => Array.from({ length: n }, (_, i) => `app-${i}`);
  /** A run-unique canary: a Secret holding it can only have read it from OpenBao. */
  const canary = (ns: string, name: string, version: number) =>
    `canary-${ns}-${name}-v${version}-${Math.random().toString(36).slice(2, 8)}`;

  async function createVaultSecret(ns: string, name: string, refreshInterval: string): Promise<void> {
    await createObject<VaultSecret>(client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name, namespace: ns },
      spec: {
        backend: 'vault',
        refreshInterval,
        data: [{ secretKey: 'password', remoteRef: { path: `${ns}/${name}`, property: 'password' } }],
      },
    });
  }

  /** A namespace with `n` VaultSecrets (canary v1 each) and a Deployment consuming app-0. */
  async function setUp(ns: string, n: number, refreshInterval: string): Promise<void> {
    await ensureNamespace(bed.kubeConfig(), ns);
    await inBatches(names(n), 25, (name) => putCanary(`${ns}/${name}`, canary(ns, name, 1)));
    await createConsumer(ns);
    await inBatches(names(n), 25, (name) => createVaultSecret(ns, name, refreshInterval));
  }

  /** A Deployment with `vaultsync.io/reload: "true"` reading app-0's password, rolled out by kwok. */
  async function createConsumer(ns: string): Promise<void> {
    await createObject<V1Deployment>(client, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'consumer', namespace: ns, annotations: { 'vaultsync.io/reload': 'true' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'consumer' } },
        template: {
          metadata: { labels: { app: 'consumer' } },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'example.invalid/app:1',
                env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'app-0', key: 'password' } } }],
              },
            ],
            tolerations: TOLERATIONS,
          },
        },
      },
    });
  }

  // --- what the apiserver saw ---

  /** Records every stored version of the namespace's Secrets and Deployments from now on. */
  async function record(ns: string): Promise<ChangeRecorder> {
    const recorder = new ChangeRecorder(
      bed.kubeConfig(),
      [
        { resource: 'secrets', path: '/api/v1/secrets' },
        { resource: 'deployments', path: '/apis/apps/v1/deployments' },
      ],
      new Set([ns]),
    );
    await recorder.start();
    recorders.push(recorder);
    return recorder;
  }

  /** Wrong versions of the namespace's managed Secrets (backend-truth.ts), never a value. */
  function wrongWrites(recorder: ChangeRecorder, ns: string): string[] {
    const versions = recorder.changes.filter((c) => c.namespace === ns && c.name.startsWith('app-'));
    return wrongSecretWrites(versions, truth, (c) => `${c.namespace}/${c.name}`).map(describeWrongWrite);
  }

  /** Changes of the consumer's pod template after the first rollout: workload restarts. */
  function workloadRestarts(recorder: ChangeRecorder, ns: string): number {
    let template: string | undefined = JSON.stringify(
      (recorder.initial.get(`deployments ${ns}/consumer`) as V1Deployment | undefined)?.spec?.template,
    );
    let restarts = 0;
    for (const c of recorder.changes) {
      if (c.resource !== 'deployments' || c.namespace !== ns || c.name !== 'consumer') continue;
      const next = JSON.stringify((c.after as V1Deployment).spec?.template);
      if (template !== undefined && next !== template) restarts++;
      template = next;
    }
    return restarts;
  }

  /** Names of the VaultSecrets not yet correct: Secret data from OpenBao's latest, Ready, current. */
  async function notCorrect(ns: string, n: number): Promise<string[]> {
    const [secrets, resources] = await Promise.all([
      client.rest.request<{ items: V1Secret[] }>({ method: 'GET', path: `/api/v1/namespaces/${ns}/secrets` }),
      client.rest.request<{ items: VaultSecret[] }>({
        method: 'GET',
        path: `/apis/${API}/namespaces/${ns}/vaultsecrets`,
      }),
    ]);
    const secretByName = new Map(secrets.items.map((s) => [s.metadata?.name, s]));
    const vsByName = new Map(resources.items.map((v) => [v.metadata?.name, v]));
    return names(n).filter((name) => {
      const data = secretByName.get(name)?.data;
      const value =
        data?.password === undefined ? undefined : Buffer.from(data.password, 'base64').toString();
      const vs = vsByName.get(name);
      const ready = isReady(vs);
      return !(
        value === truth.latest(`${ns}/${name}`)?.password &&
        Object.keys(data ?? {}).length === 1 &&
        ready &&
        vs?.status?.observedGeneration === vs?.metadata?.generation
      );
    });
  }

  async function allCorrect(ns: string, n: number, timeoutMs: number): Promise<void> {
    let missing: string[] = [];
    try {
      await eventually(
        `all ${n} VaultSecrets of ${ns} correct`,
        async () => ((missing = await notCorrect(ns, n)).length === 0 ? true : undefined),
        timeoutMs,
        500,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; not correct: ${missing.slice(0, 10).join(', ')}`, {
        cause: err,
      });
    }
  }

  /** The operator's requests the apiserver audited between two marks (writes, lists, watches). */
  function operatorRequests(from: number, to?: number): Audited[] {
    return (audit.events(from, to) as Audited[]).filter((e) => e.user.username === OPERATOR_USER);
  }

  const isWrite = (e: Audited) => ['create', 'update', 'patch', 'delete'].includes(e.verb);

  /** Lists by informer: path and selectors of the request (resourceVersion and limits left out). */
  function listsByInformer(events: Audited[]): Map<string, number> {
    const lists = new Map<string, number>();
    for (const e of events) {
      if (e.verb !== 'list' || !e.requestURI) continue;
      const url = new URL(e.requestURI, 'https://apiserver');
      const key = [url.pathname, url.searchParams.get('labelSelector'), url.searchParams.get('fieldSelector')]
        .filter(Boolean)
        .join(' ');
      lists.set(key, (lists.get(key) ?? 0) + 1);
    }
    return lists;
  }

  /** Stored writes (a TokenRequest for the OpenBao login stores nothing), as `verb resource ns/name`. */
  const describeWrites = (events: Audited[]) =>
    events
      .filter((e) => isWrite(e) && e.objectRef?.subresource !== 'token')
      .map(
        (e) =>
          `${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''} ` +
          `${e.objectRef?.namespace}/${e.objectRef?.name}`,
      );

  async function apiserverAnswers(): Promise<boolean> {
    await client.rest.request({ method: 'GET', path: '/api/v1/namespaces/default', timeoutMs: 2000 });
    return true;
  }

  const apiserver = () => bed.processes.find((p) => p.name === 'kube-apiserver')!;

  /**
   * The operator as shipped, as its container runs it: started again `restartDelayMs` after it
   * exits (a restarted container keeps the pod's identity). Stopped after the case.
   */
  async function startOperator(name: string, restartDelayMs = 1000): Promise<OperatorProcess> {
    const files = await writeShippedOperatorFiles(bed, { name, leaderElection: CHART_LEASE });
    const operator = new OperatorProcess({
      identity: `${name}-0`,
      ...files,
      logFile: join(bed.dir, 'logs', `${name}.log`),
      restartDelayMs,
    });
    operators.push(operator);
    return operator;
  }

  /**
   * What an apiserver outage cost, from `mark` (audit log) and `changesBefore` (stored changes):
   * lists per informer, the operator's writes and the Secret versions stored in `ns` (the probe,
   * created after the outage to show the operator works again, left out), wrong Secret versions
   * and consumer restarts. The recorder must have seen every change.
   */
  function sinceOutage(c: {
    ns: string;
    recorder: ChangeRecorder;
    mark: number;
    probe: string;
    changesBefore: number;
    restartsBefore: number;
  }) {
    c.recorder.assertComplete();
    const events = operatorRequests(c.mark);
    return {
      lists: listsByInformer(events),
      // In this case's namespace: the operator also serves the earlier cases' resources.
      rewrites: describeWrites(events).filter((w) => w.includes(` ${c.ns}/`) && !w.endsWith(`/${c.probe}`)),
      rewrittenSecrets: c.recorder.changes
        .slice(c.changesBefore)
        .filter((ch) => ch.resource === 'secrets' && ch.name !== c.probe),
      wrong: wrongWrites(c.recorder, c.ns),
      restarts: workloadRestarts(c.recorder, c.ns) - c.restartsBefore,
    };
  }

  /** Starts a case: resources, a recorder of every version, the operator, all in sync. */
  async function startCase(ns: string, n: number, refreshInterval: string) {
    await ensureNamespace(bed.kubeConfig(), ns);
    const recorder = await record(ns);
    await setUp(ns, n, refreshInterval);
    const startMark = audit.mark();
    const operator = await startOperator(`vaultsync-${ns}`);
    await allCorrect(ns, n, 180_000);
    await operator.waitReady();
    await eventually('the consumer rolled out', () =>
      recorder.latest('deployments', ns, 'consumer') ? true : undefined,
    );
    await eventually(
      'nothing written for 3 s',
      () => (recorder.quietFor() > 3000 ? true : undefined),
      60_000,
      250,
    );
    return { recorder, operator, startMark };
  }

  it('kube-apiserver frozen (SIGSTOP): no crash loop, informers recover, a backend change made meanwhile lands after', async () => {
    const ns = 'team-fault-apiserver-freeze';
    const n = 20;
    const faultMs = full ? 90_000 : 20_000;
    // Refreshed every 10 s (the shortest allowed), so a change in OpenBao is read by itself.
    const { recorder, operator } = await startCase(ns, n, '10s');
    const restartsBefore = workloadRestarts(recorder, ns);
    const mark = audit.mark();
    const meter = new BackendRequestMeter(operator);
    await meter.start();

    const frozenAt = Date.now();
    killGroup(apiserver().pid, 'SIGSTOP');
    let resumedAt: number;
    try {
      await delay(2000);
      // The consumed Secret's value and another one change in OpenBao while the apiserver is frozen.
      await putCanary(`${ns}/app-0`, canary(ns, 'app-0', 2));
      await putCanary(`${ns}/app-1`, canary(ns, 'app-1', 2));
      await delay(faultMs - (Date.now() - frozenAt));
    } finally {
      killGroup(apiserver().pid, 'SIGCONT');
      resumedAt = Date.now();
    }
    const openbaoDuringFault = await meter.stop();
    await eventually('the apiserver answers', apiserverAnswers, 30_000, 250);

    await allCorrect(ns, n, 120_000);
    await operator.waitReady(120_000);
    const recoveryMs = Date.now() - resumedAt;
    // No crash loop: whatever the freeze cost (a replica that cannot renew its Lease exits and is
    // restarted), the operator runs on after it, unrestarted, for 15 s.
    await delay(15_000);
    const crashesAfter = operator.crashes(resumedAt + 5000);
    assert.deepEqual(crashesAfter, [], 'no exit after the apiserver came back');
    // A leader that cannot renew stands down and exits once; its restart waits for the apiserver
    // (no crash loop, which the kubelet would stretch into CrashLoopBackOff delays).
    assert.ok(
      operator.crashes(frozenAt).length <= 1,
      `at most one exit (${operator.crashes(frozenAt).length})`,
    );
    assert.ok(await operator.ready(), 'the operator is ready 15 s after recovery');
    // The change to app-0 rolls the consumer out once; nothing else does.
    await eventually(
      'the consumer restarted once',
      () => (workloadRestarts(recorder, ns) - restartsBefore >= 1 ? true : undefined),
      60_000,
    );
    await delay(3000);
    const restarts = workloadRestarts(recorder, ns) - restartsBefore;
    recorder.assertComplete();
    const wrong = wrongWrites(recorder, ns);
    const events = operatorRequests(mark);
    const queued = events.filter((e) => Date.parse(e.requestReceivedTimestamp) < resumedAt + 2000);
    const crashes = operator.crashes(frozenAt);
    reportFault({
      fault: 'kube-apiserver frozen (SIGSTOP), a backend change meanwhile',
      faultSeconds: seconds(faultMs),
      wrongSecretWrites: wrong.length,
      recoverySeconds: seconds(recoveryMs),
      requestsDuringFault: { openbao: openbaoDuringFault, apiserver: queued.length },
      notes:
        `operator exits during the freeze ${crashes.length} (lost Lease), after it 0; ` +
        `consumer restarts ${restarts}; apiserver = requests it took within 2 s of SIGCONT (queued while frozen)`,
    });
    assert.deepEqual(wrong, [], 'every Secret version held a value from OpenBao');
    assert.equal(restarts, 1, 'one rollout for the one real change of the consumed Secret');
  });

  it('kube-apiserver restarted: informers re-watch, at most one list per informer, nothing rewritten', async () => {
    const ns = 'team-fault-apiserver-restart';
    const n = 20;
    const { recorder, operator } = await startCase(ns, n, '1h');
    const restartsBefore = workloadRestarts(recorder, ns);
    const changesBefore = recorder.changes.length;
    const mark = audit.mark();
    const startsBefore = operator.starts;

    const stoppedAt = Date.now();
    await bed.restart('kube-apiserver');
    await eventually('the apiserver answers again', apiserverAnswers, 120_000, 250);
    const backAt = Date.now();

    // Informers watch again: a VaultSecret created now is synced.
    const probe = `app-${n}`;
    await putCanary(`${ns}/${probe}`, canary(ns, probe, 1));
    await eventually('the probe created', async () => {
      await createVaultSecret(ns, probe, '1h');
      return true;
    });
    await allCorrect(ns, n + 1, 120_000);
    await operator.waitReady(120_000);
    const recoveryMs = Date.now() - backAt;
    await delay(10_000); // any late relist or rewrite would show by now

    const { lists, rewrites, rewrittenSecrets, wrong, restarts } = sinceOutage({
      ns,
      recorder,
      mark,
      probe,
      changesBefore,
      restartsBefore,
    });
    const runs = operator.starts - startsBefore + 1; // a run that lost its Lease starts over once
    const storm = [...lists].filter(([, count]) => count > runs);
    reportFault({
      fault: 'kube-apiserver restarted (SIGTERM, started again)',
      faultSeconds: seconds(backAt - stoppedAt),
      wrongSecretWrites: wrong.length,
      recoverySeconds: seconds(recoveryMs),
      requestsDuringFault: {
        apiserverLists: [...lists.values()].reduce((a, b) => a + b, 0),
        apiserverWrites: rewrites.length,
      },
      notes:
        `${lists.size} informers listed, at most ${Math.max(0, ...lists.values())} each; ` +
        `operator runs ${runs}; consumer restarts ${restarts}`,
    });
    assert.deepEqual(wrong, []);
    assert.deepEqual(storm, [], `no informer lists more than once per run (${runs} run(s))`);
    assert.deepEqual(rewrites, [], 'nothing but the probe written');
    assert.deepEqual(
      rewrittenSecrets.map((c) => `${c.type} ${c.name}`),
      [],
      'no Secret changed',
    );
    assert.equal(restarts, 0, 'no workload restarted');
  });

  it('etcd compacted at head: each informer relists once, nothing written because of it, no workload restarted', async () => {
    const ns = 'team-fault-etcd-compact';
    const n = 20;
    const { recorder, operator, startMark } = await startCase(ns, n, '1h');
    const restartsBefore = workloadRestarts(recorder, ns);
    const changesBefore = recorder.changes.length;
    const mark = audit.mark();
    const startsBefore = operator.starts;
    const informers = [...listsByInformer(operatorRequests(startMark, mark)).keys()].sort();

    const etcd = etcdClientUrl();
    const compactedAt = Date.now();
    // Two writes outside the apiserver's keys first, so the head is past every resource's last
    // change: no watch of the apiserver's can resume above the compacted revision.
    for (let i = 0; i < 2; i++) {
      const b64 = (v: string) => Buffer.from(v).toString('base64');
      await etcdPost(etcd, '/v3/kv/put', { key: b64('/vaultsync-faults/bump'), value: b64(String(i)) });
    }
    const revision = await etcdRevision(etcd);
    await etcdPost(etcd, '/v3/kv/compaction', { revision: String(revision), physical: true });
    // The apiserver's watch cache keeps serving watches from its own history, so a compaction
    // alone reaches no client. Its watches of etcd must resume to meet it, as after an etcd
    // leader change: etcd killed and started again ends them; resumed at a compacted revision,
    // the cache is rebuilt and every client watch from an older version gets 410 Gone.
    await bed.restart('etcd', { signal: 'SIGKILL' });
    await eventually('the apiserver answers', apiserverAnswers, 60_000, 250);
    const backAt = Date.now();

    const probe = `app-${n}`;
    await putCanary(`${ns}/${probe}`, canary(ns, probe, 1));
    await createVaultSecret(ns, probe, '1h');
    await allCorrect(ns, n + 1, 120_000);
    await operator.waitReady(120_000);
    await eventually(
      'every informer listed again',
      () => (listsByInformer(operatorRequests(mark)).size >= informers.length ? true : undefined),
      60_000,
      250,
    );
    const recoveryMs = Date.now() - backAt;
    await delay(10_000);

    const { lists, rewrites, rewrittenSecrets, wrong, restarts } = sinceOutage({
      ns,
      recorder,
      mark,
      probe,
      changesBefore,
      restartsBefore,
    });
    reportFault({
      fault: 'etcd compacted at head (then killed and restarted: every watch meets it)',
      faultSeconds: seconds(backAt - compactedAt),
      wrongSecretWrites: wrong.length,
      recoverySeconds: seconds(recoveryMs),
      requestsDuringFault: {
        apiserverLists: [...lists.values()].reduce((a, b) => a + b, 0),
        apiserverWrites: rewrites.length,
      },
      notes:
        `compacted at revision ${revision}, etcd restarted; ${lists.size} of ${informers.length} informers ` +
        `relisted, at most ${Math.max(0, ...lists.values())} each; consumer restarts ${restarts}`,
    });
    assert.equal(operator.starts, startsBefore, 'the operator did not restart');
    assert.deepEqual([...lists.keys()].sort(), informers, 'every informer listed again');
    assert.deepEqual(wrong, []);
    assert.deepEqual(
      [...lists].filter(([, count]) => count > 1),
      [],
      'each informer lists at most once',
    );
    assert.deepEqual(rewrites, [], 'nothing but the probe written');
    assert.deepEqual(
      rewrittenSecrets.map((c) => `${c.type} ${c.name}`),
      [],
      'no Secret changed',
    );
    assert.equal(restarts, 0, 'no workload restarted');
  });

  it('the operator SIGKILLed every 5 s during a cold sync: converges, no wrong Secret, no workload restarted', async () => {
    const ns = 'team-fault-sigkill';
    const n = full ? 1000 : 300;
    // Kills go on until everything is correct or this long has passed; after that the operator
    // is left alone and must finish by itself. A run needs a few seconds of CPU to load and
    // sync before it works: on a crowded machine 5 s windows leave it little.
    const killPhaseMs = full ? 900_000 : 120_000;
    await ensureNamespace(bed.kubeConfig(), ns);
    const recorder = await record(ns);
    await setUp(ns, n, '1h');
    await eventually(
      'the consumer rolled out',
      () => (recorder.latest('deployments', ns, 'consumer') ? true : undefined),
      60_000,
    );
    const restartsBefore = workloadRestarts(recorder, ns);
    const mark = audit.mark();

    const startedAt = Date.now();
    // The kubelet starts a killed container again at once the first times.
    const operator = await startOperator(`vaultsync-${ns}`, 0);
    const meter = new BackendRequestMeter(operator);
    void meter.start();
    let kills = 0;
    let convergedUnderKills = false;
    /** Correct VaultSecrets seen before each kill: the work done is kept. */
    const progress: number[] = [];
    while (Date.now() - startedAt < killPhaseMs) {
      await delay(5000);
      const left = await notCorrect(ns, n);
      progress.push(n - left.length);
      if (left.length === 0) {
        convergedUnderKills = true;
        break;
      }
      operator.kill();
      kills++;
    }
    const killsEndedAt = Date.now();
    const killMark = audit.mark();
    const openbao = await meter.stop();
    await allCorrect(ns, n, full ? 600_000 : 300_000);
    const correctAt = Date.now();
    const totalMs = correctAt - startedAt;
    await operator.waitReady(60_000);
    await delay(5000);
    recorder.assertComplete();
    const wrong = wrongWrites(recorder, ns);
    const restarts = workloadRestarts(recorder, ns) - restartsBefore;
    const events = operatorRequests(mark, killMark);
    const led = operator.runs.filter((r) => r.leadingAt !== undefined && r.spawnedAt < killsEndedAt);
    const toLead = led.map((r) => r.leadingAt! - r.spawnedAt).sort((a, b) => a - b);
    const medianToLead = toLead.length ? toLead[Math.floor(toLead.length / 2)]! : NaN;
    reportFault({
      fault: `operator SIGKILLed every 5 s during a cold sync of ${n} VaultSecrets`,
      faultSeconds: seconds(killsEndedAt - startedAt),
      wrongSecretWrites: wrong.length,
      recoverySeconds: seconds(correctAt - killsEndedAt),
      requestsDuringFault: {
        openbao,
        apiserverWrites: events.filter((e) => isWrite(e) && e.objectRef?.namespace === ns).length,
        apiserverLists: events.filter((e) => e.verb === 'list').length,
      },
      notes:
        `${kills} kills; ${convergedUnderKills ? 'converged under the kills' : `${progress.at(-1)} of ${n} correct when the kills stopped`}, ` +
        `all correct after ${seconds(totalMs)} s; ${led.length} of ${kills + 1} runs got to lead, median ${seconds(medianToLead)} s after spawn; ` +
        `consumer restarts ${restarts}`,
    });
    assert.deepEqual(wrong, []);
    assert.equal(restarts, 0, 'no workload restarted');
    assert.deepEqual(operator.crashes(), [], 'no exit the test did not cause');
    for (let i = 1; i < progress.length; i++) {
      assert.ok(
        progress[i]! >= progress[i - 1]!,
        `no correct Secret undone by a kill (${progress.join(' ')})`,
      );
    }
  });

  // --- etcd, through its JSON gateway (no etcdctl in the bed) ---

  function etcdClientUrl(): string {
    const etcd = bed.processes.find((p) => p.name === 'etcd');
    const arg = etcd?.launch?.args.find((a) => a.startsWith('--advertise-client-urls='));
    if (!arg) throw new Error('no etcd client URL in the bed record');
    return arg.slice('--advertise-client-urls='.length);
  }

  async function etcdPost(url: string, path: string, body: unknown): Promise<unknown> {
    const res = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    return JSON.parse(text);
  }

  /** The store's current revision (a range read's header). */
  async function etcdRevision(url: string): Promise<number> {
    const out = (await etcdPost(url, '/v3/kv/range', {
      key: Buffer.from('/').toString('base64'),
      limit: 1,
    })) as {
      header: { revision: string };
    };
    return Number(out.header.revision);
  }
});
