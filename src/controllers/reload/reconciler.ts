// Reconciles one workload ("ns/Kind/name"): what is it owed (pending-records.ts), under which
// policy (policy.ts), and then one of: wait (store the change, say a deferral once), drop (the
// pods already have the data, or it is paused), restart (restart-write.ts), or follow a restart
// we made until it is ready (rolling.ts). Which workloads a change touches is decided before,
// when the change is recorded (targets.ts, index.ts).
import { OperatorAnnotation, WorkloadEventReason } from '../../apis/v1alpha1/index.ts';
import { type KubeClient, getObject, mergePatch } from '../../kube/client.ts';
import type { Clock } from '../../kube/clock.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import { isConflict, isNotFound } from '../../kube/errors.ts';
import type { Logger } from '../../kube/logger.ts';
import type { MacKeyring } from '../../secrets/mac-keyring.ts';
import {
  Failure,
  USER_ERROR_RETRY_MS,
  refusedWrite,
  refusedWriteMessage,
  retryOf,
  said,
  settle,
  warningDue,
} from '../failure/index.ts';
import {
  type PendingAddition,
  type PendingRestart,
  digestsApplied,
  mergePending,
  workloadDigests,
} from './annotations.ts';
import type { CachedWorkload } from './caches.ts';
import type { ReloadMetrics } from './metrics.ts';
import { owedRestart } from './pending-records.ts';
import type { PendingRestartStore } from './pending-store.ts';
import { type RestartDecision, decideRestart, effectivePolicy } from './policy.ts';
import type { RestartPolicy } from '../shared/restart-policy.ts';
import { legacyRecordRemoval, objectRef, writeRestart } from './restart-write.ts';
import { type Rolling, lastRestartAt, reservation, rollingInGroup, trackStep } from './rolling.ts';
import type { RolloutDiscovery } from './rollouts.ts';
import type { KubeEventRecorder } from '../lifecycle.ts';
import type { UnsavedChanges } from './unsaved.ts';
import type { RestartKind, Workload, WorkloadRef } from '../contracts.ts';
import { appliedDigests, isPaused, parseWorkloadKey } from './workloads.ts';
import { workloadKey } from '../shared/workloads.ts';

const MAX_REQUEUE_MS = 60 * 60_000;
/** A Rollout restarted while its informer has not synced (no events) is looked at this often. */
const ROLLOUT_POLL_MS = 5000;
/** A restart the apiserver refused is tried again after this (the user-error interval). */
export const RESTART_REFUSED_RETRY_MS = USER_ERROR_RETRY_MS;
const ROLLOUT_CRD_MISSING =
  'the Argo Rollouts CRD (rollouts.argoproj.io, argoproj.io/v1alpha1) is not installed';

/** What the reconciler reads of the workload caches (caches.ts). */
export interface WorkloadView {
  get(ref: WorkloadRef): Workload | undefined;
  settled(kind: RestartKind): boolean;
  list(namespace: string): CachedWorkload[];
  rolloutsServed(): Promise<boolean>;
  uncachedRollout(ref: WorkloadRef): boolean;
  rollouts: { discovery(): RolloutDiscovery; hasSynced(): boolean };
}

export interface ReloadReconcilerDeps {
  client: KubeClient;
  caches: WorkloadView;
  store: PendingRestartStore;
  unsaved: UnsavedChanges;
  /** Restarts this process made and follows (shared with the event handlers and rolloutState). */
  rolling: Map<string, Rolling>;
  events: KubeEventRecorder;
  macKeys: MacKeyring;
  clock: Clock;
  metrics: ReloadMetrics;
  log: Logger;
  fieldManager: string;
  basePolicy: RestartPolicy;
  /** A SecretRotation's restart settings, when it still exists. */
  rotationPolicy(namespace: string, rotation: string): RestartPolicy | undefined;
}

/** One look at a workload that is owed a restart. */
interface Step {
  ref: WorkloadRef;
  key: string;
  obj: Workload;
  /** The unsaved changes this look took (consumed once stored or applied). */
  taken: PendingAddition[];
  pending: PendingRestart;
  policy: RestartPolicy;
  now: number;
  ctx: ReconcileContext;
}

export class ReloadReconciler {
  readonly #deps: ReloadReconcilerDeps;
  /** Last deferral reason per workload, so a deferral is reported once, not per recheck. */
  readonly #deferred = new Map<string, string>();
  /** Workload key → what was said of its refused restart (one Warning per change: failure/). */
  readonly #refused = new Map<string, string>();

