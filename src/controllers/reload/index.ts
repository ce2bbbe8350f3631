// The reload controller: restarts Deployments, StatefulSets, DaemonSets and (when their CRD is
// served) Argo Rollouts whose Secrets really changed, shared by VaultSecret (rolloutRestartTargets,
// workload annotations), VaultCertificate (rolloutRestartTargets) and SecretRotation (consumers).
// Keys are workloads ("ns/Kind/name").
//
// A change is recorded first as a pending restart in the operator's own namespace (the ConfigMap
// vaultsync-pending-restarts, one key per workload: pending-store.ts), never on the workload, then
// the restart happens when the policy allows (policy.ts): after the debounce window (several
// changes → one restart), after the minimum interval, inside a restart window, with at most N of
// a group rolling at once. The restart is the one write to the workload (restart-write.ts); the
// stored record is removed after it. The leader reads the records when it starts leading, so a
// pending restart survives an operator restart and a leader change. Rollouts are cached by an
// informer that exists only while their CRD is served (rollouts.ts); a restart owed to a Rollout
// while the CRD is not served asks discovery again, and is skipped with a warning if it still is
// not.
//
// Nothing here restarts on its own: only a recorded change does. The first sync of a Secret and
// an operator restart record nothing (VaultSecret signals only a change of data it had synced
// before), so they restart nothing.
//
// This file wires the pieces: the caches (caches.ts), which events wake which workloads, what a
// change records (targets.ts), the reconciler (reconciler.ts) and what the other controllers
// may ask (rolloutState: rollout-state.ts).
import { OperatorAnnotation, FieldManager, type VaultSecret } from '../../apis/v1alpha1/index.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { KeyedBackoff } from '../../kube/backoff.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { Clock } from '../../kube/clock.ts';
import { Controller, type ControllerOptions } from '../../kube/controller.ts';
import type { InformerHandlers } from '../../kube/informer-handlers.ts';
import type { Logger } from '../../kube/logger.ts';
import type { ControllerMetrics, WorkqueueMetrics } from '../../kube/metrics.ts';
import { WorkQueue } from '../../kube/workqueue.ts';
import type { MacKeyring } from '../../secrets/mac-keyring.ts';
import type {
  Rollouts,
  SecretChanges,
  SecretRotationCache,
  WorkloadRestarts,
  RestartRequest,
  RolloutState,
  SecretChange,
  RestartKind,
  Workload,
  WorkloadRef,
} from '../contracts.ts';
import type { Digests } from '../shared/digests.ts';
import { type PendingAddition, formatDigests, parsePending, workloadDigests } from './annotations.ts';
import { WorkloadCaches } from './caches.ts';
import { type ReloadMetrics, noopReloadMetrics } from './metrics.ts';
import { combinePending } from './pending-records.ts';
import { PendingRestartStore } from './pending-store.ts';
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from '../shared/restart-policy.ts';
import { ReloadReconciler } from './reconciler.ts';
import { Retirements, rotationContext, rotationPolicy } from './rotation-context.ts';
import type { Rolling } from './rolling.ts';
import { RolloutQuestions, rolloutState } from './rollout-state.ts';
import { changeAddition, changeTargets, requestAdditions, vaultSecretChange } from './targets.ts';
import type { KubeEventRecorder } from '../lifecycle.ts';
import type { ManagedSecretChange, RotationContext } from './types.ts';
import { UnsavedChanges } from './unsaved.ts';
import { workloadKey } from '../shared/workloads.ts';

export type * from './types.ts';

