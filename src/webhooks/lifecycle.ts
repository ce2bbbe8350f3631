// The webhook event for a lifecycle fact (controllers/lifecycle.ts): the fact's type picks the
// event type, its typed fields become the details. Nothing is parsed from a message.
//
//   SecretSynced       → synced                 SecretSyncFailed   → sync_failed
//   RotationCompleted  → rotated                RotationFailed     → rotation_failed
//   CertificateIssued  → certificate_issued (Issued, Reissued) | certificate_renewed (Renewed)
//   CertificateFailed  → certificate_failed
import type { LifecycleFact } from '../controllers/lifecycle.ts';
import type { EventDetails, LifecycleEventInput } from './event.ts';

/** The webhook event a fact stands for. */
export function lifecycleEventFor(fact: LifecycleFact): LifecycleEventInput {
  const meta = fact.object.metadata ?? {};
  const resource = {
    apiVersion: fact.object.apiVersion ?? 'vaultsync.io/v1alpha1',
    kind: fact.object.kind ?? '',
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    ...(meta.uid !== undefined && { uid: meta.uid }),
  };
  const [type, details] = typeAndDetails(fact);
  return {
    type,
    resource,
    reason: fact.reason,
    message: fact.message,
    details: Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined)) as EventDetails,
  };
}

function typeAndDetails(fact: LifecycleFact): [LifecycleEventInput['type'], EventDetails] {
  switch (fact.type) {
    case 'SecretSynced':
      return ['synced', { secretName: fact.secretName }];
    case 'SecretSyncFailed':
      return ['sync_failed', { secretName: fact.secretName }];
    case 'RotationCompleted':
      return ['rotated', { backend: fact.backend, path: fact.path, version: fact.version }];
    case 'RotationFailed':
      return ['rotation_failed', { backend: fact.backend, path: fact.path }];
    case 'CertificateIssued':
      return [
        fact.reason === 'Renewed' ? 'certificate_renewed' : 'certificate_issued',
        {
          secretName: fact.secretName,
          serialNumber: fact.serialNumber.toLowerCase(),
          revision: fact.revision,
          notAfter: fact.notAfter,
        },
      ];
    case 'CertificateFailed':
      return ['certificate_failed', { secretName: fact.secretName }];
  }
}
