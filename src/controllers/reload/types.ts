// What the reload controller is told and answers, beside what the declared interface between
// controllers (../contracts.ts) names: declarations only.
import type { VaultSecret } from '../../apis/v1alpha1/index.ts';
import type { RestartPolicy } from '../shared/restart-policy.ts';

export type { RestartRequest, RolloutState, SecretChange } from '../contracts.ts';
/** Reload reports restarts as plain Events (no lifecycle facts). */
export type { KubeEventRecorder as EventSink } from '../lifecycle.ts';

/** What a SecretRotation says about a change of a VaultSecret's data. */
export interface RotationContext {
  /** The SecretRotation writing a path this VaultSecret reads: its restart settings apply. */
  rotation: string;
  /** The change retires a previous value (TwoPhase): consumers need no restart for it. */
  suppress?: boolean;
}

/**
 * How a rotation's context and settings were given before the declared interface (contracts.ts):
 * set by SecretRotation after construction. Still honoured while it is set; the reload controller
 * otherwise reads them from the SecretRotation cache (rotation-context.ts).
 */
export interface RotationHooks {
  contextFor(vs: VaultSecret): RotationContext | undefined;
  policyFor(namespace: string, rotation: string): RestartPolicy | undefined;
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
