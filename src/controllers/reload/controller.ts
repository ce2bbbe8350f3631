// The reload controller: restarts Deployments, StatefulSets, DaemonSets and (when their CRD is
// served) Argo Rollouts whose Secrets really changed, shared by VaultSecret (rolloutRestartTargets,
// workload annotations), VaultCertificate (rolloutRestartTargets) and SecretRotation (consumers).
// Keys are workloads ("ns/Kind/name").
//
// A change is recorded first as a pending restart in the operator's own namespace (the ConfigMap
// vaultsync-pending-restarts, one key per workload: pending-store.ts), never on the workload, then
// the restart happens when the policy allows: after the debounce window (several changes → one
// restart), after the minimum interval, inside a restart window, with at most N of a group
// rolling at once. The restart is the one write to the workload: it patches the pod template
// annotation vaultsync.io/secrets-hmac with the digests of the new data (and removes a
// vaultsync.io/pending-restart annotation an earlier release left, read as a pending record);
// the stored record is removed after it. The leader reads the records when it starts leading,
// so a pending restart survives an operator restart and a leader change. An Argo
// Rollout is restarted Argo's way instead: `spec.restartAt` set to now (the Argo controller
// evicts the pods older than that, at most maxUnavailable at a time, without a new revision,
// so without the canary steps, pauses or analysis of an update), the digests kept in the
// Rollout's own metadata. Rollouts are cached by an informer that exists only while their CRD is
// served (rollouts.ts: discovery at start and every minute); a restart owed to a Rollout while
// the CRD is not served asks discovery again, and is skipped with a warning if it still is not.
//
// Nothing here restarts on its own: only a recorded change does. The first sync of a Secret and
// an operator restart record nothing (VaultSecret signals only a change of data it had synced
// before), so they restart nothing.
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { FieldManager, type VaultSecret } from '../../apis/v1alpha1/index.ts';
import { KeyedBackoff } from '../../kube/backoff.ts';
import { type KubeClient, getObject, mergePatch } from '../../kube/client.ts';
import type { Clock } from '../../kube/clock.ts';
import {
  Controller,
  type ControllerOptions,
  type ReconcileContext,
  type ReconcileResult,
} from '../../kube/controller.ts';
import { isConflict, isNotFound, toKubeError } from '../../kube/errors.ts';
import { refusedWriteMessage } from '../vaultsecret/refused-write.ts';
import { Informer, type InformerHandlers } from '../../kube/informer.ts';
import type { Logger } from '../../kube/logger.ts';
import type { ControllerMetrics, WorkqueueMetrics } from '../../kube/metrics.ts';
import { builtinResources, keyFor } from '../../kube/resources.ts';
import { WorkQueue } from '../../kube/workqueue.ts';
import type { MacKeyring } from '../../secrets/mac-keyring.ts';
import {
  type Digests,
  PENDING_ANNOTATION,
  type PendingRestart,
  PODS_HMAC_ANNOTATION,
  type PendingAddition,
  RESTARTED_AT_ANNOTATION,
  RESTART_GROUP_ANNOTATION,
  TEMPLATE_HMAC_ANNOTATION,
  digestsApplied,
  digestsAppliedSince,
  formatDigests,
  macDigest,
  mergePending,
  parseDigests,
  parsePending,
  workloadDigests,
} from './annotations.ts';
import { type ReloadMetrics, noopReloadMetrics } from './metrics.ts';
import { combinePending } from './pending-records.ts';
import { PendingRestartStore } from './pending-store.ts';
import {
  DEFAULT_RESTART_POLICY,
  type RestartPolicy,
  decideRestart,
  workloadRestartPolicy,
} from './policy.ts';
import { RolloutCache, discoverRollouts } from './rollouts.ts';
import {
  type ReloadableKind,
  type RestartKind,
  WORKLOAD_KINDS,
  type Workload,
  type WorkloadRef,
  annotatedSecrets,
  apiVersionOf,
  appliedDigests,
  isPaused,
  isRestartKind,
  parseWorkloadKey,
  restartDigests,
  rolloutComplete,
  selectorQuery,
  slimWorkload,
  workloadKey,
  workloadRefName,
} from './workloads.ts';

export const FIELD_MANAGER = FieldManager.Reload;

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

