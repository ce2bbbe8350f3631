// The reload reconciler's sequencing against FAKES: a FAKE KubeClient (FakeRest keeping the
// pending-restarts ConfigMap and the workloads, applying merge patches the way the apiserver
// does) and a FAKE workload cache that shows what the fake apiserver holds. Each decision is
// tested beside its file (policy, rolling, restart-write, rollout-state, pending-records); this
// tests their order: wait and store → restart and remove the record → follow until ready, and
// the drops, refusals and skips on the way. The real apiserver: test/reload*.test.ts.
import assert from 'node:assert/strict';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { FakeClock } from '../../kube/fake-clock.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import type { KubeError } from '../../kube/errors.ts';
import type { RestRequest } from '../../kube/rest.ts';
import { FakeRest, RecordingLogger, apiError } from '../../kube/testing.ts';
import { MacKeyring } from '../../secrets/mac-keyring.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import { PENDING_CONFIGMAP } from './pending-records.ts';
import { PendingRestartStore } from './pending-store.ts';
import { DEFAULT_RESTART_POLICY } from '../shared/restart-policy.ts';
import { RESTART_REFUSED_RETRY_MS, ReloadReconciler, type WorkloadView } from './reconciler.ts';
import type { Rolling } from './rolling.ts';
import { UnsavedChanges } from './unsaved.ts';
import type { Workload, WorkloadRef } from '../contracts.ts';
import { workloadKey } from '../shared/workloads.ts';

const T0 = Date.parse('2030-01-02T14:00:00Z');
const CM_PATH = `/api/v1/namespaces/vaultsync/configmaps/${PENDING_CONFIGMAP}`;
const API: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'api' };
const policy = { ...DEFAULT_RESTART_POLICY, debounceMs: 10_000, readyTimeoutMs: 60_000 };

/** JSON merge patch (RFC 7386), as the apiserver applies it. */
function merge(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}

function deployment(over: { paused?: boolean } = {}): Workload {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'shop', generation: 1, resourceVersion: '1', annotations: {} },
    spec: { replicas: 1, ...(over.paused && { paused: true }), template: { metadata: { annotations: {} } } },
    status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
  };
}

