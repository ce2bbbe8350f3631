// What the reload controller offers the other controllers, and what it is told: declarations only.
import type { VaultSecret } from '../../apis/v1alpha1/index.ts';
import type { Digests } from './annotations.ts';
import type { RestartPolicy } from './policy.ts';
import type { RestartKind, Workload } from './workloads.ts';

export interface EventSink {
  normal(obj: Workload | VaultSecret, reason: string, message: string): Promise<void>;
  warning(obj: Workload | VaultSecret, reason: string, message: string): Promise<void>;
}

/** What a SecretRotation says about a change of a VaultSecret's data. */
export interface RotationContext {
  /** The SecretRotation writing a path this VaultSecret reads: its restart settings apply. */
  rotation: string;
  /** The change retires a previous value (TwoPhase): consumers need no restart for it. */
  suppress?: boolean;
}

export interface RotationHooks {
  contextFor(vs: VaultSecret): RotationContext | undefined;
  policyFor(namespace: string, rotation: string): RestartPolicy | undefined;
}

export interface SecretChange {
  secretName: string;
  previousMac: string;
  mac: string;
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

export interface RestartRequest {
  namespace: string;
  workloads: readonly { kind: RestartKind; name: string }[];
  /** Secret (or `SecretRotation.<name>`) → digest of the data the pods must get. */
  secrets: Digests;
  group: string;
  rotation?: string;
  reason: string;
}

export type RolloutState =
  | { state: 'NotFound' }
  /** A restart is recorded and waits for its policy (debounce, window, concurrency). */
  | { state: 'Pending' }
  /** Not restarted for this data and nothing pending (e.g. skipped because paused). */
  | { state: 'NotRestarted' }
  | { state: 'RollingOut'; since?: number }
  | { state: 'Ready' }
  | { state: 'TimedOut'; since?: number }
  /** The cache cannot tell yet (not synced; for Rollouts, discovery has not answered yet). */
  | { state: 'Unknown' };
