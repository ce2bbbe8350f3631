// Every condition and event reason users see, by kind (CamelCase, as `kubectl describe` and
// `kubectl get` print them). The controllers import their reasons from here; reasons.test.ts
// checks that each one is documented on its kind's page (DOCUMENTED_IN).

/** Reasons any kind gives when a backend call fails (backendReason() in controllers/failure). */
export const BackendReason = {
  PermissionDenied: 'PermissionDenied',
  TenancyDenied: 'TenancyDenied',
  BackendUnavailable: 'BackendUnavailable',
  BackendThrottled: 'BackendThrottled',
  AuthenticationFailed: 'AuthenticationFailed',
  InvalidRequest: 'InvalidRequest',
} as const;

/** Failures every kind reports the same way (controllers/failure). */
export const CommonReason = {
  /** The stored spec breaks a rule of the CRD (stored before a CRD upgrade or past CEL). */
  InvalidSpec: 'InvalidSpec',
  /** The apiserver refused a write (4xx other than conflict or throttling): its message, values cut out. */
  SecretWriteFailed: 'SecretWriteFailed',
  /** Something unexpected failed (a bug of ours, or another request refused): see the operator log. */
  InternalError: 'InternalError',
} as const;

/** Reasons of a VaultSecret's `Ready` condition. */
export const VaultSecretReason = {
  Synced: 'Synced',
  BackendNotFound: 'BackendNotFound',
  RemoteSecretNotFound: 'RemoteSecretNotFound',
  ...BackendReason,
  TemplateFailed: 'TemplateFailed',
  SecretNotOwned: 'SecretNotOwned',
  TargetSecretMissing: 'TargetSecretMissing',
  /** creationPolicy Merge into a system Secret or one another vaultsync controller writes. */
  MergeRefused: 'MergeRefused',
  /** The backend data has a key that is not a valid Secret key. */
  InvalidKey: 'InvalidKey',
  /** The data is over the Secret size limit (1 MiB of values). */
  SecretTooLarge: 'SecretTooLarge',
  /** The read would leave the Secret empty or remove more than half of its keys (wipe-guard.ts). */
  UnsafeShrink: 'UnsafeShrink',
  /** Two dataFrom sources would write the same key (a find, or a rewrite, made them collide). */
  KeyConflict: 'KeyConflict',
  /** A dataFrom[].find matched more secrets than its maxItems. */
  TooManyMatches: 'TooManyMatches',
  ...CommonReason,
} as const;
export type VaultSecretReason = (typeof VaultSecretReason)[keyof typeof VaultSecretReason];

/** Events on a VaultSecret besides its Warning per failure (whose reason is the Ready reason). */
export const VaultSecretEventReason = {
  SecretCreated: 'SecretCreated',
  SecretUpdated: 'SecretUpdated',
  /** Back in sync after a failure. */
  Synced: 'Synced',
} as const;

/** Reasons of a SecretRotation's `Ready` and `RolledOut` conditions. */
export const SecretRotationReason = {
  /** Idle: the last rotation succeeded and nothing is pending. */
  Rotated: 'Rotated',
  /** Waiting for the first scheduled time (no rotation yet). */
  Scheduled: 'Scheduled',
  Suspended: 'Suspended',
  Rotating: 'Rotating',
  RollingOut: 'RollingOut',
  Retiring: 'Retiring',
  RolloutNotReady: 'RolloutNotReady',
  /** rollbackOnFailure: the rollout was not ready in time; the previous value was written back. */
  RolledBack: 'RolledBack',
  /** rollbackOnFailure: the rollback could not be written (the path changed since the rotation). */
  RollbackFailed: 'RollbackFailed',
  /** A rollback asked for (vaultsync.io/rollback-to, the API) was refused: no such version, denied; nothing written. */
  RollbackRefused: 'RollbackRefused',
  VaultSecretNotSynced: 'VaultSecretNotSynced',
  GeneratorFailed: 'GeneratorFailed',
  InvalidSchedule: 'InvalidSchedule',
  BackendNotFound: 'BackendNotFound',
  ...BackendReason,
  /** Check-and-set failed: someone else wrote the path between our read and our write. */
  ConcurrentWrite: 'ConcurrentWrite',
  /** restart.mode AnnotatePods while the operator config leaves operator.annotatePods off. */
  AnnotatePodsDisabled: 'AnnotatePodsDisabled',
  ...CommonReason,
} as const;
export type SecretRotationReason = (typeof SecretRotationReason)[keyof typeof SecretRotationReason];