function setup(opts: { rolloutsServed?: boolean; policy?: typeof policy } = {}) {
  const clock = new FakeClock(T0);
  const cluster: { cm?: V1ConfigMap; workloads: Map<string, Workload>; refuse?: KubeError } = {
    workloads: new Map([[workloadKey(API), deployment()]]),
  };
  const rest = new FakeRest((req: RestRequest) => {
    if (req.path === CM_PATH && req.method === 'GET') {
      if (!cluster.cm) throw apiError(404, 'NotFound');
      return cluster.cm;
    }
    if (req.path === CM_PATH && req.method === 'PATCH') {
      if (!cluster.cm) throw apiError(404, 'NotFound');
      cluster.cm = merge(cluster.cm, req.body) as V1ConfigMap;
      return cluster.cm;
    }
    if (req.path === '/api/v1/namespaces/vaultsync/configmaps' && req.method === 'POST') {
      cluster.cm = req.body as V1ConfigMap;
      return cluster.cm;
    }
    if (req.path === '/apis/apps/v1/namespaces/shop/deployments/api' && req.method === 'PATCH') {
      if (cluster.refuse) throw cluster.refuse;
      const current = cluster.workloads.get(workloadKey(API))!;
      const body = { ...(req.body as Record<string, unknown>) };
      delete (body.metadata as Record<string, unknown> | undefined)?.resourceVersion;
      const next = merge(current, body) as Workload;
      const changedSpec = JSON.stringify(next.spec) !== JSON.stringify(current.spec);
      const generation = (current.metadata?.generation ?? 0) + (changedSpec ? 1 : 0);
      next.metadata = {
        ...next.metadata,
        generation,
        resourceVersion: String(Number(current.metadata?.resourceVersion) + 1),
      };
      cluster.workloads.set(workloadKey(API), next);
      return next;
    }
    throw new Error(`unexpected ${req.method} ${req.path}`);
  });
  const client = rest.client();
  const keys = new MacKeyring(new Sensitive<Uint8Array>(Buffer.alloc(32, 5)));
  const logger = new RecordingLogger();
  const caches: WorkloadView = {
    get: (ref) => cluster.workloads.get(workloadKey(ref)),
    settled: () => true,
    list: (namespace) =>
      [...cluster.workloads.entries()]
        .filter(([key]) => key.startsWith(`${namespace}/`))
        .map(([key, obj]) => {
          const [, kind, name] = key.split('/');
          return { ref: { kind, namespace, name } as WorkloadRef, obj };
        }),
    rolloutsServed: async () => opts.rolloutsServed ?? false,
    uncachedRollout: () => false,
    rollouts: { discovery: () => (opts.rolloutsServed ? 'served' : 'absent'), hasSynced: () => true },
  };
  const events: { type: string; on: string; reason: string; message: string }[] = [];
  const record =
    (type: string) =>
    async (obj: { kind?: string; metadata?: { name?: string } }, reason: string, message: string) =>
      void events.push({ type, on: `${obj.kind}/${obj.metadata?.name}`, reason, message });
  const unsaved = new UnsavedChanges();
  const rolling = new Map<string, Rolling>();
  const metrics: string[] = [];
  const reconciler = new ReloadReconciler({
    client,
    caches,
    store: new PendingRestartStore({
      client,
      namespace: 'vaultsync',
      macKeys: keys,
      logger,
      fieldManager: 'vaultsync-reload',
    }),
    unsaved,
    rolling,
    events: { normal: record('Normal'), warning: record('Warning') },
    macKeys: keys,
    clock,
    metrics: {
      restart: (kind, outcome) => void metrics.push(`restart ${kind} ${outcome}`),
      restartLatency: () => {},
      rollout: (kind, outcome) => void metrics.push(`rollout ${kind} ${outcome}`),
    },
    log: logger,
    fieldManager: 'vaultsync-reload',
    basePolicy: opts.policy ?? policy,
    rotationPolicy: () => undefined,
  });
  const ctx = (key: string): ReconcileContext => ({
    key,
    namespace: 'shop',
    name: key.split('/')[2] ?? '',
    reconcileId: 'r1',
    retries: 0,
    signal: new AbortController().signal,
    log: logger,
  });
  const change = (ref: WorkloadRef = API, token = 'tokentokentoken1') =>
    unsaved.add(workloadKey(ref), {
      secrets: { db: token },
      at: clock.now(),
      group: 'VaultSecret/db',
      reason: 'Secret db changed',
    });
  return {
    clock,
    cluster,
    rest,
    events,
    metrics,
    unsaved,
    rolling,
    change,
    run: (ref: WorkloadRef = API): Promise<ReconcileResult> =>
      reconciler.reconcile(workloadKey(ref), ctx(workloadKey(ref))),
    api: () => cluster.workloads.get(workloadKey(API))!,
    stored: () => Object.keys(cluster.cm?.data ?? {}),
    workloadWrites: () =>
      rest.requests.filter((r) => r.method === 'PATCH' && r.path.includes('/deployments/')).length,
  };
}

