import assert from 'node:assert/strict';
import {
  digestsApplied,
  formatDigests,
  formatPending,
  mergePending,
  parseDigests,
  parsePending,
} from './annotations.ts';
import { macDigest } from '../shared/digests.ts';
import type { Workload } from '../contracts.ts';
import {
  appliedDigests,
  parseWorkloadKey,
  restartDigests,
  rolloutComplete,
  selectorQuery,
  slimWorkload,
  workloadRefName,
} from './workloads.ts';
import { referencedSecrets, workloadKey } from '../shared/workloads.ts';

const podSpec = {
  initContainers: [
    { name: 'init', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'init-secret', key: 'k' } } }] },
  ],
  containers: [
    {
      name: 'app',
      image: 'x',
      env: [
        { name: 'PLAIN', value: 'v' },
        { name: 'B', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } },
        { name: 'C', valueFrom: { configMapKeyRef: { name: 'a-config', key: 'k' } } },
      ],
      envFrom: [{ secretRef: { name: 'envfrom-secret' } }, { configMapRef: { name: 'cm' } }],
    },
  ],
  volumes: [
    { name: 'v1', secret: { secretName: 'volume-secret' } },
    {
      name: 'v2',
      projected: { sources: [{ secret: { name: 'projected-secret' } }, { configMap: { name: 'cm' } }] },
    },
    { name: 'v3', emptyDir: {} },
  ],
};

const workload = (annotations: Record<string, string> = {}): Workload => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'api', namespace: 'shop', annotations, generation: 3 },
  spec: { replicas: 2, selector: { matchLabels: { app: 'api' } }, template: { spec: podSpec } },
});

