// The target Secret: which one, and the object we apply (whether we may: ownership.ts). Pure.
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../../apis/v1alpha1/index.ts';
import {
  API_VERSION,
  Finalizer,
  MANAGED_BY as OPERATOR_NAME,
  MANAGED_BY_LABEL as MANAGED_BY_LABEL_KEY,
  OperatorAnnotation,
  VAULT_SECRET_DEFAULTS,
  VAULTSECRET_OWNER_LABEL,
} from '../../apis/v1alpha1/index.ts';
import { targetName } from '../shared/target-name.ts';

/** On every Secret we write: the Secret informer watches only these. */
export const MANAGED_BY_LABEL = MANAGED_BY_LABEL_KEY;
export const MANAGED_BY = OPERATOR_NAME;
/** Name of the VaultSecret that writes the Secret (same namespace). */
/** Secret keys written by vaultsync (names only), so Merge targets can be checked for drift. */

/** Held by a Merge + Delete VaultSecret until its keys are removed from the Secret. */
export const CLEANUP_FINALIZER = Finalizer.RemoveMergedKeys;

export const creationPolicy = (vs: VaultSecret) =>
  vs.spec.target?.creationPolicy ?? VAULT_SECRET_DEFAULTS.creationPolicy;
export const deletionPolicy = (vs: VaultSecret) =>
  vs.spec.target?.deletionPolicy ?? VAULT_SECRET_DEFAULTS.deletionPolicy;

export const needsCleanupFinalizer = (vs: VaultSecret): boolean =>
  creationPolicy(vs) === 'Merge' && deletionPolicy(vs) === 'Delete';

/** The managed keys recorded on a Secret we wrote. */
export function managedKeys(secret: V1Secret | undefined): string[] | undefined {
  const value = secret?.metadata?.annotations?.[OperatorAnnotation.ManagedKeys];
  return value === undefined ? undefined : value.split(',').filter(Boolean);
}

/** Decoded data of the given keys of a Secret (the Secret's own bytes). */
export function secretData(secret: V1Secret, keys: readonly string[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const key of keys) {
    const b64 = secret.data?.[key];
    if (b64 !== undefined) out.set(key, Buffer.from(b64, 'base64'));
  }
  return out;
}

/**
 * The object applied with server-side apply: only the fields vaultsync owns. With Merge the
 * Secret's other keys, labels and annotations stay with their managers.
 */
export function desiredSecret(vs: VaultSecret, data: ReadonlyMap<string, Buffer>): V1Secret {
  const target = vs.spec.target ?? {};
  const policy = creationPolicy(vs);
  const encoded: Record<string, string> = {};
  for (const [k, v] of [...data.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))
    encoded[k] = v.toString('base64');
  const owned = policy === 'Owner' && deletionPolicy(vs) === 'Delete';
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: targetName(vs),
      namespace: vs.metadata?.namespace,
      labels: {
        ...target.labels,
        [MANAGED_BY_LABEL]: MANAGED_BY,
        [VAULTSECRET_OWNER_LABEL]: vs.metadata?.name ?? '',
      },
      annotations: {
        ...target.annotations,
        [OperatorAnnotation.ManagedKeys]: Object.keys(encoded).join(','),
      },
      // With deletionPolicy Delete the garbage collector removes the Secret with its owner.
      ...(owned && {
        ownerReferences: [
          {
            apiVersion: API_VERSION,
            kind: 'VaultSecret',
            name: vs.metadata?.name ?? '',
            uid: vs.metadata?.uid ?? '',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      }),
    },
    ...(policy !== 'Merge' && { type: target.type ?? VAULT_SECRET_DEFAULTS.targetType }),
    data: encoded,
  };
}

/** Does the existing Secret carry everything `desired` applies (metadata and type)? */
export function metadataMatches(existing: V1Secret, desired: V1Secret): boolean {
  const subset = (want: Record<string, string> | undefined, have: Record<string, string> | undefined) =>
    Object.entries(want ?? {}).every(([k, v]) => have?.[k] === v);
  const wantOwners = desired.metadata?.ownerReferences ?? [];
  const haveOwners = existing.metadata?.ownerReferences ?? [];
  const ownersMatch = wantOwners.every((w) =>
    haveOwners.some((h) => h.uid === w.uid && h.controller === w.controller),
  );
  const ourOwnerRefs = haveOwners.filter((h) => h.kind === 'VaultSecret' && h.apiVersion === API_VERSION);
  return (
    subset(desired.metadata?.labels, existing.metadata?.labels) &&
    subset(desired.metadata?.annotations, existing.metadata?.annotations) &&
    ownersMatch &&
    ourOwnerRefs.length === wantOwners.length &&
    (desired.type === undefined || desired.type === (existing.type ?? 'Opaque'))
  );
}
