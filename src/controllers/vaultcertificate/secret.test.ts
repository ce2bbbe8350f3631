import {
  VaultCertificateReason,
  VAULTCERTIFICATE_OWNER_LABEL,
  FieldManager,
  MANAGED_BY,
  MANAGED_BY_LABEL,
} from '../../apis/v1alpha1/index.ts';
import assert from 'node:assert/strict';
import type { V1Secret } from '@kubernetes/client-node';
import { secretProblem } from './secret.ts';
import { certificate } from './testing.ts';

describe('VaultCertificate: may the Secret be written?', () => {
  const vc = certificate();
  const secret = (
    over: Partial<V1Secret> = {},
    labels: Record<string, string> = {},
    manager: string = FieldManager.VaultCertificate,
  ): V1Secret => ({
    metadata: {
      name: 'api-tls',
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [VAULTCERTIFICATE_OWNER_LABEL]: 'api', ...labels },
      managedFields: [{ manager, operation: 'Apply' }],
    },
    type: 'kubernetes.io/tls',
    ...over,
  });

  it('no Secret, or ours of type kubernetes.io/tls: yes', () => {
    assert.equal(secretProblem(vc, undefined), undefined);
    assert.equal(secretProblem(vc, secret()), undefined);
  });

  it('ours with another type: it must be deleted (a type cannot change)', () => {
    const problem = secretProblem(vc, secret({ type: 'Opaque' }));
    assert.equal(problem?.reason, VaultCertificateReason.SecretTypeMismatch);
    assert.match(problem!.message, /has type Opaque/);
  });

  it('someone else’s, or labelled as ours without our fields: not ours, whatever its type', () => {
    assert.equal(
      secretProblem(vc, secret({}, { [VAULTCERTIFICATE_OWNER_LABEL]: 'web' }))?.reason,
      VaultCertificateReason.SecretNotOwned,
    );
    assert.equal(
      secretProblem(vc, secret({ type: 'Opaque' }, {}, 'kubectl'))?.reason,
      VaultCertificateReason.SecretNotOwned,
    );
  });
});