describe('reload reconciler (FAKE apiserver and cache)', () => {
  it('stores a change while it debounces, restarts once it is due, removes the record, follows the rollout', async () => {
    const t = setup();
    t.change();
    assert.deepEqual(await t.run(), { requeueAfter: 10_000 });
    assert.deepEqual(t.stored(), ['shop.Deployment.api'], 'stored in the operator namespace');
    assert.equal(t.unsaved.has('shop/Deployment/api'), false, 'consumed once stored');
    assert.equal(t.workloadWrites(), 0, 'the workload is not written while it waits');

    t.clock.advance(10_000);
    assert.deepEqual(await t.run(), { requeueAfter: 60_000 });
    assert.equal(t.workloadWrites(), 1);
    assert.match(t.api().spec?.template?.metadata?.annotations?.['vaultsync.io/secrets-hmac'] ?? '', /^db=/);
    assert.equal(t.api().metadata?.annotations?.['vaultsync.io/restart-group'], 'VaultSecret/db');
    assert.deepEqual(t.stored(), [], 'record removed after the restart');
    assert.equal(t.rolling.get('shop/Deployment/api')?.generation, 2);
    assert.deepEqual(
      t.events.map((e) => `${e.type} ${e.on} ${e.reason}`),
      ['Normal Deployment/api Restarted'],
    );

    // The Deployment controller rolls it out: the cache shows generation 2 observed and complete.
    const w = t.api();
    t.cluster.workloads.set('shop/Deployment/api', { ...w, status: { ...w.status, observedGeneration: 2 } });
    assert.equal(await t.run(), undefined);
    assert.equal(t.rolling.size, 0);
    assert.deepEqual(t.metrics, ['restart Deployment restarted', 'rollout Deployment ready']);
    assert.equal(t.events.at(-1)?.reason, 'RolledOut');

    // The same data again: the pods already have it; nothing is written.
    t.change();
    t.clock.advance(10_000);
    await t.run();
    assert.equal(t.workloadWrites(), 1);
    assert.deepEqual(t.stored(), []);
  });

  it('drops a restart of a paused Deployment with one warning, and writes nothing to it', async () => {
    const t = setup();
    t.cluster.workloads.set('shop/Deployment/api', deployment({ paused: true }));
    t.change();
    await t.run();
    assert.equal(t.workloadWrites(), 0);
    assert.deepEqual(
      t.events.map((e) => `${e.type} ${e.reason}`),
      ['Warning RestartSkipped'],
    );
    assert.deepEqual(t.metrics, ['restart Deployment skipped']);
  });

  it('a refused restart warns on the workload and its requester once, stays owed, and is retried at the user-error interval', async () => {
    const t = setup();
    t.cluster.refuse = apiError(403, 'Forbidden', 'denied by policy no-restarts');
    t.change();
    t.clock.advance(10_000);
    assert.deepEqual(await t.run(), { requeueAfter: RESTART_REFUSED_RETRY_MS });
    assert.deepEqual(
      t.events.map((e) => `${e.type} ${e.on} ${e.reason}`),
      ['Warning Deployment/api RestartFailed', 'Warning VaultSecret/db RestartFailed'],
    );
    assert.equal(t.rolling.size, 0, 'no slot held by a refused restart');
    assert.equal(t.unsaved.has('shop/Deployment/api'), true, 'still owed');
    t.clock.advance(RESTART_REFUSED_RETRY_MS);
    await t.run();
    assert.equal(t.events.length, 2, 'the same refusal is not reported again');
    t.cluster.refuse = undefined;
    await t.run();
    assert.equal(t.events.at(-1)?.reason, 'Restarted');
    assert.equal(t.unsaved.has('shop/Deployment/api'), false);
  });

  it('a Rollout whose CRD is not served: skipped, with a warning on the requester', async () => {
    const t = setup({ rolloutsServed: false });
    const rollout: WorkloadRef = { kind: 'Rollout', namespace: 'shop', name: 'canary' };
    t.change(rollout);
    assert.equal(await t.run(rollout), undefined);
    assert.deepEqual(
      t.events.map((e) => `${e.type} ${e.on} ${e.reason}`),
      ['Warning VaultSecret/db RestartSkipped'],
    );
    assert.equal(t.unsaved.has('shop/Rollout/canary'), false);
    assert.equal(t.rest.requests.length, 1, 'only the read of the stored records');
  });

  it('outside every restart window: stored, the deferral said once (not per look), restarted once the window opens', async () => {
    // T0 is a Wednesday 14:00 UTC; the window opens at 15:00.
    const t = setup({ policy: { ...policy, debounceMs: 0, windows: [{ start: '15:00', end: '16:00' }] } });
    t.change();
    assert.deepEqual(await t.run(), { requeueAfter: 60 * 60_000 });
    assert.deepEqual(t.stored(), ['shop.Deployment.api']);
    t.clock.advance(30 * 60_000);
    assert.deepEqual(await t.run(), { requeueAfter: 30 * 60_000 });
    assert.deepEqual(
      t.events.map((e) => `${e.type} ${e.reason}`),
      ['Normal RestartDeferred'],
    );
    assert.equal(t.workloadWrites(), 0);
    t.clock.advance(30 * 60_000);
    await t.run();
    assert.equal(t.workloadWrites(), 1);
    assert.equal(t.events.at(-1)?.reason, 'Restarted');
  });
});