export interface ReloadControllerOptions {
  kubeConfig: KubeConfig;
  /** The operator's namespace (`operator.namespace`): pending restarts are kept there. */
  namespace: string;
  /** Watch only these namespaces (`operator.watchNamespaces`); empty or left out: all. */
  namespaces?: readonly string[];
  client: KubeClient;
  /** Reload reports restarts as plain Events (no lifecycle facts). */
  events: KubeEventRecorder;
  /**
   * The SecretRotation cache (built before this controller): which rotation a Secret change
   * belongs to, and its restart settings.
   */
  rotations: SecretRotationCache;
  /** Keys of the digests written onto workloads (bound to each workload). */
  macKeys: MacKeyring;
  clock: Clock;
  logger: Logger;
  workers?: number;
  /** Debounce, minimum interval, concurrency and timeout of restarts not driven by a SecretRotation. */
  defaultPolicy?: RestartPolicy;
  metrics?: ReloadMetrics;
  queueMetrics?: WorkqueueMetrics;
  controllerMetrics?: ControllerMetrics;
  /** How often API discovery is asked whether the Argo Rollouts CRD is served; default 60 s. */
  rolloutDiscoveryIntervalMs?: number;
  /** `operator.resyncPeriod`: how often the workload informers replay their caches (0: never). */
  resyncIntervalMs?: number;
}

export function createReloadController(opts: ReloadControllerOptions): ReloadController {
  return new ReloadController(opts);
}

export class ReloadController implements Rollouts, SecretChanges, WorkloadRestarts {
  readonly controller: ReloadWorkers;
  readonly #opts: ReloadControllerOptions;
  readonly #log: Logger;
  readonly #caches: WorkloadCaches;
  readonly #store: PendingRestartStore;
  readonly #reconciler: ReloadReconciler;
  /** Changes not yet stored (a reconcile stores them, or applies them at once by a restart). */
  readonly #unsaved = new UnsavedChanges();
  /** Workloads this process restarted and watches until ready (or timed out). */
  readonly #rolling = new Map<string, Rolling>();
  readonly #questions = new RolloutQuestions();
  /** Rotated paths retiring a previous value (TwoPhase): their changes restart nobody. */
  readonly #retirements = new Retirements();
  readonly #workloadListeners: ((namespace: string) => void)[] = [];