export interface ReloadControllerOptions {
  kubeConfig: KubeConfig;
  /** The operator's namespace (`operator.namespace`): pending restarts are kept there. */
  namespace: string;
  /** Watch only these namespaces (`operator.watchNamespaces`); empty or left out: all. */
  namespaces?: readonly string[];
  client: KubeClient;
  events: EventSink;
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

interface Rolling {
  ref: WorkloadRef;
  group: string;
  at: number;
  /** The generation our patch produced: the cache is stale until it shows it. */
  generation: number;
  timeoutAt: number;
  reportedTimeout: boolean;
}

const MAX_REQUEUE_MS = 60 * 60_000;
/** A Rollout restarted while its informer has not synced (no events) is looked at this often. */
const ROLLOUT_POLL_MS = 5000;
/** A restart the apiserver refused is tried again after this (the user-error interval). */
const RESTART_REFUSED_RETRY_MS = 5 * 60_000;
/** Questions about Rollouts remembered (below); past this many the memory starts over. */
const MAX_ROLLOUT_QUESTIONS = 10_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** RFC 3339 to the second, as `kubectl argo rollouts restart` writes spec.restartAt. */
const isoSeconds = (ms: number) => iso(ms).replace(/\.\d{3}Z$/, 'Z');
const ROLLOUT_CRD_MISSING =
  'the Argo Rollouts CRD (rollouts.argoproj.io, argoproj.io/v1alpha1) is not installed';

export function createReloadController(opts: ReloadControllerOptions) {
  const { client, clock } = opts;
  const log = opts.logger.child({ controller: 'reload' });
  const metrics = opts.metrics ?? noopReloadMetrics;
  const basePolicy = opts.defaultPolicy ?? DEFAULT_RESTART_POLICY;
  let hooks: RotationHooks | undefined;

  const informers = Object.fromEntries(
    WORKLOAD_KINDS.map((kind) => [
      kind,
      new Informer<Workload>({
        resource: builtinResources[kind],
        kubeConfig: opts.kubeConfig,
        namespaces: opts.namespaces,
        clock,
        logger: opts.logger,
        name: `${kind.toLowerCase()}s`,
        transform: slimWorkload,
        resyncIntervalMs: opts.resyncIntervalMs,
      }),
    ]),
  ) as Record<ReloadableKind, Informer<Workload>>;
  // Argo Rollouts: an informer like the ones above, built only while discovery says the CRD is
  // served (rollouts.ts).
  const rollouts = new RolloutCache({
    discover: () => discoverRollouts(client.rest),
    createInformer: (resource) =>
      new Informer<Workload>({
        resource,
        kubeConfig: opts.kubeConfig,
        namespaces: opts.namespaces,
        clock,
        logger: opts.logger,
        name: 'rollouts',
        transform: slimWorkload,
        resyncIntervalMs: opts.resyncIntervalMs,
      }),
    handlers: handlersFor('Rollout'),
    clock,
    logger: opts.logger,
    ...(opts.rolloutDiscoveryIntervalMs !== undefined && { recheckMs: opts.rolloutDiscoveryIntervalMs }),
  });

  // Pending restarts that survive a restart or failover: in the operator's namespace.
  const store = new PendingRestartStore({
    client,
    namespace: opts.namespace,
    macKeys: opts.macKeys,
    logger: log,
    fieldManager: FIELD_MANAGER,
  });
  // Changes not yet stored (a reconcile stores them, or applies them at once by a restart).
  const unsaved = new Map<string, PendingAddition[]>();
  // Workloads this process restarted and watches until ready (or timed out).
  const rolling = new Map<string, Rolling>();
  // When a Rollout was first asked about (rolloutState: workload and wanted data) while its CRD
  // was not served: it is called not found only by a discovery request sent after that, so a
  // CRD installed just after the last periodic discovery does not lose a rotation its consumer.
  const rolloutQuestions = new Map<string, number>();
  // Last deferral reason per workload, so a deferral is reported once, not per recheck.
  const deferred = new Map<string, string>();
  // Workload key → the refusal last reported for its restart (one Warning per change).
  const refusedRestarts = new Map<string, string>();
  const workloadListeners: ((namespace: string) => void)[] = [];

  const cached = (ref: WorkloadRef): Workload | undefined =>
    ref.kind === 'Rollout'
      ? rollouts.get(keyFor(ref.namespace, ref.name))
      : informers[ref.kind].get(keyFor(ref.namespace, ref.name));
  /** Does the cache of this kind know every object (so a miss means there is none)? */
  const cacheSettled = (kind: RestartKind): boolean =>
    kind === 'Rollout' ? rollouts.settled() : informers[kind].hasSynced();
  const objectRef = (ref: WorkloadRef) => ({
    apiVersion: apiVersionOf(ref.kind),
    kind: ref.kind,
    namespace: ref.namespace,
    name: ref.name,
  });

  const controller = new ReloadWorkers(loadPending, {
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
    reconcile,
  });

  for (const kind of WORKLOAD_KINDS) informers[kind].addHandlers(handlersFor(kind));

  function handlersFor(kind: RestartKind): InformerHandlers<Workload> {
    const wake = (w: Workload) => {
      const ref: WorkloadRef = { kind, namespace: w.metadata?.namespace ?? '', name: w.metadata?.name ?? '' };
      const key = workloadKey(ref);
      const ann = w.metadata?.annotations ?? {};
      const mine = rolling.has(key);
      if (ann[PENDING_ANNOTATION] !== undefined || store.has(key) || mine || unsaved.has(key)) {
        controller.enqueue(key);
      }
      // A workload this process restarted progressed: restarts waiting for its group may go.
      // (Others waiting for a group look again every second anyway.)
      if (mine) {
        for (const other of allWorkloads(ref.namespace)) {
          const otherKey = workloadKey(other.ref);
          if (store.has(otherKey) || other.obj.metadata?.annotations?.[PENDING_ANNOTATION] !== undefined) {
            controller.enqueue(otherKey, { priority: 'low' });
          }
        }
      }
      for (const listener of workloadListeners) listener(ref.namespace);
    };
    return {
      add: wake,
      update: (_old, w) => wake(w),
      delete: (w) => {
        const key = workloadKey({
          kind,
          namespace: w.metadata?.namespace ?? '',
          name: w.metadata?.name ?? '',
        });
        rolling.delete(key);
        deferred.delete(key);
        controller.forgetKey(key);
        // A stored pending restart of a deleted workload: the next look removes the record.
        if (store.has(key)) controller.enqueue(key);
        for (const listener of workloadListeners) listener(w.metadata?.namespace ?? '');
      },
    };
  }

  function allWorkloads(namespace: string): { ref: WorkloadRef; obj: Workload }[] {
    const list = (kind: RestartKind, objs: Workload[]) =>
      objs.map((obj) => ({ ref: { kind, namespace, name: obj.metadata?.name ?? '' }, obj }));
    return [
      ...WORKLOAD_KINDS.flatMap((kind) => list(kind, informers[kind].list(namespace))),
      ...list('Rollout', rollouts.list(namespace).map(withPodTemplate)),
    ];
  }

  /**
   * A Rollout with `spec.workloadRef` takes its pod template from that Deployment: the Secrets
   * its pods use are the Deployment's (from the Deployment cache; none while it is not there).
   */
  function withPodTemplate(r: Workload): Workload {
    const name = workloadRefName(r);
    if (name === undefined) return r;
    const d = informers.Deployment.get(keyFor(r.metadata?.namespace, name));
    const template = { metadata: r.spec?.template?.metadata ?? {}, spec: d?.spec?.template?.spec };
    return { ...r, spec: { ...r.spec, template } };
  }

  function policyFor(w: Workload, rotation: string | undefined): RestartPolicy {
    const fromRotation =
      rotation !== undefined ? hooks?.policyFor(w.metadata?.namespace ?? '', rotation) : undefined;
    return fromRotation ?? workloadRestartPolicy(w.metadata?.annotations, basePolicy);
  }

  function isRolling(ref: WorkloadRef, w: Workload, now: number, policy: RestartPolicy): boolean {
    const mine = rolling.get(workloadKey(ref));
    if (mine) {
      if (now >= mine.timeoutAt) return false;
      return (w.metadata?.generation ?? 0) < mine.generation || !rolloutComplete(ref.kind, w);
    }
    const at = Date.parse(w.metadata?.annotations?.[RESTARTED_AT_ANNOTATION] ?? '');
    if (!Number.isFinite(at) || now >= at + policy.readyTimeoutMs) return false;
    return !rolloutComplete(ref.kind, w);
  }

  function rollingInGroup(
    namespace: string,
    group: string,
    except: string,
    now: number,
    policy: RestartPolicy,
  ) {
    let n = 0;
    const seen = new Set<string>();
    for (const { ref, obj } of allWorkloads(namespace)) {
      const key = workloadKey(ref);
      seen.add(key);
      if (key === except) continue;
      const g = rolling.get(key)?.group ?? obj.metadata?.annotations?.[RESTART_GROUP_ANNOTATION];
      if (g === group && isRolling(ref, obj, now, policy)) n++;
    }
    // Reserved by a restart whose object the cache does not show yet.
    for (const [key, r] of rolling) {
      if (
        !seen.has(key) &&
        key !== except &&
        r.ref.namespace === namespace &&
        r.group === group &&
        now < r.timeoutAt
      )
        n++;
    }
    return n;
  }

  /**
   * Reads the stored pending restarts and queues their workloads: called when this replica
   * starts leading (a restarted operator, a new leader). Tried again until the apiserver answers.
   */
  function loadPending(): void {
    let backoffMs = 1000;
    const attempt = (): void => {
      store.load().then(
        (refs) => {
          for (const ref of refs) controller.enqueue(workloadKey(ref));
          if (refs.length > 0) log.info('Read pending restarts', { workloads: refs.length });
        },
        (err: unknown) => {
          if (!controller.isRunning()) return;
          log.warn('Failed to read pending restarts; will retry', { error: String(err) });
          clock.after(backoffMs, attempt);
          backoffMs = Math.min(backoffMs * 2, 30_000);
        },
      );
    };
    attempt();
  }

  /** A pending restart: the stored record, and an annotation an earlier release left on the workload. */
  function storedPending(ref: WorkloadRef, w: Workload): PendingRestart | undefined {
    return combinePending(store.get(ref), parsePending(w.metadata?.annotations?.[PENDING_ANNOTATION]));
  }

  /** Is the Argo Rollout kind served (its CRD installed)? Asks discovery again when not known to be. */
  async function rolloutsServed(): Promise<boolean> {
    return rollouts.served() || (await rollouts.recheck());
  }

  /** A restart of a Rollout without its CRD: skipped, said in the log and on the requester. */
  async function skipRollout(ref: WorkloadRef, taken: PendingAddition[], ctx: ReconcileContext) {
    const message = `Skipped restart of Rollout ${ref.name}: ${ROLLOUT_CRD_MISSING}`;
    metrics.restart(ref.kind, 'skipped');
    ctx.log.warn(message, { reasons: taken.map((a) => a.reason) });
    // The requesters ("VaultSecret/db", "SecretRotation/x") get a Warning event naming it.
    for (const group of new Set(taken.map((a) => a.group))) {
      const [kind, name] = group.split('/');
      if (!kind || !name) continue;
      await opts.events.warning(
        { apiVersion: 'vaultsync.io/v1alpha1', kind, metadata: { name, namespace: ref.namespace } },
        'RestartSkipped',
        message,
      );
    }
  }

  /**
   * The apiserver refused the restart (4xx: an admission policy, a quota): a Warning event
   * `RestartFailed` on the workload and on the resource that asked (VaultSecret, VaultCertificate,
   * SecretRotation), once per change of message; the restart stays owed and is tried again after
   * the user-error interval, not in a backoff loop.
   */
  async function restartRefused(
    ref: WorkloadRef,
    obj: Workload,
    group: string,
    message: string,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const key = workloadKey(ref);
    ctx.log.warn(`Restart of ${ref.kind} refused`, { group, error: message });
    if (refusedRestarts.get(key) !== message) {
      refusedRestarts.set(key, message);
      await opts.events.warning(obj, 'RestartFailed', message);
      const [kind, name] = group.split('/');
      if (kind && name) {
        await opts.events.warning(
          { apiVersion: 'vaultsync.io/v1alpha1', kind, metadata: { name, namespace: ref.namespace } },
          'RestartFailed',
          message,
        );
      }
    }
    return { requeueAfter: RESTART_REFUSED_RETRY_MS };
  }

  async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const ref = parseWorkloadKey(key);
    if (!ref) return;
    // What is stored must be known before anything is decided or stored (read once per leadership).
    await store.load();
    // Changes not yet stored: stored now, or applied at once by a restart.
    const taken = (unsaved.get(key) ?? []).slice();
    let obj: Workload | undefined;
    if (ref.kind === 'Rollout') {
      if (!(await rolloutsServed())) {
        // Discovery never answered (apiserver trouble): not known to be absent, so try again.
        if (rollouts.discovery() === 'unknown') {
          throw new Error('cannot tell whether the Argo Rollouts CRD is served (API discovery failed)');
        }
        unsaved.delete(key);
        rolling.delete(key);
        if (taken.length > 0) await skipRollout(ref, taken, ctx);
        await store.remove(ref);
        return;
      }
      // From the cache once its informer has synced; read until then (the CRD was just found).
      obj = rollouts.hasSynced() ? cached(ref) : await getObject<Workload>(client, objectRef(ref));
    } else {
      obj = cached(ref);
    }
    if (taken.length > 0) {
      obj ??= await getObject<Workload>(client, objectRef(ref));
      if (!obj) {
        unsaved.delete(key);
        ctx.log.warn(`Skipped restart of ${ref.kind}: not found`, { reasons: taken.map((a) => a.reason) });
        await store.remove(ref);
        return;
      }
    }
    if (!obj) {
      rolling.delete(key);
      // The workload is gone (or not served here): its record goes too, once the cache can tell.
      if (cacheSettled(ref.kind)) await store.remove(ref);
      return;
    }
    const consumeTaken = () => {
      const left = (unsaved.get(key) ?? []).filter((a) => !taken.includes(a));
      if (left.length > 0) unsaved.set(key, left);
      else unsaved.delete(key);
    };
    const now = clock.now();
    const legacy = obj.metadata?.annotations?.[PENDING_ANNOTATION] !== undefined;
    const stored = storedPending(ref, obj);
    const pending = taken.length > 0 ? mergePending(stored, taken) : stored;
    if (!pending) return track(ref, obj, now);

    const policy = policyFor(obj, pending.rotation);
    const lastRestart = Date.parse(obj.metadata?.annotations?.[RESTARTED_AT_ANNOTATION] ?? '');
    const digests = workloadDigests(opts.macKeys, ref, pending.secrets);
    const decision = decideRestart({
      pending,
      policy,
      now,
      alreadyApplied: digestsApplied(appliedDigests(obj), digests),
      paused: (ref.kind === 'Deployment' || ref.kind === 'Rollout') && isPaused(obj),
      ...(Number.isFinite(lastRestart) && { lastRestartAt: lastRestart }),
      rollingInGroup: rollingInGroup(ref.namespace, pending.group, key, now, policy),
    });
    const why = pending.reasons.join('; ') || 'a Secret changed';

    if (decision.action === 'wait') {
      if (taken.length > 0) {
        // Stored in the operator's namespace, not on the workload: it survives an operator
        // restart and a failover, and the workload is written only by the restart.
        await store.save(ref, mergePending(store.get(ref), taken)!);
        consumeTaken();
        ctx.log.debug('Recorded pending restart', { reasons: taken.map((a) => a.reason) });
      }
      if (decision.reason === 'Window' && deferred.get(key) !== decision.message) {
        await opts.events.normal(
          obj,
          'RestartDeferred',
          `Deferred restart of ${ref.kind} ${ref.name}: ${decision.message}`,
        );
      }
      deferred.set(key, decision.message);
      ctx.log.debug('Restart waits', { why: decision.reason, afterMs: decision.afterMs });
      return { requeueAfter: Math.min(Math.max(decision.afterMs, 10), MAX_REQUEUE_MS) };
    }
    deferred.delete(key);

    if (decision.action === 'drop') {
      try {
        if (legacy) {
          // An earlier release's record on the workload: removed (one write, no rollout).
          await mergePatch(
            client,
            objectRef(ref),
            { metadata: { annotations: { [PENDING_ANNOTATION]: null } } },
            { resourceVersion: obj.metadata?.resourceVersion, fieldManager: FIELD_MANAGER },
          );
        }
        await store.remove(ref);
        consumeTaken();
      } catch (err) {
        if (isConflict(err)) return { requeueAfter: 50 };
        if (isNotFound(err)) return void unsaved.delete(key);
        throw err;
      }
      if (decision.reason === 'Paused') {
        metrics.restart(ref.kind, 'skipped');
        ctx.log.info(`Skipped restart of ${ref.kind}: paused`, { reasons: pending.reasons });
        await opts.events.warning(
          obj,
          'RestartSkipped',
          `Skipped restart of ${ref.kind} ${ref.name} (${why}): ${decision.message}`,
        );
      } else {
        ctx.log.debug('Dropped pending restart: already rolled out for this data');
      }
      return track(ref, obj, now);
    }

    // Restart. Reserve the slot before the write, so another worker counts it.
    const reservation: Rolling = {
      ref,
      group: pending.group,
      at: now,
      generation: (obj.metadata?.generation ?? 0) + 1,
      timeoutAt: now + policy.readyTimeoutMs,
      reportedTimeout: false,
    };
    if (policy.mode === 'Restart') rolling.set(key, reservation);
    try {
      const patched =
        policy.mode === 'AnnotatePods'
          ? await annotatePods(ref, obj, digests, pending.group, now)
          : ref.kind === 'Rollout'
            ? await restartRollout(ref, obj, digests, pending.group, now)
            : await mergePatch<Workload>(
                client,
                objectRef(ref),
                {
                  metadata: {
                    annotations: {
                      [PENDING_ANNOTATION]: null,
                      [RESTARTED_AT_ANNOTATION]: iso(now),
                      [RESTART_GROUP_ANNOTATION]: pending.group,
                    },
                  },
                  spec: {
                    template: {
                      metadata: {
                        annotations: {
                          [TEMPLATE_HMAC_ANNOTATION]: formatDigests({
                            ...parseDigests(
                              obj.spec?.template?.metadata?.annotations?.[TEMPLATE_HMAC_ANNOTATION],
                            ),
                            ...digests,
                          }),
                        },
                      },
                    },
                  },
                },
                { resourceVersion: obj.metadata?.resourceVersion, fieldManager: FIELD_MANAGER },
              );
      if (policy.mode === 'Restart')
        reservation.generation = patched.metadata?.generation ?? reservation.generation;
    } catch (err) {
      rolling.delete(key);
      if (isConflict(err)) return { requeueAfter: 50 };
      if (isNotFound(err)) return void unsaved.delete(key);
      metrics.restart(ref.kind, 'failed');
      const refused = toKubeError(err);
      if (refused.status >= 400 && refused.status < 500 && !refused.transient)
        return restartRefused(
          ref,
          obj,
          pending.group,
          refusedWriteMessage(`${ref.kind} ${ref.name}`, refused),
          ctx,
        );
      throw err;
    }
    refusedRestarts.delete(key);
    consumeTaken();
    // After the restart, not before: a crash in between leaves a record the next look drops
    // (the pods already have its data), never a lost restart.
    await store.remove(ref).catch((err: unknown) =>
      ctx.log.warn('Failed to remove a pending restart record; the next look removes it', {
        error: String(err),
      }),
    );
    metrics.restart(ref.kind, 'restarted');
    if (pending.first > 0) metrics.restartLatency((clock.now() - pending.first) / 1000);
    const verb = policy.mode === 'AnnotatePods' ? 'Annotated pods of' : 'Restarted';
    ctx.log.info(`${verb} ${ref.kind}`, { reasons: pending.reasons, group: pending.group });
    await opts.events.normal(
      obj,
      policy.mode === 'AnnotatePods' ? 'PodsAnnotated' : 'Restarted',
      `${verb} ${ref.kind} ${ref.name}: ${why}`,
    );
    if (policy.mode !== 'Restart') return undefined;
    return { requeueAfter: uncachedRollout(ref) ? ROLLOUT_POLL_MS : policy.readyTimeoutMs };
  }

