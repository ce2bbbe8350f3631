import assert from 'node:assert/strict';
import type { VaultSecret } from '../../apis/v1alpha1/index.ts';
import { changeAddition, changeTargets, requestAdditions, vaultSecretChange } from './targets.ts';
import type { ManagedSecretChange } from './types.ts';
import type { Workload, WorkloadRef } from '../contracts.ts';

const T0 = Date.parse('2030-01-02T14:00:00Z');
const MAC = 'hmac-sha256:v2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const change = (over: Partial<ManagedSecretChange> = {}): ManagedSecretChange => ({
  namespace: 'shop',
  secretName: 'db',
  mac: MAC,
  group: 'VaultSecret/db',
  ...over,
});
const deployment = (name: string, annotations: Record<string, string> = {}) => ({
  ref: { kind: 'Deployment', namespace: 'shop', name } as WorkloadRef,
  obj: { metadata: { name, namespace: 'shop', annotations } } as Workload,
});

describe('what a Secret change touches', () => {
  it('restarts the explicit targets and the workloads asking for the Secret by annotation, each once', () => {
    const { targets, unsupported } = changeTargets(
      change({
        targets: [
          { kind: 'Deployment', name: 'api' },
          { kind: 'Rollout', name: 'canary' },
          { kind: 'CronJob', name: 'nightly' },
        ],
      }),
      [
        deployment('api', { 'vaultsync.io/reload-secrets': 'db' }),
        deployment('worker', { 'vaultsync.io/reload-secrets': 'db,cache' }),
        deployment('web', { 'vaultsync.io/reload-secrets': 'cache' }),
      ],
    );
    assert.deepEqual(
      targets.map((r) => `${r.kind}/${r.name}`),
      ['Deployment/api', 'Rollout/canary', 'Deployment/worker'],
    );
    assert.deepEqual(unsupported, [{ kind: 'CronJob', name: 'nightly' }]);
  });

  it('records the data token, the group, the rotation and a default reason', () => {
    const a = changeAddition(change({ rotation: 'db-password', group: 'SecretRotation/db-password' }), T0);
    assert.deepEqual(a, {
      secrets: { db: 'AAAAAAAAAAAAAAAA' },
      at: T0,
      group: 'SecretRotation/db-password',
      rotation: 'db-password',
      reason: 'Secret db changed',
    });
    assert.equal(changeAddition(change({ reason: 'certificate renewed' }), T0).reason, 'certificate renewed');
  });

  it('groups a VaultSecret change by its SecretRotation, and owes nothing for a retired value', () => {
    const vs = {
      metadata: { name: 'db', namespace: 'shop' },
      spec: { backend: 'vault', rolloutRestartTargets: [{ kind: 'Deployment', name: 'api' }] },
    } as unknown as VaultSecret;
    const data = { secretName: 'db-secret', previousMac: 'x', mac: MAC };
    assert.deepEqual(vaultSecretChange(vs, data, undefined), {
      namespace: 'shop',
      secretName: 'db-secret',
      mac: MAC,
      targets: [{ kind: 'Deployment', name: 'api' }],
      group: 'VaultSecret/db',
    });
    const rotated = vaultSecretChange(vs, data, { rotation: 'pw' });
    assert.equal(rotated?.group, 'SecretRotation/pw');
    assert.equal(rotated?.rotation, 'pw');
    assert.equal(vaultSecretChange(vs, data, { rotation: 'pw', suppress: true }), undefined);
  });

  it('turns a restart request into one entry per workload', () => {
    const out = requestAdditions(
      {
        namespace: 'shop',
        workloads: [
          { kind: 'Deployment', name: 'api' },
          { kind: 'StatefulSet', name: 'db' },
        ],
        secrets: { 'SecretRotation.pw': 'tok' },
        group: 'SecretRotation/pw',
        rotation: 'pw',
        reason: 'rotated',
      },
      T0,
    );
    assert.deepEqual(
      out.map((o) => `${o.ref.namespace}/${o.ref.kind}/${o.ref.name}`),
      ['shop/Deployment/api', 'shop/StatefulSet/db'],
    );
    assert.notEqual(out[0]!.addition, out[1]!.addition, 'each workload its own entry');
    assert.deepEqual(out[0]!.addition, {
      secrets: { 'SecretRotation.pw': 'tok' },
      at: T0,
      group: 'SecretRotation/pw',
      rotation: 'pw',
      reason: 'rotated',
    });
  });
});
