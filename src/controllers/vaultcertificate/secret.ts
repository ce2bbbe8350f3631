// The kubernetes.io/tls Secret: whether we may write it, and the object we apply. Pure.
//   tls.crt  leaf certificate, then the intermediates      ca.crt  the CA to trust
//   tls.key  PKCS#8 PEM                                     tls-combined.pem / key.der  on request
import {
  VaultCertificateReason,
  FieldManager,
  LEGACY_FIELD_MANAGER,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  OperatorAnnotation,
  VAULTCERTIFICATE_OWNER_LABEL,
  VAULTSECRET_OWNER_LABEL,
} from '../../apis/v1alpha1/index.ts';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultCertificate } from '../../apis/v1alpha1/index.ts';
import { appliedBy } from '../../kube/managed-fields.ts';
import type { Sensitive } from '../../secrets/sensitive.ts';
import type { DesiredCertificate } from './spec.ts';

/** The keys status.certificateMAC covers. */
export const MAC_KEYS = ['tls.crt', 'tls.key', 'ca.crt'] as const;
export const COMBINED_KEY = 'tls-combined.pem';
export const DER_KEY = 'key.der';
export const SECRET_TYPE = 'kubernetes.io/tls';

export type WriteDecision =
  { allowed: true } | { allowed: false; reason: VaultCertificateReason; message: string };

/**
 * A Secret another tool or resource owns is never taken over. Ours carries our labels and fields
 * our field manager applied (managedFields): a label alone, which whoever may edit the Secret can
 * set, grants nothing.
 */
export function mayWrite(vc: VaultCertificate, existing: V1Secret | undefined): WriteDecision {
  if (!existing) return { allowed: true };
  const labels = existing.metadata?.labels ?? {};
  const name = vc.spec.secretName;
  if (labels[VAULTCERTIFICATE_OWNER_LABEL] === vc.metadata?.name && labels[MANAGED_BY_LABEL] === MANAGED_BY) {
    if (appliedBy(existing, [FieldManager.VaultCertificate, LEGACY_FIELD_MANAGER])) return { allowed: true };
    return {
      allowed: false,
      reason: VaultCertificateReason.SecretNotOwned,
      message:
        `Secret ${name} carries this VaultCertificate's labels but vaultsync did not write it (no fields of ` +
        `field manager ${FieldManager.VaultCertificate}); a label alone grants no writing: delete it and a new one is written`,
    };
  }
  if (labels[VAULTCERTIFICATE_OWNER_LABEL] !== undefined) {
    return {
      allowed: false,
      reason: VaultCertificateReason.SecretNotOwned,
      message: `Secret ${name} is written by VaultCertificate ${labels[VAULTCERTIFICATE_OWNER_LABEL]}; choose another secretName`,
    };
  }
  const by =
    labels[VAULTSECRET_OWNER_LABEL] !== undefined
      ? ` (it belongs to VaultSecret ${labels[VAULTSECRET_OWNER_LABEL]})`
      : '';
  return {
    allowed: false,
    reason: VaultCertificateReason.SecretNotOwned,
    message: `Secret ${name} exists and is not managed by this VaultCertificate${by}; delete it or choose another secretName`,
  };
}

/**
 * Why the Secret cannot be written, if it cannot: someone else's (mayWrite), or ours with another
 * type. A Secret's type cannot change and the operator is granted no delete on Secrets: one of
 * ours with another type waits for a person to delete it (its deletion wakes us at once).
 */
export function secretProblem(
  vc: VaultCertificate,
  existing: V1Secret | undefined,
): { reason: VaultCertificateReason; message: string } | undefined {
  const decision = mayWrite(vc, existing);
  if (!decision.allowed) return decision;
  const type = existing?.type ?? 'Opaque';
  if (!existing || type === SECRET_TYPE) return undefined;
  return {
    reason: VaultCertificateReason.SecretTypeMismatch,
    message: `Secret ${vc.spec.secretName} has type ${type}, and a Secret's type cannot change to ${SECRET_TYPE}; delete the Secret and a new one is written`,
  };
}

export interface CertificateMaterial {
  certPem: string;
  chainPem: readonly string[];
  caPem: string;
  keyPem: Sensitive<string>;
  /** PKCS#8 DER, when DER output is wanted. */
  keyDer?: Sensitive<Buffer>;
}

export interface SecretMeta {
  issuer: string;
  requestHash: string;
  revision: number;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

/** The data of the Secret, base64; key material is revealed only here. */
export function secretData(desired: DesiredCertificate, m: CertificateMaterial): Record<string, string> {
  const chain = [m.certPem, ...m.chainPem].map(withNewline).join('');
  const key = m.keyPem.reveal();
  const data: Record<string, string> = {
    'ca.crt': b64(withNewline(m.caPem)),
    'tls.crt': b64(chain),
    'tls.key': b64(key),
  };
  if (desired.outputs.combinedPem) data[COMBINED_KEY] = b64(withNewline(key) + chain);
  if (desired.outputs.der && m.keyDer) data[DER_KEY] = m.keyDer.reveal().toString('base64');
  return data;
}

/** The object applied with server-side apply: only the fields vaultsync owns. */
export function desiredSecret(
  vc: VaultCertificate,
  desired: DesiredCertificate,
  data: Record<string, string>,
  meta: SecretMeta,
): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: desired.secretName,
      namespace: vc.metadata?.namespace,
      labels: {
        ...desired.labels,
        [MANAGED_BY_LABEL]: MANAGED_BY,
        [VAULTCERTIFICATE_OWNER_LABEL]: vc.metadata?.name ?? '',
      },
      annotations: {
        ...desired.annotations,
        [OperatorAnnotation.Issuer]: meta.issuer,
        [OperatorAnnotation.CertificateRequest]: meta.requestHash,
        [OperatorAnnotation.CertificateRevision]: String(meta.revision),
      },
    },
    type: SECRET_TYPE,
    data,
  };
}

/**
 * Does the existing Secret already carry everything `desired` applies? Data keys we write must
 * be equal and our optional outputs must not linger once turned off; labels and annotations
 * are a subset check (other managers may add their own).
 */
export function secretUpToDate(existing: V1Secret, desired: V1Secret): boolean {
  const want = desired.data ?? {};
  const have = existing.data ?? {};
  const subset = (w: Record<string, string> | undefined, h: Record<string, string> | undefined) =>
    Object.entries(w ?? {}).every(([k, v]) => h?.[k] === v);
  return (
    subset(want, have) &&
    [COMBINED_KEY, DER_KEY].every((k) => k in want || !(k in have)) &&
    subset(desired.metadata?.labels, existing.metadata?.labels) &&
    subset(desired.metadata?.annotations, existing.metadata?.annotations) &&
    (existing.type ?? 'Opaque') === SECRET_TYPE
  );
}

function withNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}
