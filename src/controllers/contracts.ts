// The declared interface between controllers: what each one offers the others, as narrow
// interfaces handed over at construction (src/operator.ts). No controller imports another's
// folder, and nothing is set on a controller after it is built. Besides these, controllers meet
// only in the cluster: shared informer caches, status and annotations.
//
// Construction order breaks the one cycle (reload needs a rotation's restart settings, a rotation
// needs reload's restarts): reload reads SecretRotations from their shared cache (built first),
// and is told of a TwoPhase retirement by the rotation (expectRetirement), so it never calls the
// SecretRotation controller.
//
//   SecretRotation cache ──► reload ──► VaultSecret ──► SecretRotation ◄── reload
//                                   └──────────────────► VaultCertificate
//
//   offered by       interface          to                     for
//   VaultSecret      VaultSecretReads   SecretRotation          its readers (cache), "read this path now"
//   reload           SecretChanges      VaultSecret             a Secret's data really changed
//   reload           WorkloadRestarts   VaultCertificate        restart rolloutRestartTargets
//   reload           Rollouts           SecretRotation          consumers: find, restart, track, retire
//   SecretRotation   ObjectCache<SecretRotation>  reload        which rotation a change belongs to
//
// Types only: the shared pure pieces are in ./shared/, the lifecycle facts in ./lifecycle.ts.
import type { KubernetesObject, V1LabelSelector, V1PodSpec } from '@kubernetes/client-node';
import type { RefreshCause, SecretRotation, VaultSecret } from '../apis/v1alpha1/index.ts';
import type { InformerHandlers } from '../kube/informer-handlers.ts';
import type { Digests } from './shared/digests.ts';

// --- Caches: read through the cluster -----------------------------------------------------------

/** A read-only informer cache, keyed "namespace/name". */
export interface ObjectCache<T> {
  get(key: string): T | undefined;
  list(namespace?: string): T[];
}

/** A cache others may watch (handlers only enqueue; they run on every replica). */
export interface WatchedCache<T> extends ObjectCache<T> {
  addHandlers(handlers: InformerHandlers<T>): void;
}

// --- Offered by the VaultSecret controller ------------------------------------------------------

export interface VaultSecretReads {
  /** The VaultSecret controller's informer (shared: not a second watch). */
  readonly vaultSecrets: WatchedCache<VaultSecret>;
  /**
   * Makes the VaultSecrets of `namespace` that read backend/path at its latest version read it
   * now (a SecretRotation wrote a new version: `cause`, default Rotation, is what their
   * status.history records if the data changed). Returns their keys.
   */
  requestRefresh(namespace: string, backend: string, path: string, cause?: RefreshCause): string[];
}

// --- Offered by the reload controller -----------------------------------------------------------

/** A change of a VaultSecret's Secret data: it had synced data before and the new data differs. */
export interface SecretChange {
  secretName: string;
  /** status.secretMAC before and after (keyed MACs, never values). */
  previousMac: string;
  mac: string;
}

/** To VaultSecret: where it reports a real change of its Secret's data. Never throws. */
export interface SecretChanges {
  secretChanged(vs: VaultSecret, change: SecretChange): void;
}

/** Every kind the reload controller restarts: the cached workload kinds and Argo Rollouts. */
export type RestartKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Rollout';

export interface WorkloadRef {
  kind: RestartKind;
  namespace: string;
  name: string;
}

export interface RestartRequest {
  namespace: string;
  workloads: readonly { kind: RestartKind; name: string }[];
  /** Secret (or `SecretRotation.<name>`) → digest of the data the pods must get. */
  secrets: Digests;
  /** Concurrency group: "VaultCertificate/<name>", "SecretRotation/<name>", ... */
  group: string;
  rotation?: string;
  reason: string;
}

/** To VaultCertificate (rolloutRestartTargets) and SecretRotation: records a restart owed. Never throws. */
export interface WorkloadRestarts {
  requestRestart(req: RestartRequest): void;
}

/** The fields of a Deployment / StatefulSet / DaemonSet / Rollout the controllers read. */
export interface Workload extends KubernetesObject {
  spec?: {
    replicas?: number;
    paused?: boolean;
    /** Argo Rollout: pods created before this time are restarted by the Argo controller. */
    restartAt?: string;
    /** Argo Rollout: its pod template is the referenced Deployment's (instead of `template`). */
    workloadRef?: { apiVersion?: string; kind?: string; name?: string };
    selector?: V1LabelSelector;
    updateStrategy?: { type?: string };
    strategy?: { type?: string };
    template?: { metadata?: { annotations?: Record<string, string> }; spec?: V1PodSpec };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    numberUnavailable?: number;
    /** Argo Rollout: Healthy, Progressing, Paused, Degraded. */
    phase?: string;
    /** Argo Rollout: when the controller last finished restarting for spec.restartAt. */
    restartedAt?: string;
  };
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

/** To SecretRotation: its consumers — found in the workload caches, restarted, followed. */
export interface Rollouts extends WorkloadRestarts {
  /** Workloads of a namespace, from the caches. */
  workloads(namespace: string): { ref: WorkloadRef; obj: Workload }[];
  /** Every workload cache knows all its objects (a workload missing from it does not exist). */
  cachesSynced(): boolean;
  /**
   * Where a workload stands with the data of `wanted` (macDigest per Secret). `writtenAt`: when
   * each entry's data was written, for digests made before an upgrade or a MAC key change.
   */
  rolloutState(
    ref: WorkloadRef,
    wanted: Digests,
    readyTimeoutMs: number,
    now: number,
    writtenAt?: Readonly<Record<string, number>>,
  ): RolloutState;
  /** Watches the workload caches: called with the namespace on every workload event (only enqueue). */
  onWorkloadEvent(listener: (namespace: string) => void): void;
  /**
   * TwoPhase: the rotation is about to retire the previous value of namespace/backend/path.
   * Secret changes from that path until `untilMs` retire a value: they restart nobody.
   */
  expectRetirement(path: { namespace: string; backend: string; path: string }, untilMs: number): void;
}

// --- Offered by the SecretRotation controller ---------------------------------------------------
// Only its informer cache, ObjectCache<SecretRotation> (built before reload, which reads a
// rotation's restart settings from it: shared/restart-policy.ts rotationRestartPolicy, and
// which rotation a VaultSecret follows: shared/source-refs.ts rotationFor).
export type SecretRotationCache = ObjectCache<SecretRotation>;