  /** A Rollout the cache does not follow yet (no events come for it): polled instead. */
  function uncachedRollout(ref: WorkloadRef): boolean {
    return ref.kind === 'Rollout' && !rollouts.hasSynced();
  }

  /**
   * Argo's own restart (what `kubectl argo rollouts restart` and Argo CD's restart action do):
   * spec.restartAt, and the digests on the Rollout's metadata. Not a pod-template annotation:
   * that would be a new revision, a full canary / blue-green update through its steps, pauses
   * (a `pause: {}` step waits for a manual promotion), analysis and traffic shifting, for data
   * the pods merely need to re-read. restartAt is rounded up to the next second: Argo compares
   * it with pod creation times (whole seconds) and evicts the pods created before it, so a pod
   * started in the second of the change is restarted too; Argo waits for a restartAt in the
   * future (as with `restart --in`).
   */
  function restartRollout(ref: WorkloadRef, w: Workload, secrets: Digests, group: string, now: number) {
    return mergePatch<Workload>(
      client,
      objectRef(ref),
      {
        metadata: {
          annotations: {
            [PENDING_ANNOTATION]: null,
            [RESTARTED_AT_ANNOTATION]: iso(now),
            [RESTART_GROUP_ANNOTATION]: group,
            [TEMPLATE_HMAC_ANNOTATION]: formatDigests({
              ...parseDigests(w.metadata?.annotations?.[TEMPLATE_HMAC_ANNOTATION]),
              ...secrets,
            }),
          },
        },
        spec: { restartAt: isoSeconds(Math.ceil(now / 1000) * 1000) },
      },
      { resourceVersion: w.metadata?.resourceVersion, fieldManager: FIELD_MANAGER },
    );
  }