/** Events on a SecretRotation besides its Warnings (whose reasons are condition reasons). */
export const SecretRotationEventReason = {
  Rotated: 'Rotated',
  RolledOut: 'RolledOut',
  PreviousValueRetired: 'PreviousValueRetired',
  /** A rollback asked for (vaultsync.io/rollback-to, the API) wrote an earlier version's value as the newest. */
  RolledBackTo: 'RolledBackTo',
} as const;

/** Reasons of a VaultCertificate's `Ready` condition. */
export const VaultCertificateReason = {
  /** Ready=True: the Secret holds a valid certificate for the current spec. */
  Issued: 'Issued',
  IssuerNotFound: 'IssuerNotFound',
  SecretNotOwned: 'SecretNotOwned',
  /** Our Secret has another type than kubernetes.io/tls (a type cannot change; it must be deleted). */
  SecretTypeMismatch: 'SecretTypeMismatch',
  ...BackendReason,
  IssuerNotReady: 'IssuerNotReady',
  /** The backend granted a shorter lifetime than spec.duration asked for. */
  DurationNotGranted: 'DurationNotGranted',
  /** The backend left out names the spec asked for. */
  NamesNotGranted: 'NamesNotGranted',
  /** The backend answered with a certificate that does not fit the key. */
  InvalidIssuedCertificate: 'InvalidIssuedCertificate',
  KeyGenerationFailed: 'KeyGenerationFailed',
  ...CommonReason,
} as const;
export type VaultCertificateReason = (typeof VaultCertificateReason)[keyof typeof VaultCertificateReason];

/** Why a new certificate is needed: the reason of `Issuing=True`, checked in this order. */
export const IssuingReason = {
  DoesNotExist: 'DoesNotExist',
  MissingData: 'MissingData',
  InvalidKeyPair: 'InvalidKeyPair',
  InvalidCertificate: 'InvalidCertificate',
  KeyMismatch: 'KeyMismatch',
  NotRecorded: 'NotRecorded',
  SecretEdited: 'SecretEdited',
  IncorrectIssuer: 'IncorrectIssuer',
  SpecChanged: 'SpecChanged',
  NamesMismatch: 'NamesMismatch',
  Expired: 'Expired',
  Renewing: 'Renewing',
  /** A new value of the vaultsync.io/renew-now annotation (kubectl vaultsync renew). */
  ManuallyTriggered: 'ManuallyTriggered',
} as const;
export type IssuingReason = (typeof IssuingReason)[keyof typeof IssuingReason];

/** Events on a VaultCertificate besides its Warning per failure. */
export const CertificateEventReason = {
  Issued: 'Issued',
  Renewed: 'Renewed',
  Reissued: 'Reissued',
  SecretUpdated: 'SecretUpdated',
  Revoked: 'Revoked',
  RevocationFailed: 'RevocationFailed',
} as const;

/**
 * Events of the reload controller on a workload (and, for RestartSkipped and RestartFailed, on
 * the resource that asked for the restart).
 */
export const WorkloadEventReason = {
  Restarted: 'Restarted',
  PodsAnnotated: 'PodsAnnotated',
  RestartDeferred: 'RestartDeferred',
  RestartSkipped: 'RestartSkipped',
  RestartFailed: 'RestartFailed',
  RolledOut: 'RolledOut',
  RolloutNotReady: 'RolloutNotReady',
} as const;

/** Every reason users see, and the page (under docs/) that must name each one of a group. */
export const DOCUMENTED_IN: readonly { page: string; reasons: Readonly<Record<string, string>> }[] = [
  { page: 'operations.md', reasons: VaultSecretReason },
  { page: 'configuration.md', reasons: VaultSecretReason },
  { page: 'operations.md', reasons: VaultSecretEventReason },
  { page: 'rotation.md', reasons: SecretRotationReason },
  { page: 'rotation.md', reasons: SecretRotationEventReason },
  { page: 'certificates.md', reasons: VaultCertificateReason },
  { page: 'certificates.md', reasons: IssuingReason },
  { page: 'certificates.md', reasons: CertificateEventReason },
  { page: 'rotation.md', reasons: WorkloadEventReason },
];
