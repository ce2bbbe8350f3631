// May this VaultSecret write the Secret it targets? Pure. A Secret is written when this
// VaultSecret created it (its owner reference, or fields applied by our field manager in
// managedFields: a label alone, which anyone who may edit the Secret can set, grants nothing),
// or, with creationPolicy Merge, when it is an ordinary Secret nobody else in vaultsync writes.
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../../apis/v1alpha1/index.ts';
import {
  API_VERSION,
  FieldManager,
  LEGACY_FIELD_MANAGER,
  VAULTCERTIFICATE_OWNER_LABEL as CERTIFICATE_LABEL,
  VAULTSECRET_OWNER_LABEL,
  VAULTSYNC_FIELD_MANAGERS,
  VaultSecretReason,
} from '../../apis/v1alpha1/index.ts';
import { appliedBy, writers } from '../../kube/managed-fields.ts';
import { isSystemSecretType } from '../../kube/secret-types.ts';
import { targetName } from '../shared/target-name.ts';
import { creationPolicy } from './target-secret.ts';

export type WriteDecision =
  { allowed: true } | { allowed: false; reason: VaultSecretReason; message: string };

/**
 * Which other vaultsync writer writes this Secret, if any: a VaultCertificate (its label, or its
 * field manager), any other vaultsync field manager (a `kubernetes` backend's source Secret that
 * a SecretRotation writes), or the legacy one on a Secret that is not this VaultSecret's.
 */
export function otherVaultsyncWriter(secret: V1Secret, vsName: string): string | undefined {
  const certificate = secret.metadata?.labels?.[CERTIFICATE_LABEL];
  if (certificate !== undefined) return `VaultCertificate ${certificate}`;
  const others = writers(
    secret,
    VAULTSYNC_FIELD_MANAGERS.filter((m) => m !== FieldManager.VaultSecret && m !== LEGACY_FIELD_MANAGER),
  );
  if (others.length > 0) return `field manager ${others.join(', ')}`;
  if (
    appliedBy(secret, [LEGACY_FIELD_MANAGER]) &&
    secret.metadata?.labels?.[VAULTSECRET_OWNER_LABEL] !== vsName
  )
    return `an earlier vaultsync (field manager ${LEGACY_FIELD_MANAGER}) for another resource`;
  return undefined;
}

/** This VaultSecret created the Secret: its owner reference, or fields our field manager applied. */
export function createdBy(vs: VaultSecret, secret: V1Secret): boolean {
  const uid = vs.metadata?.uid;
  const owned = (secret.metadata?.ownerReferences ?? []).some(
    (o) => o.apiVersion === API_VERSION && o.kind === 'VaultSecret' && uid !== undefined && o.uid === uid,
  );
  return owned || appliedBy(secret, [FieldManager.VaultSecret, LEGACY_FIELD_MANAGER]);
}

/**
 * May this VaultSecret write the existing Secret (or create it)? A Secret that another tool,
 * another VaultSecret or another vaultsync controller owns is never taken over, and Merge never
 * writes into a system Secret.
 */
export function mayWrite(vs: VaultSecret, existing: V1Secret | undefined): WriteDecision {
  const name = targetName(vs);
  const policy = creationPolicy(vs);
  const vsName = vs.metadata?.name ?? '';
  if (!existing) {
    return policy === 'Merge'
      ? {
          allowed: false,
          reason: VaultSecretReason.TargetSecretMissing,
          message: `Secret ${name} does not exist; creationPolicy Merge only writes into an existing Secret`,
        }
      : { allowed: true };
  }
  const owner = existing.metadata?.labels?.[VAULTSECRET_OWNER_LABEL];
  if (owner !== undefined && owner !== vsName) {
    return {
      allowed: false,
      reason: VaultSecretReason.SecretNotOwned,
      message: `Secret ${name} is written by VaultSecret ${owner}; choose another target.name`,
    };
  }
  const other = otherVaultsyncWriter(existing, vsName);
  if (other !== undefined) {
    return {
      allowed: false,
      reason: policy === 'Merge' ? VaultSecretReason.MergeRefused : VaultSecretReason.SecretNotOwned,
      message: `Secret ${name} is written by ${other}; a VaultSecret never writes into it, choose another target.name`,
    };
  }
  if (policy === 'Merge') {
    const type = existing.type ?? 'Opaque';
    return isSystemSecretType(type)
      ? {
          allowed: false,
          reason: VaultSecretReason.MergeRefused,
          message: `Secret ${name} has type ${type}, which the cluster or a tool keeps for itself; creationPolicy Merge never writes into it`,
        }
      : { allowed: true };
  }
  if (owner === vsName && createdBy(vs, existing)) return { allowed: true };
  if (owner === vsName) {
    return {
      allowed: false,
      reason: VaultSecretReason.SecretNotOwned,
      message:
        `Secret ${name} carries this VaultSecret's label but vaultsync did not write it (no owner reference, ` +
        `no fields of field manager ${FieldManager.VaultSecret}); a label alone grants no writing: delete it ` +
        'or choose another target.name',
    };
  }
  return {
    allowed: false,
    reason: VaultSecretReason.SecretNotOwned,
    message:
      `Secret ${name} exists and is not managed by vaultsync; delete it, choose another target.name, ` +
      'or set target.creationPolicy: Merge to write only this VaultSecret’s keys into it',
  };
}
