import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { LifecycleEventInput } from './event.ts';
import { type KubeEventSink, lifecycleEventFor, withLifecycleEvents } from './legacy-messages.ts';

const meta = (name: string) => ({ name, namespace: 'shop', uid: `uid-${name}` });
const vs = (target?: string): KubernetesObject =>
  ({
    apiVersion: 'vaultsync.io/v1alpha1',
    kind: 'VaultSecret',
    metadata: meta('db'),
    spec: { backend: 'vault', ...(target && { target: { name: target } }) },
  }) as KubernetesObject;
const vc: KubernetesObject = {
  apiVersion: 'vaultsync.io/v1alpha1',
  kind: 'VaultCertificate',
  metadata: meta('web'),
  spec: { secretName: 'web-tls' },
} as KubernetesObject;
const sr: KubernetesObject = {
  apiVersion: 'vaultsync.io/v1alpha1',
  kind: 'SecretRotation',
  metadata: meta('db-password'),
  spec: { backend: 'vault', path: 'shop/db' },
} as KubernetesObject;

describe('webhook lifecycle events from Kubernetes Events', () => {
  it('VaultSecret: a written or recovered Secret is synced; a Ready=False reason is sync_failed', () => {
    for (const reason of ['SecretCreated', 'SecretUpdated', 'Synced']) {
      const e = lifecycleEventFor(vs('db-creds'), 'Normal', reason, 'Created Secret db-creds');
      assert.equal(e?.type, 'synced', reason);
      assert.equal(e?.reason, reason);
      assert.deepEqual(e?.details, { secretName: 'db-creds' });
      assert.deepEqual(e?.resource, {
        apiVersion: 'vaultsync.io/v1alpha1',
        kind: 'VaultSecret',
        namespace: 'shop',
        name: 'db',
        uid: 'uid-db',
      });
    }
    for (const reason of ['RemoteSecretNotFound', 'BackendUnavailable', 'TemplateFailed', 'SecretNotOwned']) {
      const e = lifecycleEventFor(vs(), 'Warning', reason, 'path shop/x not found');
      assert.equal(e?.type, 'sync_failed', reason);
      assert.equal(e?.message, 'path shop/x not found');
      assert.deepEqual(e?.details, { secretName: 'db' }, 'the target defaults to the resource name');
    }
  });

  it('VaultCertificate: Issued and Reissued are certificate_issued, Renewed certificate_renewed, with serial, revision and notAfter', () => {
    const what = 'certificate 0a1b2c3d (revision 2), valid until 2030-03-01T00:00:00.000Z';
    const issued = lifecycleEventFor(vc, 'Normal', 'Issued', `Issued ${what}`);
    assert.equal(issued?.type, 'certificate_issued');
    assert.deepEqual(issued?.details, {
      secretName: 'web-tls',
      serialNumber: '0a1b2c3d',
      revision: 2,
      notAfter: '2030-03-01T00:00:00.000Z',
    });
    const reissued = lifecycleEventFor(vc, 'Normal', 'Reissued', `Reissued ${what} because the spec changed`);
    assert.equal(reissued?.type, 'certificate_issued');
    assert.equal(reissued?.details?.notAfter, '2030-03-01T00:00:00.000Z');
    const renewed = lifecycleEventFor(vc, 'Normal', 'Renewed', `Renewed ${what}`);
    assert.equal(renewed?.type, 'certificate_renewed');
    assert.equal(renewed?.details?.serialNumber, '0a1b2c3d');
    const failed = lifecycleEventFor(vc, 'Warning', 'PermissionDenied', 'permission denied');
    assert.equal(failed?.type, 'certificate_failed');
    assert.deepEqual(failed?.details, { secretName: 'web-tls' });
  });

  it('SecretRotation: Rotated with the version; failure reasons are rotation_failed', () => {
    const e = lifecycleEventFor(sr, 'Normal', 'Rotated', 'Wrote version 7 of shop/db (previous value kept)');
    assert.equal(e?.type, 'rotated');
    assert.deepEqual(e?.details, { backend: 'vault', path: 'shop/db', version: '7' });
    for (const reason of ['GeneratorFailed', 'RolloutNotReady', 'RolledBack', 'ConcurrentWrite']) {
      assert.equal(lifecycleEventFor(sr, 'Warning', reason, 'x')?.type, 'rotation_failed', reason);
    }
  });

  it('ignores events that are not lifecycle transitions', () => {
    const none: [KubernetesObject, 'Normal' | 'Warning', string][] = [
      // Written by the reload controller about the requester: not a sync failure.
      [
        { apiVersion: 'vaultsync.io/v1alpha1', kind: 'VaultSecret', metadata: meta('db') },
        'Warning',
        'RestartSkipped',
      ],
      [vc, 'Warning', 'RestartSkipped'],
      [sr, 'Normal', 'RolledOut'],
      [sr, 'Normal', 'PreviousValueRetired'],
      [vc, 'Normal', 'SecretUpdated'],
      [vc, 'Normal', 'Revoked'],
      [vc, 'Warning', 'RevocationFailed'],
      [vs(), 'Warning', 'Synced'],
      [vs(), 'Normal', 'RemoteSecretNotFound'],
      [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('api') }, 'Normal', 'Restarted'],
      [{ apiVersion: 'other.io/v1', kind: 'VaultSecret', metadata: meta('x') }, 'Normal', 'SecretCreated'],
    ];
    for (const [obj, type, reason] of none) {
      assert.equal(
        lifecycleEventFor(obj, type, reason, 'message'),
        undefined,
        `${obj.kind} ${type} ${reason}`,
      );
    }
  });

  describe('withLifecycleEvents', () => {
    it('passes every call through and notifies first, synchronously', async () => {
      const calls: string[] = [];
      const sink: KubeEventSink = {
        normal: async (_o, reason) => void calls.push(`normal ${reason}`),
        warning: async (_o, reason) => void calls.push(`warning ${reason}`),
      };
      const notified: LifecycleEventInput[] = [];
      const wrapped = withLifecycleEvents(sink, {
        notify: (e) => {
          calls.push(`notify ${e.type}`);
          notified.push(e);
        },
      });
      const p = wrapped.normal(vs(), 'SecretCreated', 'Created Secret db');
      assert.deepEqual(calls, ['notify synced', 'normal SecretCreated']);
      await p;
      await wrapped.warning(vs(), 'RestartSkipped', 'paused');
      await wrapped.warning(vs(), 'BackendUnavailable', 'down');
      assert.deepEqual(calls, [
        'notify synced',
        'normal SecretCreated',
        'warning RestartSkipped',
        'notify sync_failed',
        'warning BackendUnavailable',
      ]);
      assert.equal(notified.length, 2);
    });

    it('never lets a failing listener break the Kubernetes Event or the caller', async () => {
      let recorded = 0;
      const sink: KubeEventSink = {
        normal: async () => void recorded++,
        warning: async () => void recorded++,
      };
      const wrapped = withLifecycleEvents(sink, {
        notify: () => {
          throw new Error('boom');
        },
      });
      await wrapped.normal(vs(), 'SecretCreated', 'x');
      await wrapped.warning(vs(), 'BackendUnavailable', 'x');
      assert.equal(recorded, 2);
    });
  });
});
