// The field managers vaultsync writes with: one per controller, so the apiserver's managedFields
// say which controller wrote what, server-side apply by one controller never drops fields
// another one applied, and a VaultSecret can tell a Secret another controller writes.

/** Field manager of each writer (server-side apply, merge patches of status and metadata). */
export const FieldManager = {
  VaultSecret: 'vaultsync-vaultsecret',
  VaultCertificate: 'vaultsync-certificate',
  SecretRotation: 'vaultsync-rotation',
  Reload: 'vaultsync-reload',
  Api: 'vaultsync-api',
  /** A `kubernetes` backend's writes (SecretRotation, the API) into its source namespace. */
  KubernetesBackend: 'vaultsync-kubernetes-backend',
} as const;
export type FieldManager = (typeof FieldManager)[keyof typeof FieldManager];

/**
 * The one field manager every controller used before they had their own. A Secret it applied is
 * still accepted as written by vaultsync, and it gives up its fields the next time the Secret's
 * own controller writes it (see kube/managed-fields.ts), so no stale keys stay behind.
 */
export const LEGACY_FIELD_MANAGER = 'vaultsync';

/** Every field manager that is vaultsync, the legacy one included. */
export const VAULTSYNC_FIELD_MANAGERS: readonly string[] = [
  ...Object.values(FieldManager),
  LEGACY_FIELD_MANAGER,
];
