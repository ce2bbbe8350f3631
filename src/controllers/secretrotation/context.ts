// What every step of a SecretRotation reconcile works with: the controller's dependencies
// (RotationEnv) and the one rotation being reconciled (Run), with the small helpers they share.
import type { RefreshCause, SecretRotation, VaultSecret } from '../../apis/v1alpha1/index.ts';
import type { Backend } from '../../backends/types.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { Clock } from '../../kube/clock.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import type { RandomSource } from '../../secrets/generators.ts';
import { type MacKeyring, MacUse } from '../../secrets/mac-keyring.ts';
import type { FailureReporter } from '../failure/index.ts';
import type { ObjectCache, Rollouts } from '../contracts.ts';
import type { ControllerEvents } from '../lifecycle.ts';
import type { Consumer } from './consumers.ts';
import type { RotationMemory } from './memory.ts';
import type { RotationMetrics } from './metrics.ts';
import type { Stamp } from './status.ts';

/** How often a rotation in flight looks again (readers, consumers). */
export const POLL_MS = 2000;
/** A rotation whose rollout failed is still watched this often. */
export const WATCH_FAILED_MS = 30_000;
/** Re-ask a VaultSecret that has not synced the new version to refresh at most this often. */
export const REFRESH_AGAIN_MS = 10_000;
const MAX_REQUEUE_MS = 60 * 60_000;

/** Plain Events, and the lifecycle facts (Rotated, every failure) the webhooks receive typed. */
export type EventSink = Pick<ControllerEvents, 'normal' | 'fact'>;

export interface SecretRotationReconcilerDeps {
  client: KubeClient;
  rotations: Pick<ObjectCache<SecretRotation>, 'get'>;
  /** The VaultSecret controller's cache: the rotation's readers. */
  vaultSecrets: Pick<ObjectCache<VaultSecret>, 'list'>;
  backends: { get(name: string): Backend | undefined };
  /** The reload controller: the rotation's consumers. */
  reload: Pick<
    Rollouts,
    'requestRestart' | 'rolloutState' | 'workloads' | 'cachesSynced' | 'expectRetirement'
  >;
  /** Asks the VaultSecrets of a namespace reading backend/path (latest version) to read it now. */
  requestRefresh(namespace: string, backend: string, path: string, cause?: RefreshCause): string[];
  events: EventSink;
  /** Keys of the data digests (bound to the rotation's namespace and name). */
  macKeys: MacKeyring;
  clock: Clock;
  memory: RotationMemory;
  random?: RandomSource;
  metrics?: RotationMetrics;
  /** Retry delay for failures that need a user's fix (denied, bad generator): no hot retries. */
  userErrorRetryMs?: number;
  /** `operator.annotatePods`: whether restart.mode AnnotatePods is served (default false). */
  annotatePods?: boolean;
}

/** The dependencies with their defaults filled in. */
export interface RotationEnv extends SecretRotationReconcilerDeps {
  random: RandomSource;
  metrics: RotationMetrics;
  userErrorRetryMs: number;
  /** The shared failure path's routine: one Warning per change, the retry. */
  failures: FailureReporter;
}

/** One reconcile of one rotation. `sr` is a private copy: steps update sr.status as they write it. */
export interface Run {
  env: RotationEnv;
  sr: SecretRotation;
  /** namespace/name */
  key: string;
  ctx: ReconcileContext;
}

/** A run whose backend is known (every phase step). */
export interface BackendRun extends Run {
  backend: Backend;
}

export const namespaceOf = (sr: SecretRotation) => sr.metadata?.namespace ?? '';
export const nameOf = (sr: SecretRotation) => sr.metadata?.name ?? '';

/** Conditions of this run are stamped with the rotation's generation and the clock's time. */
export const stampOf = (run: Run): Stamp => ({
  generation: run.sr.metadata?.generation,
  now: run.env.clock.now(),
  historyLimit: run.sr.spec.historyLimit,
});

export const requeue = (ms: number): ReconcileResult => ({
  requeueAfter: Math.min(Math.max(ms, 10), MAX_REQUEUE_MS),
});

/** The MAC of data this rotation compares or stands for: bound to its namespace and name. */
export const rotationMac = (run: Run, data: ReadonlyMap<string, Buffer>) =>
  run.env.macKeys.mac(
    MacUse.SecretRotation,
    { namespace: namespaceOf(run.sr), kind: 'SecretRotation', name: nameOf(run.sr) },
    data,
  );

/** Asks the VaultSecrets reading the rotation's path to read it now (`cause`: what their history says). */
export function refreshReaders(run: Run, cause: RefreshCause = 'Rotation'): void {
  run.env.requestRefresh(namespaceOf(run.sr), run.sr.spec.backend, run.sr.spec.path, cause);
}

/** The MAC standing for a version no VaultSecret syncs (the workloads read the backend themselves). */
export const versionMac = (run: Run, version: string) =>
  rotationMac(run, new Map([[`${run.sr.spec.path}@${version}`, Buffer.from(version)]]));

/** Records a restart owed to one consumer (the reload controller carries it out). */
export function requestRestart(run: Run, c: Consumer, reason: string): void {
  run.env.reload.requestRestart({
    namespace: namespaceOf(run.sr),
    workloads: [{ kind: c.ref.kind, name: c.ref.name }],
    secrets: c.wanted,
    group: `SecretRotation/${nameOf(run.sr)}`,
    rotation: nameOf(run.sr),
    reason,
  });
}

/**
 * A Warning on the rotation: recorded as its Event and handed to the webhooks as a typed
 * RotationFailed fact (every Warning of a rotation is a failure of it).
 */
export function warnFailed(run: Run, reason: string, message: string): Promise<void> {
  const { sr } = run;
  return run.env.events.fact({
    type: 'RotationFailed',
    object: sr,
    reason,
    message,
    backend: sr.spec.backend,
    path: sr.spec.path,
  });
}