describe('reload workloads and annotations', () => {
  it('writes a label selector as a query string', () => {
    assert.equal(
      selectorQuery({
        matchLabels: { app: 'api' },
        matchExpressions: [{ key: 't', operator: 'In', values: ['a', 'b'] }],
      }),
      'app=api,t in (a,b)',
    );
  });

  it('Argo Rollouts: keys, digests on the object, done when Healthy, all replicas updated and available, and restarted since restartAt', () => {
    assert.deepEqual(parseWorkloadKey('shop/Rollout/web'), {
      namespace: 'shop',
      kind: 'Rollout',
      name: 'web',
    });
    assert.equal(parseWorkloadKey('shop/ReplicaSet/web'), undefined);
    const r = (spec: Workload['spec'], status: Workload['status']): Workload => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { generation: 4, annotations: { 'vaultsync.io/secrets-hmac': 'db=abc' } },
      spec: { replicas: 2, ...spec },
      status,
    });
    assert.deepEqual(appliedDigests(r({}, {})), { db: 'abc' });
    assert.deepEqual(
      appliedDigests({ ...r({}, {}), apiVersion: 'apps/v1', kind: 'Deployment' }),
      {},
      'a Deployment keeps them on its template only',
    );
    assert.deepEqual(
      restartDigests(
        r({ template: { metadata: { annotations: { 'vaultsync.io/secrets-hmac': 'db=x' } } } }, {}),
      ),
      { db: 'abc' },
      "a Rollout's template is never ours: its annotation there is not trusted",
    );
    const at = '2026-01-01T10:00:00Z';
    const argoGen = '4' as unknown as number; // Argo writes observedGeneration as a string
    const healthy = {
      observedGeneration: argoGen,
      phase: 'Healthy',
      updatedReplicas: 2,
      availableReplicas: 2,
    };
    assert.ok(rolloutComplete('Rollout', r({}, healthy)));
    assert.ok(rolloutComplete('Rollout', r({ restartAt: at }, { ...healthy, restartedAt: at })));
    assert.ok(!rolloutComplete('Rollout', r({ restartAt: at }, healthy)), 'not restarted yet');
    assert.ok(
      !rolloutComplete('Rollout', r({ restartAt: at }, { ...healthy, restartedAt: '2026-01-01T09:00:00Z' })),
      'restarted before, not since',
    );
    assert.ok(!rolloutComplete('Rollout', r({}, { ...healthy, phase: 'Progressing' })), 'still progressing');
    assert.ok(!rolloutComplete('Rollout', r({}, { ...healthy, phase: 'Paused' })), 'paused at a step');
    assert.ok(!rolloutComplete('Rollout', r({}, { ...healthy, observedGeneration: 3 })), 'not seen yet');
    assert.ok(!rolloutComplete('Rollout', r({}, { ...healthy, availableReplicas: 1 })), 'one not available');
    assert.ok(!rolloutComplete('Rollout', r({}, { ...healthy, updatedReplicas: 1 })), 'one not updated');
  });

  it('Argo Rollouts: a workloadRef names the Deployment holding the pod template; the cache keeps restartAt', () => {
    const r = (workloadRef: NonNullable<Workload['spec']>['workloadRef']): Workload => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { workloadRef, restartAt: '2026-01-01T10:00:00Z', selector: { matchLabels: { app: 'web' } } },
    });
    assert.equal(
      workloadRefName(r({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-template' })),
      'web-template',
    );
    assert.equal(workloadRefName(r({ kind: 'PodTemplate', name: 'x' })), undefined);
    assert.equal(workloadRefName(r(undefined)), undefined);
    const slim = slimWorkload(r({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-template' }));
    assert.equal(slim.spec?.restartAt, '2026-01-01T10:00:00Z');
    assert.deepEqual(slim.spec?.workloadRef, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'web-template',
    });
  });

  it('tells a finished rollout from one in progress', () => {
    const d = (status: Workload['status'], generation = 3): Workload => ({
      ...workload(),
      metadata: { generation },
      status,
    });
    assert.ok(
      rolloutComplete(
        'Deployment',
        d({ observedGeneration: 3, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }),
      ),
    );
    assert.ok(
      !rolloutComplete(
        'Deployment',
        d({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }),
      ),
      'not seen yet',
    );
    assert.ok(
      !rolloutComplete(
        'Deployment',
        d({ observedGeneration: 3, replicas: 3, updatedReplicas: 2, availableReplicas: 2 }),
      ),
      'an old pod left',
    );
    assert.ok(
      !rolloutComplete(
        'Deployment',
        d({
          observedGeneration: 3,
          replicas: 2,
          updatedReplicas: 2,
          availableReplicas: 1,
          unavailableReplicas: 1,
        }),
      ),
    );
    const sts = (s: Workload['status']): Workload => ({
      metadata: { generation: 1 },
      spec: { replicas: 1 },
      status: s,
    });
    assert.ok(
      rolloutComplete(
        'StatefulSet',
        sts({
          observedGeneration: 1,
          currentRevision: 'b',
          updateRevision: 'b',
          updatedReplicas: 1,
          readyReplicas: 1,
        }),
      ),
    );
    assert.ok(
      !rolloutComplete(
        'StatefulSet',
        sts({
          observedGeneration: 1,
          currentRevision: 'a',
          updateRevision: 'b',
          updatedReplicas: 1,
          readyReplicas: 1,
        }),
      ),
    );
    const ds = (s: Workload['status']): Workload => ({ metadata: { generation: 1 }, status: s });
    assert.ok(
      rolloutComplete(
        'DaemonSet',
        ds({
          observedGeneration: 1,
          desiredNumberScheduled: 2,
          updatedNumberScheduled: 2,
          numberAvailable: 2,
        }),
      ),
    );
    assert.ok(
      !rolloutComplete(
        'DaemonSet',
        ds({
          observedGeneration: 1,
          desiredNumberScheduled: 2,
          updatedNumberScheduled: 1,
          numberAvailable: 2,
        }),
      ),
    );
  });

  it('keeps only what it needs of a cached workload', () => {
    const w = workload({ 'vaultsync.io/reload': 'true' });
    w.spec!.template!.metadata = {
      annotations: { 'vaultsync.io/secrets-hmac': 'a=b', 'checksum/config': 'x' },
    };
    const slim = slimWorkload(w);
    assert.deepEqual(
      [...referencedSecrets(slim.spec?.template?.spec)].sort(),
      [...referencedSecrets(podSpec)].sort(),
    );
    assert.deepEqual(slim.spec?.template?.metadata?.annotations, { 'vaultsync.io/secrets-hmac': 'a=b' });
    assert.equal(JSON.stringify(slim).includes('PLAIN'), false);
    assert.equal(JSON.stringify(slim).includes('a-config'), false);
  });

  it('round-trips keys, digests and pending records', () => {
    assert.deepEqual(parseWorkloadKey(workloadKey({ kind: 'StatefulSet', namespace: 'shop', name: 'db' })), {
      kind: 'StatefulSet',
      namespace: 'shop',
      name: 'db',
    });
    assert.equal(parseWorkloadKey('shop/Pod/x'), undefined);
    assert.equal(macDigest('hmac-sha256:v1:abcdefghijklmnopqrstuvwxyz'), 'abcdefghijklmnop');
    assert.equal(formatDigests({ b: '2', a: '1' }), 'a=1,b=2');
    assert.deepEqual(parseDigests('a=1,b=2,broken'), { a: '1', b: '2' });
    assert.ok(digestsApplied({ a: '1', b: '2' }, { a: '1' }));
    assert.ok(!digestsApplied({ a: '1' }, { a: '2' }));
    assert.ok(!digestsApplied({ a: '1' }, {}));
    const p = mergePending(undefined, [
      { secrets: { a: '1' }, at: 1000, group: 'VaultSecret/a', reason: 'Secret a changed' },
      { secrets: { b: '2' }, at: 3000, group: 'SecretRotation/r', rotation: 'r', reason: 'Secret b changed' },
      { secrets: { a: '3' }, at: 2000, group: 'VaultSecret/a', reason: 'Secret a changed' },
    ])!;
    assert.deepEqual(p, {
      secrets: { a: '3', b: '2' },
      first: 1000,
      last: 3000,
      group: 'SecretRotation/r',
      rotation: 'r',
      reasons: ['Secret a changed', 'Secret b changed'],
    });
    assert.deepEqual(parsePending(formatPending(p)), p);
    assert.deepEqual(parsePending('not json')?.secrets, {}, 'a broken record still owes a restart');
  });
});