  constructor(opts: ReloadControllerOptions) {
    this.#opts = opts;
    const { client, clock } = opts;
    this.#log = opts.logger.child({ controller: 'reload' });
    this.#caches = new WorkloadCaches({ ...opts, handlersFor: (kind) => this.#handlersFor(kind) });
    // Pending restarts that survive a restart or failover: in the operator's namespace.
    this.#store = new PendingRestartStore({
      client,
      namespace: opts.namespace,
      macKeys: opts.macKeys,
      logger: this.#log,
      fieldManager: FieldManager.Reload,
    });
    this.#reconciler = new ReloadReconciler({
      client,
      caches: this.#caches,
      store: this.#store,
      unsaved: this.#unsaved,
      rolling: this.#rolling,
      events: opts.events,
      macKeys: opts.macKeys,
      clock,
      metrics: opts.metrics ?? noopReloadMetrics,
      log: this.#log,
      fieldManager: FieldManager.Reload,
      basePolicy: opts.defaultPolicy ?? DEFAULT_RESTART_POLICY,
      rotationPolicy: (namespace, rotation) => this.#rotationPolicy(namespace, rotation),
    });
    this.controller = new ReloadWorkers(() => this.#loadPending(), {
      name: 'reload',
      workers: opts.workers ?? 2,
      clock,
      logger: opts.logger,
      metrics: opts.controllerMetrics,
      queue: new WorkQueue({
        clock,
        metrics: opts.queueMetrics,
        rateLimiter: new KeyedBackoff({ baseMs: 1000, capMs: 30_000 }),
      }),
      reconcile: this.#reconciler.reconcile,
    });
  }

  /** The workload caches: started and stopped by the operator, checked by /readyz. */
  get informers() {
    return this.#caches.informers;
  }

  /** Every workload cache knows all its objects (a workload missing from it does not exist). */
  cachesSynced(): boolean {
    return this.#caches.allSettled();
  }

  /**
   * TwoPhase: a rotation is about to retire the previous value of namespace/backend/path.
   * Secret changes from that path until `untilMs` retire a value: they restart nobody.
   */
  expectRetirement(path: { namespace: string; backend: string; path: string }, untilMs: number): void {
    this.#retirements.expect(path, untilMs);
  }

  #rotationContext(vs: VaultSecret): RotationContext | undefined {
    const rotations = this.#opts.rotations.list(vs.metadata?.namespace);
    return rotationContext(vs, rotations, this.#retirements, this.#opts.clock.now());
  }

  #rotationPolicy(namespace: string, rotation: string): RestartPolicy | undefined {
    return rotationPolicy(this.#opts.rotations, namespace, rotation);
  }

  /** Told by the VaultSecret controller when a Secret's data really changed. Never throws. */
  secretChanged(vs: VaultSecret, change: SecretChange): void {
    try {
      const managed = vaultSecretChange(vs, change, this.#rotationContext(vs));
      if (!managed) {
        this.#log.debug('Restart not needed: a previous value was retired', {
          namespace: vs.metadata?.namespace,
          secret: change.secretName,
        });
        return;
      }
      this.#secretDataChanged(managed);
    } catch (err) {
      this.#log.error('Failed to record a Secret change for restarts', { error: String(err) });
    }
  }

  /**
   * The data of a managed Secret really changed (not its first write, not a restored edit): its
   * explicit targets and the workloads that ask for it by annotation owe a restart. Never throws.
   */
  #secretDataChanged(change: ManagedSecretChange): void {
    try {
      const { targets, unsupported } = changeTargets(change, this.#caches.list(change.namespace));
      for (const t of unsupported) {
        this.#log.warn(`Skipped restart of ${t.kind}: kind not supported`, {
          namespace: change.namespace,
          name: t.name,
        });
      }
      const addition = changeAddition(change, this.#opts.clock.now());
      for (const ref of targets) this.#add(ref, { ...addition });
    } catch (err) {
      this.#log.error('Failed to record a Secret change for restarts', { error: String(err) });
    }
  }

  /** Records a restart owed to workloads (a SecretRotation's consumers). Never throws. */
  requestRestart(req: RestartRequest): void {
    for (const { ref, addition } of requestAdditions(req, this.#opts.clock.now())) this.#add(ref, addition);
  }

  /** Workloads of a namespace, from the caches. */
  workloads(namespace: string): { ref: WorkloadRef; obj: Workload }[] {
    return this.#caches.list(namespace);
  }

  get(ref: WorkloadRef): Workload | undefined {
    return this.#caches.get(ref);
  }

  /** Called (with the namespace) on every workload event; handlers only enqueue. */
  onWorkloadEvent(listener: (namespace: string) => void): void {
    this.#workloadListeners.push(listener);
  }

  /**
   * Where a workload stands with the data of `wanted` (tokens, `macDigest`). `writtenAt`: when
   * each entry's data was written, for digests made before an upgrade or a MAC key change.
   */
  rolloutState(
    ref: WorkloadRef,
    wanted: Digests,
    readyTimeoutMs: number,
    now: number,
    writtenAt?: Readonly<Record<string, number>>,
  ): RolloutState {
    if (!this.#rolloutKnown(ref, wanted) || !this.#caches.settled(ref.kind)) return { state: 'Unknown' };
    const w = this.#caches.get(ref);
    if (!w) return { state: 'NotFound' };
    const key = workloadKey(ref);
    return rolloutState({
      ref,
      w,
      wanted,
      digests: workloadDigests(this.#opts.macKeys, ref, wanted),
      keyId: this.#opts.macKeys.keyId,
      ...(writtenAt && { writtenAt }),
      ...this.#storedPending(ref, w),
      unsavedWaits: this.#unsaved.waitsFor(key, wanted),
      ...(this.#rolling.has(key) && { mine: this.#rolling.get(key)! }),
      now,
      readyTimeoutMs,
    });
  }

  /**
   * Can a Rollout be called not found? Not while its CRD was not served at the last answer, if
   * that answer may predate the CRD (the next periodic discovery may be a minute away): then
   * discovery is asked now, and the caller asks again shortly.
   */
  #rolloutKnown(ref: WorkloadRef, wanted: Digests): boolean {
    const rollouts = this.#caches.rollouts;
    if (ref.kind !== 'Rollout' || rollouts.discovery() !== 'absent') return true;
    const askedAt = this.#questions.askedAt(
      `${workloadKey(ref)} ${formatDigests(wanted)}`,
      this.#opts.clock.now(),
    );
    if (rollouts.answeredSince(askedAt)) return true;
    void rollouts.recheck();
    return false;
  }

  /** A pending restart: the stored record, and an annotation an earlier release left on the workload. */
  #storedPending(ref: WorkloadRef, w: Workload) {
    const pending = combinePending(
      this.#store.get(ref),
      parsePending(w.metadata?.annotations?.[OperatorAnnotation.PendingRestart]),
    );
    return pending ? { pending } : {};
  }

  #add(ref: WorkloadRef, addition: PendingAddition): void {
    const key = workloadKey(ref);
    this.#unsaved.add(key, addition);
    this.controller.enqueue(key);
  }

  /** Is a restart owed to, or followed for, this workload (so an event of it is worth a look)? */
  #watched(key: string, w: Workload): boolean {
    return (
      w.metadata?.annotations?.[OperatorAnnotation.PendingRestart] !== undefined ||
      this.#store.has(key) ||
      this.#rolling.has(key) ||
      this.#unsaved.has(key)
    );
  }

  #handlersFor(kind: RestartKind): InformerHandlers<Workload> {
    const refOf = (w: Workload): WorkloadRef => ({
      kind,
      namespace: w.metadata?.namespace ?? '',
      name: w.metadata?.name ?? '',
    });
    const wake = (w: Workload) => {
      const ref = refOf(w);
      const key = workloadKey(ref);
      const mine = this.#rolling.has(key);
      if (this.#watched(key, w)) this.controller.enqueue(key);
      // A workload this process restarted progressed: restarts waiting for its group may go.
      // (Others waiting for a group look again every second anyway.)
      if (mine) this.#wakeWaiting(ref.namespace);
      for (const listener of this.#workloadListeners) listener(ref.namespace);
    };
    return {
      add: wake,
      update: (_old, w) => wake(w),
      delete: (w) => {
        const key = workloadKey(refOf(w));
        this.#rolling.delete(key);
        this.#reconciler.forget(key);
        this.controller.forgetKey(key);
        // A stored pending restart of a deleted workload: the next look removes the record.
        if (this.#store.has(key)) this.controller.enqueue(key);
        for (const listener of this.#workloadListeners) listener(w.metadata?.namespace ?? '');
      },
    };
  }

  /** Queues (low priority) the workloads of a namespace that wait for a restart. */
  #wakeWaiting(namespace: string): void {
    for (const other of this.#caches.list(namespace)) {
      const otherKey = workloadKey(other.ref);
      if (
        this.#store.has(otherKey) ||
        other.obj.metadata?.annotations?.[OperatorAnnotation.PendingRestart] !== undefined
      ) {
        this.controller.enqueue(otherKey, { priority: 'low' });
      }
    }
  }

  /**
   * Reads the stored pending restarts and queues their workloads: called when this replica
   * starts leading (a restarted operator, a new leader). Tried again until the apiserver answers.
   */
  #loadPending(): void {
    let backoffMs = 1000;
    const attempt = (): void => {
      this.#store.load().then(
        (refs) => {
          for (const ref of refs) this.controller.enqueue(workloadKey(ref));
          if (refs.length > 0) this.#log.info('Read pending restarts', { workloads: refs.length });
        },
        (err: unknown) => {
          if (!this.controller.isRunning()) return;
          this.#log.warn('Failed to read pending restarts; will retry', { error: String(err) });
          this.#opts.clock.after(backoffMs, attempt);
          backoffMs = Math.min(backoffMs * 2, 30_000);
        },
      );
    };
    attempt();
  }
}

/**
 * The reload controller's workers. They start when this replica starts leading: then the stored
 * pending restarts are read and their workloads queued (`onStart`).
 */
class ReloadWorkers extends Controller {
  readonly #onStart: () => void;

  constructor(onStart: () => void, opts: ControllerOptions) {
    super(opts);
    this.#onStart = onStart;
  }

  override start(...args: Parameters<Controller['start']>): void {
    super.start(...args);
    this.#onStart();
  }
}
