import assert from 'node:assert/strict';
import type { SecretRotation, VaultCertificate, VaultSecret } from '../apis/v1alpha1/index.ts';
import type { LifecycleFact } from '../controllers/lifecycle.ts';
import { lifecycleEventFor } from './lifecycle.ts';

const meta = (name: string) => ({ name, namespace: 'shop', uid: `uid-${name}` });
const vs = {
  apiVersion: 'vaultsync.io/v1alpha1',
  kind: 'VaultSecret',
  metadata: meta('db'),
  spec: { backend: 'vault' },
} as VaultSecret;
const vc = {
  apiVersion: 'vaultsync.io/v1alpha1',
  kind: 'VaultCertificate',
  metadata: meta('web'),
} as VaultCertificate;
const sr = {
  apiVersion: 'vaultsync.io/v1alpha1',
  kind: 'SecretRotation',
  metadata: meta('db-password'),
} as SecretRotation;

describe('webhook lifecycle events from typed facts', () => {
  it('VaultSecret: SecretSynced is synced, SecretSyncFailed sync_failed, with the Secret named', () => {
    const synced = lifecycleEventFor({
      type: 'SecretSynced',
      object: vs,
      reason: 'SecretCreated',
      message: 'Created Secret db-creds',
      secretName: 'db-creds',
    });
    assert.deepEqual(synced, {
      type: 'synced',
      resource: {
        apiVersion: 'vaultsync.io/v1alpha1',
        kind: 'VaultSecret',
        namespace: 'shop',
        name: 'db',
        uid: 'uid-db',
      },
      reason: 'SecretCreated',
      message: 'Created Secret db-creds',
      details: { secretName: 'db-creds' },
    });
    const failed = lifecycleEventFor({
      type: 'SecretSyncFailed',
      object: vs,
      reason: 'RemoteSecretNotFound',
      message: 'path shop/x not found',
      secretName: 'db',
    });
    assert.equal(failed.type, 'sync_failed');
    assert.equal(failed.reason, 'RemoteSecretNotFound');
    assert.deepEqual(failed.details, { secretName: 'db' });
  });

  it('VaultCertificate: Issued and Reissued are certificate_issued, Renewed certificate_renewed, the serial in lower case', () => {
    const fact = (reason: 'Issued' | 'Reissued' | 'Renewed'): LifecycleFact => ({
      type: 'CertificateIssued',
      object: vc,
      reason,
      message: `${reason} certificate`,
      secretName: 'web-tls',
      serialNumber: '0A1B2C3D',
      revision: 2,
      notAfter: '2030-03-01T00:00:00.000Z',
    });
    assert.equal(lifecycleEventFor(fact('Issued')).type, 'certificate_issued');
    assert.equal(lifecycleEventFor(fact('Reissued')).type, 'certificate_issued');
    const renewed = lifecycleEventFor(fact('Renewed'));
    assert.equal(renewed.type, 'certificate_renewed');
    assert.deepEqual(renewed.details, {
      secretName: 'web-tls',
      serialNumber: '0a1b2c3d',
      revision: 2,
      notAfter: '2030-03-01T00:00:00.000Z',
    });
    const failed = lifecycleEventFor({
      type: 'CertificateFailed',
      object: vc,
      reason: 'PermissionDenied',
      message: 'x',
      secretName: 'web-tls',
    });
    assert.equal(failed.type, 'certificate_failed');
    assert.deepEqual(failed.details, { secretName: 'web-tls' });
  });

  it('SecretRotation: RotationCompleted is rotated with the version; RotationFailed rotation_failed; no version, no field', () => {
    const rotated = lifecycleEventFor({
      type: 'RotationCompleted',
      object: sr,
      reason: 'Rotated',
      message: 'Wrote version 7 of shop/db',
      backend: 'vault',
      path: 'shop/db',
      version: '7',
    });
    assert.equal(rotated.type, 'rotated');
    assert.deepEqual(rotated.details, { backend: 'vault', path: 'shop/db', version: '7' });
    const unversioned = lifecycleEventFor({
      type: 'RotationCompleted',
      object: sr,
      reason: 'Rotated',
      message: 'Wrote shop/db',
      backend: 'memory',
      path: 'shop/db',
    });
    assert.deepEqual(unversioned.details, { backend: 'memory', path: 'shop/db' });
    const failed = lifecycleEventFor({
      type: 'RotationFailed',
      object: sr,
      reason: 'RolledBack',
      message: 'x',
      backend: 'vault',
      path: 'shop/db',
    });
    assert.equal(failed.type, 'rotation_failed');
    assert.deepEqual(failed.details, { backend: 'vault', path: 'shop/db' });
  });
});
