import assert from 'node:assert/strict';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret, VaultSecretTarget } from '../../apis/v1alpha1/index.ts';
import { isSystemSecretType } from '../../kube/secret-types.ts';
import { mayWrite } from './ownership.ts';

const vaultSecret = (target: VaultSecretTarget = {}): VaultSecret => ({
  apiVersion: 'vaultsync.io/v1alpha1',
  kind: 'VaultSecret',
  metadata: { name: 'db', namespace: 'shop', uid: 'vs-uid' },
  spec: { backend: 'vault', data: [{ secretKey: 'password', remoteRef: { path: 'db' } }], target },
});

const applied = (manager: string) => ({ manager, operation: 'Apply' });
const secret = (over: { type?: string; labels?: Record<string, string>; managers?: string[] } = {}) =>
  ({
    metadata: {
      name: 'db',
      namespace: 'shop',
      labels: over.labels ?? {},
      managedFields: (over.managers ?? []).map(applied),
    },
    ...(over.type ? { type: over.type } : {}),
    data: { other: 'eA==' },
  }) satisfies V1Secret;
const ours = { 'app.kubernetes.io/managed-by': 'vaultsync', 'vaultsync.io/vaultsecret': 'db' };
const refusal = (d: ReturnType<typeof mayWrite>) => (d.allowed ? 'allowed' : d.reason);

describe('VaultSecret: may it write the target Secret?', () => {
  describe('Owner / Orphan', () => {
    it('creates a Secret that does not exist', () => {
      assert.equal(refusal(mayWrite(vaultSecret(), undefined)), 'allowed');
    });

    it('writes a Secret it wrote: our field manager, the one before it, or our owner reference', () => {
      for (const managers of [['vaultsync-vaultsecret'], ['vaultsync']]) {
        assert.equal(refusal(mayWrite(vaultSecret(), secret({ labels: ours, managers }))), 'allowed');
      }
      const owned = secret({ labels: ours });
      (owned.metadata as V1Secret['metadata'])!.ownerReferences = [
        { apiVersion: 'vaultsync.io/v1alpha1', kind: 'VaultSecret', name: 'db', uid: 'vs-uid' },
      ];
      assert.equal(refusal(mayWrite(vaultSecret(), owned)), 'allowed');
    });

    it('a label alone grants nothing: a Secret labelled as ours that vaultsync did not write is refused', () => {
      const d = mayWrite(vaultSecret(), secret({ labels: ours, managers: ['kubectl-client-side-apply'] }));
      assert.equal(refusal(d), 'SecretNotOwned');
      assert.match(d.allowed ? '' : d.message, /a label alone grants no writing/);
      const foreignOwner = secret({ labels: ours });
      (foreignOwner.metadata as V1Secret['metadata'])!.ownerReferences = [
        { apiVersion: 'vaultsync.io/v1alpha1', kind: 'VaultSecret', name: 'db', uid: 'another-uid' },
      ];
      assert.equal(refusal(mayWrite(vaultSecret(), foreignOwner)), 'SecretNotOwned');
    });

    it('never takes over an unlabelled Secret, another VaultSecret’s, or a VaultCertificate’s', () => {
      assert.equal(refusal(mayWrite(vaultSecret(), secret())), 'SecretNotOwned');
      const other = { ...ours, 'vaultsync.io/vaultsecret': 'other' };
      assert.equal(
        refusal(mayWrite(vaultSecret(), secret({ labels: other, managers: ['vaultsync-vaultsecret'] }))),
        'SecretNotOwned',
      );
      const cert = secret({
        labels: { ...ours, 'vaultsync.io/vaultcertificate': 'api' },
        managers: ['vaultsync'],
      });
      assert.equal(refusal(mayWrite(vaultSecret(), cert)), 'SecretNotOwned');
    });
  });

  describe('Merge', () => {
    const merge = vaultSecret({ creationPolicy: 'Merge' });

    it('writes its keys into an ordinary Secret someone else made, and into one it merged into before', () => {
      assert.equal(refusal(mayWrite(merge, secret({ managers: ['kubectl'] }))), 'allowed');
      for (const type of ['Opaque', 'kubernetes.io/tls', 'kubernetes.io/dockerconfigjson', 'example.com/x']) {
        assert.equal(refusal(mayWrite(merge, secret({ type }))), 'allowed', type);
      }
      for (const managers of [['vaultsync-vaultsecret'], ['vaultsync']]) {
        assert.equal(refusal(mayWrite(merge, secret({ labels: ours, managers }))), 'allowed');
      }
    });

    it('needs the Secret to exist', () => {
      assert.equal(refusal(mayWrite(merge, undefined)), 'TargetSecretMissing');
    });

    it('refuses a VaultCertificate’s Secret: by its label, or by its field manager once the label is gone', () => {
      const byLabel = secret({
        type: 'kubernetes.io/tls',
        labels: { 'vaultsync.io/vaultcertificate': 'api' },
      });
      const d = mayWrite(merge, byLabel);
      assert.equal(refusal(d), 'MergeRefused');
      assert.match(d.allowed ? '' : d.message, /written by VaultCertificate api/);
      const byManager = secret({ type: 'kubernetes.io/tls', managers: ['vaultsync-certificate'] });
      assert.match(JSON.stringify(mayWrite(merge, byManager)), /field manager vaultsync-certificate/);
      // A kubernetes backend's source Secret, which a SecretRotation writes (an update, not an apply).
      const source = secret();
      source.metadata.managedFields = [{ manager: 'vaultsync-kubernetes-backend', operation: 'Update' }];
      assert.equal(refusal(mayWrite(merge, source)), 'MergeRefused');
      // The shared manager of earlier releases, on a Secret that is not this VaultSecret's.
      assert.equal(refusal(mayWrite(merge, secret({ managers: ['vaultsync'] }))), 'MergeRefused');
      // Once merged into (our label), a certificate Secret is still refused.
      const both = secret({
        labels: { ...ours, 'vaultsync.io/vaultcertificate': 'api' },
        managers: ['vaultsync'],
      });
      assert.equal(refusal(mayWrite(merge, both)), 'MergeRefused');
    });

    it('refuses system Secrets: service-account and bootstrap tokens, Helm releases', () => {
      for (const type of [
        'kubernetes.io/service-account-token',
        'bootstrap.kubernetes.io/token',
        'helm.sh/release.v1',
      ]) {
        const d = mayWrite(merge, secret({ type }));
        assert.equal(refusal(d), 'MergeRefused', type);
        assert.match(d.allowed ? '' : d.message, new RegExp(`has type ${type.replace(/\./g, '\\.')}`));
      }
    });
  });

  it('system types: reserved domains except the user-data types Kubernetes defines', () => {
    const system = [
      'kubernetes.io/service-account-token',
      'bootstrap.kubernetes.io/token',
      'helm.sh/release.v1',
      'kubernetes.io/some-future-type',
      'x.k8s.io/internal',
    ];
    const user = [
      undefined,
      '',
      'Opaque',
      'kubernetes.io/tls',
      'kubernetes.io/basic-auth',
      'kubernetes.io/ssh-auth',
      'kubernetes.io/dockercfg',
      'kubernetes.io/dockerconfigjson',
      'example.com/kubernetes.io',
      'notkubernetes.io/x',
    ];
    for (const t of system) assert.equal(isSystemSecretType(t), true, t);
    for (const t of user) assert.equal(isSystemSecretType(t), false, String(t));
  });
});
