// The annotations and finalizers users see on vaultsync's resources, Secrets and workloads:
// one place to look them up (docs/operations.md, docs/rotation.md and docs/certificates.md
// describe each). The controllers import them from here.

/** Set by users (or the HTTPS API) to ask for something once, or to opt a workload in. */
export const UserAnnotation = {
  /** On a VaultSecret: any new value asks for one read of the backend now. */
  SyncNow: 'vaultsync.io/sync-now',
  /** On a VaultSecret: a new value lets this one read shrink the Secret (wipe-guard.ts). */
  AllowShrink: 'vaultsync.io/allow-shrink',
  /** On a SecretRotation: any new value asks for one rotation now. */
  RotateNow: 'vaultsync.io/rotate-now',
  /**
   * On a SecretRotation: a new value `<version>` (or `<version>#<any text>`) asks for one rollback:
   * that version's value is written back as the newest (docs/rotation.md).
   */
  RollbackTo: 'vaultsync.io/rollback-to',
  /** On a VaultCertificate: any new value asks for one new certificate now (kubectl vaultsync renew). */
  RenewNow: 'vaultsync.io/renew-now',
  /** On a workload: restart when any managed Secret it references changes ("true"). */
  Reload: 'vaultsync.io/reload',
  /** On a workload: restart when one of these managed Secrets changes ("a,b"). */
  ReloadSecrets: 'vaultsync.io/reload-secrets',
  /** On a workload: wait for further changes this long (default 10s). */
  ReloadDebounce: 'vaultsync.io/reload-debounce',
  /** On a workload: at least this long between two restarts (default 0). */
  ReloadMinInterval: 'vaultsync.io/reload-min-interval',
} as const;

/** Written by vaultsync (read back by it; users may read them). */
export const OperatorAnnotation = {
  /** On a Secret a VaultSecret writes: the keys it manages (names only). */
  ManagedKeys: 'vaultsync.io/managed-keys',
  /** On a certificate Secret: who issued it, `backend` or `backend/role`. */
  Issuer: 'vaultsync.io/issuer',
  /** On a certificate Secret: hash of the request the certificate was issued for. */
  CertificateRequest: 'vaultsync.io/certificate-request',
  /** On a certificate Secret: number of certificates issued for the resource (status.revision). */
  CertificateRevision: 'vaultsync.io/certificate-revision',
  /** On a workload, from releases before issue 14: a restart owed to it (read and removed). */
  PendingRestart: 'vaultsync.io/pending-restart',
  /** On a workload: when vaultsync last restarted it (RFC 3339, ms). */
  RestartedAt: 'vaultsync.io/restarted-at',
  /** On a workload: who asked for that restart ("VaultSecret/db", "SecretRotation/x"). */
  RestartGroup: 'vaultsync.io/restart-group',
  /** On a workload (AnnotatePods mode): the digests last written onto its pods. */
  PodsSecretsHmac: 'vaultsync.io/pods-secrets-hmac',
  /** On a pod template: "<secret>=<digest>,..." of the data the pods were restarted for. */
  SecretsHmac: 'vaultsync.io/secrets-hmac',
} as const;

/** The finalizers vaultsync sets. */
export const Finalizer = {
  /** A Merge + Delete VaultSecret, until its keys are removed from the Secret. */
  RemoveMergedKeys: 'vaultsync.io/remove-merged-keys',
  /** A revokeOnDelete VaultCertificate, until its certificate is revoked. */
  RevokeCertificate: 'vaultsync.io/revoke-certificate',
} as const;