  /** AnnotatePods mode: the new digests on every running pod, nothing restarted. */
  async function annotatePods(ref: WorkloadRef, w: Workload, secrets: Digests, group: string, now: number) {
    const digests = formatDigests({
      ...parseDigests(w.metadata?.annotations?.[PODS_HMAC_ANNOTATION]),
      ...secrets,
    });
    const query = selectorQuery(w.spec?.selector);
    if (query) {
      const pods = await client.rest.request<{ items?: V1Pod[] }>({
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods`,
        query: { labelSelector: query },
      });
      for (const pod of pods.items ?? []) {
        if (pod.metadata?.deletionTimestamp || !pod.metadata?.name) continue;
        await mergePatch(
          client,
          { apiVersion: 'v1', kind: 'Pod', namespace: ref.namespace, name: pod.metadata.name },
          { metadata: { annotations: { [TEMPLATE_HMAC_ANNOTATION]: digests } } },
          { fieldManager: FIELD_MANAGER },
        ).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
      }
    }
    return mergePatch<Workload>(
      client,
      objectRef(ref),
      {
        metadata: {
          annotations: {
            [PENDING_ANNOTATION]: null,
            [RESTARTED_AT_ANNOTATION]: iso(now),
            [RESTART_GROUP_ANNOTATION]: group,
            [PODS_HMAC_ANNOTATION]: digests,
          },
        },
      },
      { resourceVersion: w.metadata?.resourceVersion, fieldManager: FIELD_MANAGER },
    );
  }

  /** Follows a workload this process restarted until it is ready or its time is up. */
  async function track(ref: WorkloadRef, w: Workload, now: number): Promise<ReconcileResult> {
    const key = workloadKey(ref);
    const r = rolling.get(key);
    if (!r) return;
    const caughtUp = (w.metadata?.generation ?? 0) >= r.generation;
    if (caughtUp && rolloutComplete(ref.kind, w)) {
      rolling.delete(key);
      metrics.rollout(ref.kind, 'ready');
      log.info(`Rolled out ${ref.kind}`, {
        namespace: ref.namespace,
        name: ref.name,
        seconds: (now - r.at) / 1000,
      });
      await opts.events.normal(w, 'RolledOut', `${ref.kind} ${ref.name} is ready with the new data`);
      return;
    }
    if (now >= r.timeoutAt) {
      rolling.delete(key);
      metrics.rollout(ref.kind, 'timeout');
      await opts.events.warning(
        w,
        'RolloutNotReady',
        `${ref.kind} ${ref.name} did not become ready within ${Math.round((r.timeoutAt - r.at) / 1000)}s of its restart`,
      );
      return;
    }
    const poll = uncachedRollout(ref) ? ROLLOUT_POLL_MS : MAX_REQUEUE_MS;
    return { requeueAfter: Math.min(r.timeoutAt - now, poll) };
  }

  /**
   * The data of a managed Secret really changed (not its first write, not a restored edit): its
   * explicit targets and the workloads that ask for it by annotation owe a restart. For any
   * controller that writes Secrets (VaultSecret, VaultCertificate). Never throws.
   */
  function secretDataChanged(change: ManagedSecretChange): void {
    try {
      const { namespace } = change;
      const targets = new Map<string, WorkloadRef>();
      for (const t of change.targets ?? []) {
        if (!isRestartKind(t.kind)) {
          log.warn(`Skipped restart of ${t.kind}: kind not supported`, { namespace, name: t.name });
          continue;
        }
        const ref = { kind: t.kind, namespace, name: t.name };
        targets.set(workloadKey(ref), ref);
      }
      for (const { ref, obj } of allWorkloads(namespace)) {
        if (annotatedSecrets(obj).has(change.secretName)) targets.set(workloadKey(ref), ref);
      }
      const addition: PendingAddition = {
        secrets: { [change.secretName]: macDigest(change.mac) },
        at: clock.now(),
        group: change.group,
        ...(change.rotation !== undefined && { rotation: change.rotation }),
        reason: change.reason ?? `Secret ${change.secretName} changed`,
      };
      for (const ref of targets.values()) add(ref, addition);
    } catch (err) {
      log.error('Failed to record a Secret change for restarts', { error: String(err) });
    }
  }

  function add(ref: WorkloadRef, addition: PendingAddition) {
    const key = workloadKey(ref);
    unsaved.set(key, [...(unsaved.get(key) ?? []), addition]);
    controller.enqueue(key);
  }

  return {
    controller,
    /**
     * Started and stopped by the operator, checked by /readyz. The Rollout cache is one of them:
     * it runs discovery, and its informer only while the CRD is served (else synced and healthy).
     */
    informers: [...WORKLOAD_KINDS.map((k) => informers[k]), rollouts],

    /** Every workload cache knows all its objects (a workload missing from it does not exist). */
    cachesSynced: (): boolean => WORKLOAD_KINDS.every(cacheSettled) && cacheSettled('Rollout'),

    setRotationHooks(h: RotationHooks) {
      hooks = h;
    },

    /** Told by the VaultSecret controller when a Secret's data really changed. Never throws. */
    secretChanged(vs: VaultSecret, change: SecretChange): void {
      try {
        const context = hooks?.contextFor(vs);
        if (context?.suppress) {
          log.debug('Restart not needed: a previous value was retired', {
            namespace: vs.metadata?.namespace,
            secret: change.secretName,
          });
          return;
        }
        secretDataChanged({
          namespace: vs.metadata?.namespace ?? '',
          secretName: change.secretName,
          mac: change.mac,
          targets: vs.spec.rolloutRestartTargets ?? [],
          group: context ? `SecretRotation/${context.rotation}` : `VaultSecret/${vs.metadata?.name ?? ''}`,
          ...(context && { rotation: context.rotation }),
        });
      } catch (err) {
        log.error('Failed to record a Secret change for restarts', { error: String(err) });
      }
    },

    secretDataChanged,

    /** Records a restart owed to workloads (a SecretRotation's consumers). Never throws. */
    requestRestart(req: RestartRequest): void {
      for (const w of req.workloads) {
        add(
          { kind: w.kind, namespace: req.namespace, name: w.name },
          {
            secrets: req.secrets,
            at: clock.now(),
            group: req.group,
            ...(req.rotation !== undefined && { rotation: req.rotation }),
            reason: req.reason,
          },
        );
      }
    },

    /** Workloads of a namespace, from the caches. */
    workloads: allWorkloads,

    get: (ref: WorkloadRef): Workload | undefined => cached(ref),

    /** Called (with the namespace) on every workload event; handlers only enqueue. */
    onWorkloadEvent(listener: (namespace: string) => void) {
      workloadListeners.push(listener);
    },

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
      if (ref.kind === 'Rollout' && rollouts.discovery() === 'absent') {
        const question = `${workloadKey(ref)} ${formatDigests(wanted)}`;
        let askedAt = rolloutQuestions.get(question);
        if (askedAt === undefined) {
          if (rolloutQuestions.size >= MAX_ROLLOUT_QUESTIONS) rolloutQuestions.clear();
          askedAt = clock.now();
          rolloutQuestions.set(question, askedAt);
        }
        if (!rollouts.answeredSince(askedAt)) {
          // Not served at the last answer, which may predate the CRD (the next periodic
          // discovery may be a minute away). Asked now; the caller asks again shortly.
          void rollouts.recheck();
          return { state: 'Unknown' };
        }
      }
      if (!cacheSettled(ref.kind)) return { state: 'Unknown' };
      const w = cached(ref);
      if (!w) return { state: 'NotFound' };
      const key = workloadKey(ref);
      const digests = workloadDigests(opts.macKeys, ref, wanted);
      const restartedAt = Date.parse(w.metadata?.annotations?.[RESTARTED_AT_ANNOTATION] ?? '');
      const runsWith = (applied: Digests) =>
        digestsAppliedSince(applied, digests, opts.macKeys.keyId, restartedAt, writtenAt);
      if (!runsWith(appliedDigests(w))) {
        const pending = storedPending(ref, w);
        const waiting =
          (pending && Object.keys(wanted).some((k) => pending.secrets[k] === wanted[k])) ||
          (unsaved.get(key) ?? []).some((a) => Object.keys(wanted).some((k) => a.secrets[k] === wanted[k]));
        return { state: waiting ? 'Pending' : 'NotRestarted' };
      }
      const mine = rolling.get(key);
      const at = mine?.at ?? Date.parse(w.metadata?.annotations?.[RESTARTED_AT_ANNOTATION] ?? '');
      const since = Number.isFinite(at) ? at : undefined;
      const caughtUp = !mine || (w.metadata?.generation ?? 0) >= mine.generation;
      const podsOnly =
        w.metadata?.annotations?.[PODS_HMAC_ANNOTATION] !== undefined && !runsWith(restartDigests(w));
      if (podsOnly || (caughtUp && rolloutComplete(ref.kind, w))) return { state: 'Ready' };
      if (since !== undefined && now >= since + readyTimeoutMs) return { state: 'TimedOut', since };
      return since === undefined ? { state: 'RollingOut' } : { state: 'RollingOut', since };
    },
  };
}

export type ReloadController = ReturnType<typeof createReloadController>;

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
