// What the reload controller is told and answers, beside what the declared interface between
// controllers (../contracts.ts) names: declarations only.

/** The SecretRotation a VaultSecret's data change belongs to (rotation-context.ts). */
export interface RotationContext {
  /** The SecretRotation writing a path this VaultSecret reads: its restart settings apply. */
  rotation: string;
  /** The change retires a previous value (TwoPhase): consumers need no restart for it. */
  suppress?: boolean;
}

export interface ManagedSecretChange {
  namespace: string;
  secretName: string;
  /** Keyed MAC of the new data (a status MAC: secrets/mac-keyring.ts). */
  mac: string;
  /** Explicit targets (rolloutRestartTargets): Deployment, StatefulSet, DaemonSet, Rollout (Argo). */
  targets?: readonly { kind: string; name: string }[];
  /** Concurrency group: "VaultSecret/<name>", "VaultCertificate/<name>", ... */
  group: string;
  rotation?: string;
  reason?: string;
}
