import assert from 'node:assert/strict';
import type { Workload } from '../contracts.ts';
import {
  annotatedSecrets,
  isRestartKind,
  referencedSecrets,
  selectorMatches,
  workloadKey,
} from './workloads.ts';

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

describe('workloads (shared)', () => {
  it('finds every Secret a pod spec references: env, envFrom, volumes, projected volumes', () => {
    assert.deepEqual([...referencedSecrets(podSpec)].sort(), [
      'env-secret',
      'envfrom-secret',
      'init-secret',
      'projected-secret',
      'volume-secret',
    ]);
  });

  it('reads reload: "true" (referenced Secrets) and reload-secrets (named ones)', () => {
    assert.deepEqual([...annotatedSecrets(workload())], []);
    assert.equal(annotatedSecrets(workload({ 'vaultsync.io/reload': 'true' })).size, 5);
    assert.deepEqual(
      [
        ...annotatedSecrets(
          workload({ 'vaultsync.io/reload': 'false', 'vaultsync.io/reload-secrets': 'a, b,' }),
        ),
      ],
      ['a', 'b'],
    );
  });

  it('matches label selectors; an empty selector selects nothing', () => {
    const labels = { app: 'api', tier: 'web' };
    assert.ok(selectorMatches({ matchLabels: { app: 'api' } }, labels));
    assert.ok(!selectorMatches({ matchLabels: { app: 'db' } }, labels));
    assert.ok(
      selectorMatches(
        { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] },
        labels,
      ),
    );
    assert.ok(
      !selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, labels),
    );
    assert.ok(selectorMatches({ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }, labels));
    assert.ok(!selectorMatches({ matchExpressions: [{ key: 'x', operator: 'Exists' }] }, labels));
    assert.ok(!selectorMatches({}, labels));
  });

  it('knows the kinds it restarts and keys them by namespace, kind and name', () => {
    assert.ok(isRestartKind('Deployment') && isRestartKind('StatefulSet') && isRestartKind('DaemonSet'));
    assert.ok(isRestartKind('Rollout'));
    assert.ok(!isRestartKind('Job'));
    assert.equal(workloadKey({ kind: 'Rollout', namespace: 'shop', name: 'api' }), 'shop/Rollout/api');
  });
});