  constructor(deps: ReloadReconcilerDeps) {
    this.#deps = deps;
  }

  /** The workload is gone: its deferral is no longer reported. */
  forget(key: string): void {
    this.#deferred.delete(key);
  }

  readonly reconcile = async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const { store, unsaved, clock } = this.#deps;
    const ref = parseWorkloadKey(key);
    if (!ref) return;
    // What is stored must be known before anything is decided or stored (read once per leadership).
    await store.load();
    // Changes not yet stored: stored now, or applied at once by a restart.
    const taken = unsaved.take(key);
    const obj = await this.#find(ref, key, taken, ctx);
    if (!obj) return;
    const now = clock.now();
    const pending = owedRestart(
      store.get(ref),
      obj.metadata?.annotations?.[OperatorAnnotation.PendingRestart],
      taken,
    );
    if (!pending) return this.#track(ref, obj, now);
    const policy = this.#policyFor(obj, pending.rotation);
    const step: Step = { ref, key, obj, taken, pending, policy, now, ctx };
    const decision = decideRestart(this.#restartInput(step));
    if (decision.action === 'wait') return this.#wait(step, decision);
    this.#deferred.delete(key);
    if (decision.action === 'drop') return this.#drop(step, decision);
    return this.#restart(step);
  };

  /**
   * The workload, from the cache (read when the cache cannot have it yet). Undefined when there
   * is nothing to do: it is gone (its records go too), or it is a Rollout whose CRD is not
   * served (the restart is skipped and said).
   */
  async #find(
    ref: WorkloadRef,
    key: string,
    taken: PendingAddition[],
    ctx: ReconcileContext,
  ): Promise<Workload | undefined> {
    const { caches, client, store, unsaved, rolling } = this.#deps;
    let obj: Workload | undefined;
    if (ref.kind === 'Rollout') {
      if (!(await caches.rolloutsServed())) {
        // Discovery never answered (apiserver trouble): not known to be absent, so try again.
        if (caches.rollouts.discovery() === 'unknown') {
          throw new Error('cannot tell whether the Argo Rollouts CRD is served (API discovery failed)');
        }
        unsaved.drop(key);
        rolling.delete(key);
        if (taken.length > 0) await this.#skipRollout(ref, taken, ctx);
        await store.remove(ref);
        return undefined;
      }
      // From the cache once its informer has synced; read until then (the CRD was just found).
      obj = caches.rollouts.hasSynced() ? caches.get(ref) : await getObject<Workload>(client, objectRef(ref));
    } else {
      obj = caches.get(ref);
    }
    if (taken.length > 0) {
      obj ??= await getObject<Workload>(client, objectRef(ref));
      if (!obj) {
        unsaved.drop(key);
        ctx.log.warn(`Skipped restart of ${ref.kind}: not found`, { reasons: taken.map((a) => a.reason) });
        await store.remove(ref);
      }
      return obj;
    }
    if (!obj) {
      rolling.delete(key);
      // The workload is gone (or not served here): its record goes too, once the cache can tell.
      if (caches.settled(ref.kind)) await store.remove(ref);
    }
    return obj;
  }

  #policyFor(w: Workload, rotation: string | undefined): RestartPolicy {
    const fromRotation =
      rotation !== undefined ? this.#deps.rotationPolicy(w.metadata?.namespace ?? '', rotation) : undefined;
    return effectivePolicy(w.metadata?.annotations, fromRotation, this.#deps.basePolicy);
  }

  #restartInput({ ref, key, obj, pending, policy, now }: Step) {
    const { macKeys, caches, rolling } = this.#deps;
    const lastRestart = lastRestartAt(obj);
    return {
      pending,
      policy,
      now,
      alreadyApplied: digestsApplied(appliedDigests(obj), workloadDigests(macKeys, ref, pending.secrets)),
      paused: (ref.kind === 'Deployment' || ref.kind === 'Rollout') && isPaused(obj),
      ...(lastRestart !== undefined && { lastRestartAt: lastRestart }),
      rollingInGroup: rollingInGroup(caches.list(ref.namespace), rolling, {
        namespace: ref.namespace,
        group: pending.group,
        except: key,
        now,
        policy,
      }),
    };
  }

  /** Held back by the policy: the change is stored (it survives a restart of the operator). */
  async #wait(step: Step, decision: Extract<RestartDecision, { action: 'wait' }>): Promise<ReconcileResult> {
    const { ref, key, obj, taken, ctx } = step;
    const { store, unsaved, events } = this.#deps;
    if (taken.length > 0) {
      // Stored in the operator's namespace, not on the workload: it survives an operator
      // restart and a failover, and the workload is written only by the restart.
      await store.save(ref, mergePending(store.get(ref), taken)!);
      unsaved.consume(key, taken);
      ctx.log.debug('Recorded pending restart', { reasons: taken.map((a) => a.reason) });
    }
    if (decision.reason === 'Window' && this.#deferred.get(key) !== decision.message) {
      await events.normal(
        obj,
        WorkloadEventReason.RestartDeferred,
        `Deferred restart of ${ref.kind} ${ref.name}: ${decision.message}`,
      );
    }
    this.#deferred.set(key, decision.message);
    ctx.log.debug('Restart waits', { why: decision.reason, afterMs: decision.afterMs });
    return { requeueAfter: Math.min(Math.max(decision.afterMs, 10), MAX_REQUEUE_MS) };
  }

  /** Nothing to restart (the pods have the data) or nothing that would roll (paused): forgotten. */
  async #drop(step: Step, decision: Extract<RestartDecision, { action: 'drop' }>): Promise<ReconcileResult> {
    const { ref, key, obj, taken, pending, now, ctx } = step;
    const { client, store, unsaved, metrics, events, fieldManager } = this.#deps;
    try {
      if (obj.metadata?.annotations?.[OperatorAnnotation.PendingRestart] !== undefined) {
        // An earlier release's record on the workload: removed (one write, no rollout).
        await mergePatch(client, objectRef(ref), legacyRecordRemoval, {
          resourceVersion: obj.metadata?.resourceVersion,
          fieldManager,
        });
      }
      await store.remove(ref);
      unsaved.consume(key, taken);
    } catch (err) {
      if (isConflict(err)) return { requeueAfter: 50 };
      if (isNotFound(err)) return void unsaved.drop(key);
      throw err;
    }
    if (decision.reason === 'Paused') {
      metrics.restart(ref.kind, 'skipped');
      ctx.log.info(`Skipped restart of ${ref.kind}: paused`, { reasons: pending.reasons });
      await events.warning(
        obj,
        WorkloadEventReason.RestartSkipped,
        `Skipped restart of ${ref.kind} ${ref.name} (${whyOf(pending)}): ${decision.message}`,
      );
    } else {
      ctx.log.debug('Dropped pending restart: already rolled out for this data');
    }
    return this.#track(ref, obj, now);
  }

  /** The restart: one write to the workload, then its record removed, then followed. */
  async #restart(step: Step): Promise<ReconcileResult> {
    const { ref, key, obj, taken, pending, policy, now, ctx } = step;
    const { client, store, unsaved, rolling, metrics, macKeys, clock, caches } = this.#deps;
    // Reserve the slot before the write, so another worker counts it.
    const reserved = reservation(ref, obj, pending.group, now, policy);
    if (policy.mode === 'Restart') rolling.set(key, reserved);
    try {
      const patched = await writeRestart(client, {
        mode: policy.mode,
        ref,
        w: obj,
        digests: workloadDigests(macKeys, ref, pending.secrets),
        group: pending.group,
        now,
        fieldManager: this.#deps.fieldManager,
      });
      reserved.generation = patched.metadata?.generation ?? reserved.generation;
    } catch (err) {
      rolling.delete(key);
      if (isConflict(err)) return { requeueAfter: 50 };
      if (isNotFound(err)) return void unsaved.drop(key);
      metrics.restart(ref.kind, 'failed');
      const refused = refusedWrite(err);
      if (refused) return this.#refusedRestart(step, refusedWriteMessage(`${ref.kind} ${ref.name}`, refused));
      throw err;
    }
    this.#refused.delete(key);
    unsaved.consume(key, taken);
    // After the restart, not before: a crash in between leaves a record the next look drops
    // (the pods already have its data), never a lost restart.
    await store.remove(ref).catch((err: unknown) =>
      ctx.log.warn('Failed to remove a pending restart record; the next look removes it', {
        error: String(err),
      }),
    );
    metrics.restart(ref.kind, 'restarted');
    if (pending.first > 0) metrics.restartLatency((clock.now() - pending.first) / 1000);
    await this.#reportRestart(step);
    if (policy.mode !== 'Restart') return undefined;
    return { requeueAfter: caches.uncachedRollout(ref) ? ROLLOUT_POLL_MS : policy.readyTimeoutMs };
  }

  async #reportRestart({ ref, obj, pending, policy, ctx }: Step): Promise<void> {
    const pods = policy.mode === 'AnnotatePods';
    const verb = pods ? 'Annotated pods of' : 'Restarted';
    ctx.log.info(`${verb} ${ref.kind}`, { reasons: pending.reasons, group: pending.group });
    await this.#deps.events.normal(
      obj,
      pods ? WorkloadEventReason.PodsAnnotated : WorkloadEventReason.Restarted,
      `${verb} ${ref.kind} ${ref.name}: ${whyOf(pending)}`,
    );
  }

  /**
   * The apiserver refused the restart (4xx: an admission policy, a quota): a Warning event
   * `RestartFailed` on the workload and on the resource that asked (VaultSecret, VaultCertificate,
   * SecretRotation), once per change of message; the restart stays owed and is tried again after
   * the user-error interval, not in a backoff loop.
   */
  async #refusedRestart({ ref, key, obj, pending, ctx }: Step, message: string): Promise<ReconcileResult> {
    const { events } = this.#deps;
    ctx.log.warn(`Restart of ${ref.kind} refused`, { group: pending.group, error: message });
    const failure = new Failure(WorkloadEventReason.RestartFailed, message);
    // No status to show it: what this replica said last is the memory (one Warning per change).
    if (warningDue(undefined, this.#refused.get(key), failure)) {
      this.#refused.set(key, said(failure));
      await events.warning(obj, failure.reason, failure.message);
      const requester = requesterOf(pending.group, ref.namespace);
      if (requester) await events.warning(requester, failure.reason, failure.message);
    }
    return settle(failure, retryOf(failure, RESTART_REFUSED_RETRY_MS));
  }

  /** A restart of a Rollout without its CRD: skipped, said in the log and on the requesters. */
  async #skipRollout(ref: WorkloadRef, taken: PendingAddition[], ctx: ReconcileContext): Promise<void> {
    const message = `Skipped restart of Rollout ${ref.name}: ${ROLLOUT_CRD_MISSING}`;
    this.#deps.metrics.restart(ref.kind, 'skipped');
    ctx.log.warn(message, { reasons: taken.map((a) => a.reason) });
    // The requesters ("VaultSecret/db", "SecretRotation/x") get a Warning event naming it.
    for (const group of new Set(taken.map((a) => a.group))) {
      const requester = requesterOf(group, ref.namespace);
      if (requester) await this.#deps.events.warning(requester, WorkloadEventReason.RestartSkipped, message);
    }
  }

  /** Follows a workload this process restarted until it is ready or its time is up. */
  async #track(ref: WorkloadRef, w: Workload, now: number): Promise<ReconcileResult> {
    const { rolling, metrics, events, log, caches } = this.#deps;
    const key = workloadKey(ref);
    const r = rolling.get(key);
    if (!r) return;
    const step = trackStep(r, w, now, caches.uncachedRollout(ref) ? ROLLOUT_POLL_MS : MAX_REQUEUE_MS);
    if (step.outcome === 'waiting') return { requeueAfter: step.requeueAfter };
    rolling.delete(key);
    metrics.rollout(ref.kind, step.outcome);
    if (step.outcome === 'ready') {
      log.info(`Rolled out ${ref.kind}`, {
        namespace: ref.namespace,
        name: ref.name,
        seconds: (now - r.at) / 1000,
      });
      await events.normal(
        w,
        WorkloadEventReason.RolledOut,
        `${ref.kind} ${ref.name} is ready with the new data`,
      );
      return;
    }
    await events.warning(
      w,
      WorkloadEventReason.RolloutNotReady,
      `${ref.kind} ${ref.name} did not become ready within ${step.afterSeconds}s of its restart`,
    );
  }
}

/** Why a restart is owed, for events ("Secret db changed; Secret api changed"). */
const whyOf = (pending: PendingRestart): string => pending.reasons.join('; ') || 'a Secret changed';

/**
 * The resource that asked for a restart, from its group ("VaultSecret/db", "SecretRotation/x"),
 * as an event subject; undefined when the group names none ("unknown").
 */
function requesterOf(group: string, namespace: string) {
  const [kind, name] = group.split('/');
  if (!kind || !name) return undefined;
  return { apiVersion: 'vaultsync.io/v1alpha1', kind, metadata: { name, namespace } };
}
