// Reconciles one SecretRotation through its phases:
//
//   Idle ──due──▶ Rotating ──write──▶ RollingOut ──consumers ready──▶ Retiring ──retention──▶ Idle
//                                        │ (TwoPhase only: Retiring)        (Replace: ▶ Idle)
//                                        └─ not ready in time ──▶ Failed (previous value kept;
//                                           still watched: ready later ▶ Retiring / Idle)
//
// Rotating: the status names the version the write must replace (previousVersion) before the
// backend is written, with check-and-set on that version. After a crash the next reconcile reads
// the backend: still that version → write; a newer one → the write happened, adopt it. So a
// rotation is written at most once, and its values never live only in memory.
// RollingOut: the VaultSecrets reading the path are asked to refresh at once; when each has
// synced the new version, the consumers get a restart (reload controller) with the rotation's
// restart settings; the rotation waits until each runs the new data and is ready.
// Retiring (TwoPhase): previousValueRetention after the rollout, the `_previous` keys are removed
// by one more write; the reload controller is told that this change needs no restart.
// RolledBack (TwoPhase, rollbackOnFailure): the previous value written back with check-and-set.
// After a crash between that write and its status write, the next reconcile finds the latest
// version equal (keyed HMAC) to what the rollback writes and finishes as RolledBack, writing
// nothing again.
import type {
  SecretRotation,
  SecretRotationSpec,
  SecretRotationStatus,
  VaultSecret,
} from '../../apis/v1alpha1/index.ts';
import {
  API_VERSION,
  FieldManager,
  SECRET_ROTATION_DEFAULTS,
  parseDuration,
  pendingToken,
  tokenDigest,
} from '../../apis/v1alpha1/index.ts';
import { BackendError } from '../../backends/errors.ts';
import type { Backend, RemoteSecret } from '../../backends/types.ts';
import { type KubeClient, patchStatus } from '../../kube/client.ts';
import type { Clock } from '../../kube/clock.ts';
import { type Condition, formatTime, getCondition, setCondition } from '../../kube/conditions.ts';
import { RetryAfterError, type ReconcileContext, type ReconcileResult } from '../../kube/controller.ts';
import { toKubeError } from '../../kube/errors.ts';
import { keyFor } from '../../kube/resources.ts';
import {
  type GeneratorDefaults,
  GeneratorError,
  type RandomSource,
  cryptoRandom,
  generateValues,
} from '../../secrets/generators.ts';
import { macEqual } from '../../secrets/hmac.ts';
import { type MacKeyring, MacUse } from '../../secrets/mac-keyring.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import { type Digests, macDigest } from '../reload/annotations.ts';
import type { ReloadController, RolloutState } from '../reload/controller.ts';
import { rotationRestartPolicy } from '../reload/policy.ts';
import {
  type WorkloadRef,
  annotatedSecrets,
  isRestartKind,
  referencedSecrets,
  selectorMatches,
  workloadKey,
} from '../reload/workloads.ts';
import { sourceRefs } from '../vaultsecret/desired-data.ts';
import { targetName } from '../vaultsecret/target-secret.ts';
import {
  generatedKeys,
  hasPreviousValues,
  missingValues,
  previousKey,
  retiredData,
  rolledBackData,
  rotatedData,
  versionAtLeast,
} from './data.ts';
import { type RotationMetrics, noopRotationMetrics } from './metrics.ts';
import { disabledRestartMode } from './features.ts';
import { KEEPS_PHASE, Reason, reasonForBackendError } from './reasons.ts';
import { nextRotationAfter, rotationDue, scheduleError } from './schedule.ts';
import { invalidSpecMessage } from '../invalid-spec.ts';
import { refusedWriteMessage } from '../vaultsecret/refused-write.ts';
import { isNotLeader } from '../../kube/fence.ts';

export const ROTATE_NOW_ANNOTATION = 'vaultsync.io/rotate-now';
export const FIELD_MANAGER = FieldManager.SecretRotation;
const MAX_HISTORY = 10;
const MAX_REQUEUE_MS = 60 * 60_000;
const POLL_MS = 2000;
/** Re-ask a VaultSecret that has not synced the new version to refresh at most this often. */
const REFRESH_AGAIN_MS = 10_000;
/** How long a retirement write's Secret changes are kept from restarting consumers. */
const RETIRE_SUPPRESS_MS = 5 * 60_000;

export interface EventSink {
  normal(obj: SecretRotation, reason: string, message: string): Promise<void>;
  warning(obj: SecretRotation, reason: string, message: string): Promise<void>;
}

/** In-process memory of the controller (none of it is needed for correctness after a restart). */
export class RotationMemory {
  /** Rotation key → version → workloads already asked to restart for it. */
  readonly requested = new Map<string, { version: string; keys: Set<string> }>();
  /** Rotation key → when its readers were last asked to refresh. */
  readonly refreshedAt = new Map<string, number>();
  /** "ns/backend/path" → until when Secret changes from it are a retirement (no restart). */
  readonly retiring = new Map<string, number>();
  /** Rotation key → when a rotation last failed for a user's reason (no retry before the delay). */
  readonly failedAt = new Map<string, number>();
  /** Rotation key → newer reader version already checked for a rollback written before a restart. */
  readonly rollbackChecked = new Map<string, string>();
  /**
   * Rotation key → a failure that needs a person (invalid spec, a refused status write): no
   * retry before the user-error delay unless the spec or the rotate-now token changes.
   */
  readonly held = new Map<
    string,
    { at: number; generation: number | undefined; token: string | undefined }
  >();
  /** Rotation key → the Warning last emitted while the status could not record it. */
  readonly warned = new Map<string, string>();

  forget(key: string): void {
    this.requested.delete(key);
    this.refreshedAt.delete(key);
    this.failedAt.delete(key);
    this.rollbackChecked.delete(key);
    this.held.delete(key);
    this.warned.delete(key);
  }
}

export const pathKey = (namespace: string, backend: string, path: string) =>
  `${namespace}/${backend}/${path}`;

export interface SecretRotationReconcilerDeps {
  client: KubeClient;
  rotations: { get(key: string): SecretRotation | undefined };
  vaultSecrets: { list(namespace?: string): VaultSecret[] };
  backends: { get(name: string): Backend | undefined };
  reload: Pick<ReloadController, 'requestRestart' | 'rolloutState' | 'workloads' | 'cachesSynced'>;
  /** Asks the VaultSecrets of a namespace reading backend/path (latest version) to read it now. */
  requestRefresh(namespace: string, backend: string, path: string): string[];
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

class RotationFailure extends Error {
  readonly reason: Reason;
  readonly transient: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(reason: Reason, message: string, transient: boolean, retryAfterMs?: number) {
    super(message);
    this.reason = reason;
    this.transient = transient;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The status patch was refused (a 4xx): the failure cannot be recorded the usual way. */
class StatusRefused extends RotationFailure {}

/** A 4xx other than throttling or a conflict: the request must change before it can succeed. */
function refusal(err: unknown) {
  if (err instanceof RotationFailure || err instanceof BackendError || err instanceof GeneratorError)
    return undefined;
  const e = toKubeError(err);
  return e.status >= 400 && e.status < 500 && !e.transient ? e : undefined;
}

/** Reasons a VaultSecret gives when it cannot write its Secret: a rotation cannot roll out through it. */
const READER_STUCK: ReadonlySet<string> = new Set([
  'SecretWriteFailed',
  'SecretTooLarge',
  'InvalidKey',
  'InvalidSpec',
  'UnsafeShrink',
]);

/** Why a VaultSecret reading the path cannot sync at all (it needs a person), if it says so. */
export function readerStuck(vs: VaultSecret): string | undefined {
  const ready = vs.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'False' || !READER_STUCK.has(ready.reason)) return undefined;
  if (vs.status?.observedGeneration !== vs.metadata?.generation) return undefined;
  return `${ready.reason}: ${ready.message}`;
}

const D = SECRET_ROTATION_DEFAULTS;
const GENERATOR_DEFAULTS: GeneratorDefaults = {
  password: { ...D.password },
  randomBytes: { ...D.randomBytes },
  keyPair: { algorithm: D.keyPair.algorithm },
};

export const strategyOf = (spec: SecretRotationSpec) => spec.strategy ?? D.strategy;

/** VaultSecrets of the rotation's namespace that read its backend path at its latest version. */
export function readersOf(sr: SecretRotation, vaultSecrets: readonly VaultSecret[]): VaultSecret[] {
  return vaultSecrets.filter(
    (vs) =>
      vs.spec.backend === sr.spec.backend &&
      sourceRefs(vs.spec).some((r) => r.path === sr.spec.path && r.version === undefined),
  );
}

/** The entry that stands for a rotation's data when no VaultSecret syncs its path. */
const pseudoSecret = (sr: SecretRotation) => `SecretRotation.${sr.metadata?.name ?? ''}`;

/** Has the VaultSecret synced at least `version` of `path` into its Secret? */
export function readerSynced(vs: VaultSecret, path: string, version: string): boolean {
  const ready = vs.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  return (
    !!ready &&
    vs.status?.observedGeneration === vs.metadata?.generation &&
    versionAtLeast(vs.status?.sourceVersions?.[path], version) &&
    vs.status?.secretMAC !== undefined
  );
}

export function createSecretRotationReconciler(deps: SecretRotationReconcilerDeps) {
  const userErrorRetryMs = deps.userErrorRetryMs ?? 5 * 60_000;
  const metrics = deps.metrics ?? noopRotationMetrics;
  const random = deps.random ?? cryptoRandom;
  const { clock, memory } = deps;

  const ctxOf = (sr: SecretRotation, signal: AbortSignal) => ({
    namespace: sr.metadata?.namespace ?? '',
    signal,
  });

  async function readLatest(
    sr: SecretRotation,
    backend: Backend,
    signal: AbortSignal,
  ): Promise<RemoteSecret | undefined> {
    try {
      return await backend.read({ path: sr.spec.path }, ctxOf(sr, signal));
    } catch (err) {
      if (err instanceof BackendError && err.code === 'NotFound') return undefined;
      throw err;
    }
  }

  async function writeStatus(sr: SecretRotation, status: SecretRotationStatus): Promise<void> {
    const patch = statusPatch(sr.status ?? {}, status);
    if (!patch) return;
    try {
      await patchStatus(deps.client, statusRef(sr), patch, { fieldManager: FIELD_MANAGER });
    } catch (err) {
      const refused = refusal(err);
      if (!refused) throw err;
      throw new StatusRefused(
        Reason.SecretWriteFailed,
        refusedWriteMessage(`the status of SecretRotation ${sr.metadata?.name ?? ''}`, refused),
        false,
      );
    }
    // Later steps of this reconcile build on what was written.
    sr.status = status;
  }

  const statusRef = (sr: SecretRotation) => ({
    apiVersion: API_VERSION,
    kind: 'SecretRotation',
    namespace: sr.metadata?.namespace ?? '',
    name: sr.metadata?.name ?? '',
  });

  /**
   * A status with a failure in it, written; when the apiserver refuses it, the conditions alone
   * are tried (the rest may be what it refuses; the stored phase and versions stay). True when
   * either was stored.
   */
  async function recordFailure(sr: SecretRotation, status: SecretRotationStatus): Promise<boolean> {
    try {
      await writeStatus(sr, status);
      return true;
    } catch (err) {
      if (!(err instanceof StatusRefused)) throw err;
    }
    try {
      const patch = statusPatch({ conditions: sr.status?.conditions }, { conditions: status.conditions });
      if (patch) await patchStatus(deps.client, statusRef(sr), patch, { fieldManager: FIELD_MANAGER });
      return true;
    } catch (err) {
      if (!refusal(err)) throw err;
      return false;
    }
  }

  function conditions(
    sr: SecretRotation,
    status: SecretRotationStatus,
    type: string,
    value: 'True' | 'False',
    reason: string,
    message: string,
  ): Condition[] {
    return setCondition(
      status.conditions as Condition[] | undefined,
      { type, status: value, reason, message, observedGeneration: sr.metadata?.generation },
      clock.now(),
    );
  }

  function withReady(
    sr: SecretRotation,
    status: SecretRotationStatus,
    value: 'True' | 'False',
    reason: string,
    message: string,
  ) {
    return { ...status, conditions: conditions(sr, status, 'Ready', value, reason, message) };
  }

  function toFailure(err: unknown): RotationFailure {
    if (err instanceof RotationFailure) return err;
    if (err instanceof BackendError) {
      if (err.code === 'InvalidRequest' && /check-and-set/i.test(err.message)) {
        return new RotationFailure(Reason.ConcurrentWrite, err.message, true);
      }
      return new RotationFailure(
        reasonForBackendError(err.code),
        err.message,
        err.transient,
        err.retryAfterMs,
      );
    }
    if (err instanceof GeneratorError) return new RotationFailure(Reason.GeneratorFailed, err.message, false);
    const refused = refusal(err);
    if (refused)
      return new RotationFailure(Reason.SecretWriteFailed, refusedWriteMessage('an object', refused), false);
    // Transient trouble with the apiserver is retried by the controller with backoff.
    if (toKubeError(err).transient) throw err;
    const name = err instanceof Error ? err.name : typeof err;
    return new RotationFailure(
      Reason.InternalError,
      `unexpected ${name} while reconciling; see the operator log`,
      false,
    );
  }

  async function fail(
    sr: SecretRotation,
    failure: RotationFailure,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const key = keyFor(sr.metadata?.namespace, sr.metadata?.name ?? '');
    const status = sr.status ?? {};
    const previous = getCondition(status.conditions as Condition[] | undefined, 'Ready');
    // A write that keeps failing for a user's reason is a failed rotation; a transient one is
    // still in progress, and so is one whose own status (or spec) is refused: its phase and the
    // version it wrote stay, so the retry adopts that version instead of writing another.
    const phase =
      !failure.transient && !KEEPS_PHASE.has(failure.reason) && status.phase === 'Rotating'
        ? 'Failed'
        : status.phase;
    if (phase === 'Failed' && status.phase === 'Rotating') metrics.rotation('Failed');
    if (failure.reason === Reason.InternalError) ctx.log.error('Reconcile failed unexpectedly', {});
    const stored = await recordFailure(sr, {
      ...withReady(sr, status, 'False', failure.reason, failure.message),
      observedGeneration: sr.metadata?.generation,
      ...(phase !== undefined && { phase }),
    });
    // One Warning per change: judged by the stored Ready condition and, while the status cannot
    // be written, by what this replica said last.
    const said = `${failure.reason}\n${failure.message}`;
    const same =
      (previous?.status === 'False' &&
        previous.reason === failure.reason &&
        previous.message === failure.message) ||
      memory.warned.get(key) === said;
    if (!same) await deps.events.warning(sr, failure.reason, failure.message);
    if (stored) memory.warned.delete(key);
    else memory.warned.set(key, said);
    if (failure.retryAfterMs !== undefined) throw new RetryAfterError(failure.message, failure.retryAfterMs);
    if (failure.transient) throw failure;
    memory.failedAt.set(key, clock.now());
    if (KEEPS_PHASE.has(failure.reason)) {
      memory.held.set(key, { at: clock.now(), generation: sr.metadata?.generation, token: manualToken(sr) });
    }
    return { requeueAfter: userErrorRetryMs };
  }

  function manualToken(sr: SecretRotation): string | undefined {
    return pendingToken(sr.metadata?.annotations?.[ROTATE_NOW_ANNOTATION], sr.status?.rotateNowHandled);
  }

  const requeue = (ms: number): ReconcileResult => ({
    requeueAfter: Math.min(Math.max(ms, 10), MAX_REQUEUE_MS),
  });

  // --- Idle: is a rotation due? ----------------------------------------------------------------

  async function idle(sr: SecretRotation, backend: Backend, ctx: ReconcileContext): Promise<ReconcileResult> {
    const status = sr.status ?? {};
    const now = clock.now();
    const token = manualToken(sr);
    const keys = generatedKeys(sr.spec.generate);
    const lastRotation = status.lastRotationTime ? Date.parse(status.lastRotationTime) : undefined;
    const specChanged = status.observedGeneration !== sr.metadata?.generation;
    let missing = false;
    if (
      token === undefined &&
      (specChanged || (lastRotation === undefined && status.nextRotationTime === undefined))
    ) {
      missing = missingValues((await readLatest(sr, backend, ctx.signal))?.data.reveal(), keys);
    }
    const decision = rotationDue({
      spec: sr.spec,
      ...(lastRotation !== undefined && { lastRotation }),
      created: Date.parse(sr.metadata?.creationTimestamp as unknown as string) || now,
      missingValues: missing,
      manual: token !== undefined,
      now,
    });
    if (decision.due) return startRotation(sr, backend, decision.why, token, ctx);

    // A failed or rolled-back rotation says so until the next one.
    const failed = status.phase === 'Failed' || status.phase === 'RolledBack';
    const ready = getCondition(status.conditions as Condition[] | undefined, 'Ready');
    let next: SecretRotationStatus = {
      ...status,
      observedGeneration: sr.metadata?.generation,
      phase: failed ? status.phase : 'Idle',
    };
    delete next.nextRotationTime;
    if (decision.next !== undefined) next.nextRotationTime = formatTime(decision.next);
    if (decision.why === 'Suspended') {
      next = withReady(sr, next, 'True', Reason.Suspended, 'Scheduled rotations are suspended');
    } else if (!failed) {
      const when = decision.next !== undefined ? `; next rotation at ${formatTime(decision.next)}` : '';
      next =
        lastRotation === undefined
          ? withReady(sr, next, 'True', Reason.Scheduled, `Waiting for the first rotation${when}`)
          : withReady(
              sr,
              next,
              'True',
              Reason.Rotated,
              ready?.reason === Reason.Rotated
                ? ready.message
                : `Rotated to version ${status.currentVersion ?? '?'}${when}`,
            );
    }
    await writeStatus(sr, next);
    if (decision.why === 'Suspended' || decision.next === undefined) return;
    return requeue(decision.next - now + 50);
  }

  async function startRotation(
    sr: SecretRotation,
    backend: Backend,
    why: string,
    token: string | undefined,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const status = sr.status ?? {};
    const current = await readLatest(sr, backend, ctx.signal);
    const next: SecretRotationStatus = {
      ...withReady(sr, status, 'False', Reason.Rotating, `Rotating ${sr.spec.path} (${why.toLowerCase()})`),
      observedGeneration: sr.metadata?.generation,
      phase: 'Rotating',
      ...(token !== undefined && { rotateNowHandled: tokenDigest(token) }),
    };
    // The version this rotation replaces: after a crash, a newer version means it was written.
    delete next.previousVersion;
    if (current) next.previousVersion = current.version;
    await writeStatus(sr, next);
    ctx.log.info('Started rotation', { why, path: sr.spec.path, backend: sr.spec.backend });
    return write(sr, backend, ctx);
  }

  // --- Rotating: generate and write (once) -----------------------------------------------------

  async function write(
    sr: SecretRotation,
    backend: Backend,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const status = sr.status ?? {};
    const key = keyFor(sr.metadata?.namespace, sr.metadata?.name ?? '');
    const expected = status.previousVersion;
    const keys = generatedKeys(sr.spec.generate);
    const strategy = strategyOf(sr.spec);
    const latest = await readLatest(sr, backend, ctx.signal);
    let version: string;
    let keptPrevious: boolean;
    if (latest && latest.version !== expected) {
      // Written already (by this operator before a restart, or by someone else): adopt it.
      version = latest.version;
      keptPrevious =
        strategy === 'TwoPhase' && expected !== undefined && hasPreviousValues(latest.data.reveal(), keys);
      ctx.log.info('Adopted a version written since the rotation started', { version });
    } else {
      const generated = await generateValues(sr.spec.generate, GENERATOR_DEFAULTS, random);
      const data = rotatedData(latest?.data.reveal(), generated.reveal(), keys, strategy);
      try {
        const written = await backend.write(
          { path: sr.spec.path, data: new Sensitive(data), cas: latest?.version ?? '0' },
          ctxOf(sr, ctx.signal),
        );
        version = written.version;
      } catch (err) {
        if (err instanceof BackendError && /check-and-set/i.test(err.message)) {
          // Someone wrote in between: start over from what is there now.
          const now = await readLatest(sr, backend, ctx.signal);
          const again = { ...status };
          delete again.previousVersion;
          if (now) again.previousVersion = now.version;
          await writeStatus(sr, again);
        }
        throw err;
      }
      keptPrevious = strategy === 'TwoPhase' && hasPreviousValues(data, keys);
      metrics.write('rotate');
    }
    const rotatedAt = Date.parse(formatTime(clock.now()));
    const nextAt = nextRotationAfter(sr.spec, rotatedAt);
    let next: SecretRotationStatus = {
      ...status,
      phase: 'RollingOut',
      currentVersion: version,
      lastRotationTime: formatTime(rotatedAt),
      observedGeneration: sr.metadata?.generation,
    };
    delete next.previousVersion;
    delete next.nextRotationTime;
    if (keptPrevious && expected !== undefined) next.previousVersion = expected;
    if (nextAt !== undefined && !sr.spec.suspend) next.nextRotationTime = formatTime(nextAt);
    next = withReady(
      sr,
      next,
      'False',
      Reason.RollingOut,
      `Wrote version ${version} of ${sr.spec.path}; waiting for its readers and consumers`,
    );
    next = {
      ...next,
      conditions: conditions(
        sr,
        next,
        'RolledOut',
        'False',
        Reason.RollingOut,
        `Rolling out version ${version}`,
      ),
    };
    await writeStatus(sr, next);
    memory.requested.delete(key);
    ctx.log.info('Rotated secret', { backend: sr.spec.backend, path: sr.spec.path, version, strategy });
    await deps.events.normal(
      sr,
      'Rotated',
      `Wrote version ${version} of ${sr.spec.path}${keptPrevious ? ' (previous value kept)' : ''}`,
    );
    memory.refreshedAt.set(key, clock.now());
    deps.requestRefresh(sr.metadata?.namespace ?? '', sr.spec.backend, sr.spec.path);
    return requeue(POLL_MS);
  }

  // --- RollingOut: readers synced, consumers restarted and ready -------------------------------

  interface Consumer {
    ref: WorkloadRef;
    wanted: Digests;
  }

  /** The MAC of data this rotation compares or stands for: bound to its namespace and name. */
  const rotationMac = (sr: SecretRotation, data: ReadonlyMap<string, Buffer>) =>
    deps.macKeys.mac(
      MacUse.SecretRotation,
      { namespace: sr.metadata?.namespace ?? '', kind: 'SecretRotation', name: sr.metadata?.name ?? '' },
      data,
    );

  /** The digests of the data the rotation produced, per Secret synced from its path. */
  function affectedDigests(sr: SecretRotation, readers: VaultSecret[], version: string): Digests {
    const out: Record<string, string> = {};
    for (const vs of readers) if (vs.status?.secretMAC) out[targetName(vs)] = macDigest(vs.status.secretMAC);
    if (Object.keys(out).length === 0) {
      // No VaultSecret syncs the path (the workloads read the backend themselves): the version is the data.
      const mac = rotationMac(sr, new Map([[`${sr.spec.path}@${version}`, Buffer.from(version)]]));
      out[pseudoSecret(sr)] = macDigest(mac);
    }
    return out;
  }

  /**
   * When the data of each affected entry was written (a reader's lastSyncTime; for the rotation
   * itself, its time): a workload restarted after it runs with that data even when its digest
   * was made before an upgrade or a MAC key change and cannot be checked.
   */
  function writtenAt(sr: SecretRotation, readers: VaultSecret[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const vs of readers) {
      const at = Date.parse(vs.status?.lastSyncTime ?? '');
      if (Number.isFinite(at)) out[targetName(vs)] = at;
    }
    const rotatedAt = Date.parse(sr.status?.lastRotationTime ?? '');
    if (Number.isFinite(rotatedAt)) out[pseudoSecret(sr)] = rotatedAt;
    return out;
  }

  function consumersOf(
    sr: SecretRotation,
    affected: Digests,
  ): { consumers: Consumer[]; unsupported: string[] } {
    const namespace = sr.metadata?.namespace ?? '';
    const found = new Map<string, WorkloadRef>();
    const unsupported: string[] = [];
    const spec = sr.spec.consumers;
    for (const t of spec?.targets ?? []) {
      // Deployment, StatefulSet, DaemonSet, and Argo Rollout (followed while its CRD is served).
      if (!isRestartKind(t.kind)) {
        unsupported.push(`${t.kind} ${t.name}`);
        continue;
      }
      const ref: WorkloadRef = { kind: t.kind, namespace, name: t.name };
      found.set(workloadKey(ref), ref);
    }
    const workloads = deps.reload.workloads(namespace);
    if (spec?.selector) {
      for (const { ref, obj } of workloads)
        if (selectorMatches(spec.selector, obj.metadata?.labels)) found.set(workloadKey(ref), ref);
    }
    if (!spec?.targets?.length && !spec?.selector) {
      for (const { ref, obj } of workloads) {
        const uses = annotatedSecrets(obj);
        if (Object.keys(affected).some((s) => uses.has(s))) found.set(workloadKey(ref), ref);
      }
    }
    const consumers = [...found.values()].map((ref) => {
      const obj = workloads.find((w) => workloadKey(w.ref) === workloadKey(ref))?.obj;
      const uses = new Set([
        ...(obj ? annotatedSecrets(obj) : []),
        ...referencedSecrets(obj?.spec?.template?.spec),
      ]);
      const mine = Object.fromEntries(Object.entries(affected).filter(([s]) => uses.has(s)));
      return { ref, wanted: Object.keys(mine).length > 0 ? mine : affected };
    });
    return { consumers, unsupported };
  }

  async function rollOut(
    sr: SecretRotation,
    backend: Backend,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const status = sr.status ?? {};
    const now = clock.now();
    const namespace = sr.metadata?.namespace ?? '';
    const key = keyFor(namespace, sr.metadata?.name ?? '');
    const version = status.currentVersion ?? '';
    const policy = rotationRestartPolicy(sr.spec);
    const rotatedAt = Date.parse(status.lastRotationTime ?? '') || now;
    const failedAlready = status.phase === 'Failed';

    const readers = readersOf(sr, deps.vaultSecrets.list(namespace));
    if (!failedAlready && rollbackWanted(sr)) {
      // A reader synced a version after the one this rotation wrote: if it is this rotation's
      // rollback, written just before the operator stopped (its status write lost), finish that
      // instead of rolling the rolled-back data out as if it were the rotation (checked once per
      // such version: one backend read).
      const newer = readers
        .map((vs) => vs.status?.sourceVersions?.[sr.spec.path])
        .find((v) => v !== undefined && v !== version && versionAtLeast(v, version));
      if (newer !== undefined && memory.rollbackChecked.get(key) !== newer) {
        memory.rollbackChecked.set(key, newer);
        const latest = await readLatest(sr, backend, ctx.signal);
        if (latest && latest.version !== version && (await rollbackWritten(sr, backend, latest, ctx))) {
          const why = `the rollback of version ${version} was written before the operator restarted`;
          return rolledBack(sr, latest.version, why, ctx);
        }
      }
    }
    const unsynced = readers.filter((vs) => !readerSynced(vs, sr.spec.path, version));
    const stuck = unsynced.flatMap((vs) => {
      const why = readerStuck(vs);
      return why ? [`VaultSecret ${vs.metadata?.name ?? ''} (${why})`] : [];
    });
    if (stuck.length > 0 && !failedAlready) {
      // A reader that cannot write its Secret shows here at once, not after readyTimeout; the
      // rotation still waits for it (it syncs once fixed) and times out as before.
      const message = `Cannot roll out version ${version}: ${stuck.join('; ')}`;
      const previous = getCondition(status.conditions as Condition[] | undefined, 'Ready');
      if (!(now >= rotatedAt + policy.readyTimeoutMs)) {
        await writeStatus(sr, withReady(sr, status, 'False', Reason.VaultSecretNotSynced, message));
        if (previous?.reason !== Reason.VaultSecretNotSynced || previous.message !== message)
          await deps.events.warning(sr, Reason.VaultSecretNotSynced, message);
        return requeue(POLL_MS);
      }
    }
    if (unsynced.length > 0) {
      const names = unsynced.map((vs) => vs.metadata?.name).join(', ');
      if (now - (memory.refreshedAt.get(key) ?? 0) >= REFRESH_AGAIN_MS) {
        memory.refreshedAt.set(key, now);
        deps.requestRefresh(namespace, sr.spec.backend, sr.spec.path);
      }
      if (!failedAlready && now >= rotatedAt + policy.readyTimeoutMs) {
        return rolloutFailed(
          sr,
          Reason.VaultSecretNotSynced,
          `VaultSecret ${names} did not sync version ${version} within ${fmt(policy.readyTimeoutMs)}`,
        );
      }
      if (!failedAlready) {
        await writeStatus(
          sr,
          withReady(
            sr,
            status,
            'False',
            Reason.RollingOut,
            `Waiting for VaultSecret ${names} to sync version ${version}`,
          ),
        );
      }
      return requeue(POLL_MS);
    }

    const late = now >= rotatedAt + policy.debounceMs + policy.readyTimeoutMs;
    if (!deps.reload.cachesSynced() && !late) {
      // The workload caches are still filling (operator start, an Argo Rollouts CRD just found):
      // a consumer missing from them may exist. Selectors and annotations are read once they are.
      return requeue(POLL_MS);
    }
    const affected = affectedDigests(sr, readers, version);
    const since = writtenAt(sr, readers);
    const { consumers, unsupported } = consumersOf(sr, affected);
    const requested =
      memory.requested.get(key)?.version === version ? memory.requested.get(key)!.keys : new Set<string>();
    memory.requested.set(key, { version, keys: requested });
    const states: { c: Consumer; s: RolloutState }[] = consumers.map((c) => ({
      c,
      s: deps.reload.rolloutState(c.ref, c.wanted, policy.readyTimeoutMs, now, since),
    }));
    for (const { c, s } of states) {
      const k = workloadKey(c.ref);
      if (s.state === 'NotRestarted' && !requested.has(k)) {
        requested.add(k);
        deps.reload.requestRestart({
          namespace,
          workloads: [{ kind: c.ref.kind, name: c.ref.name }],
          secrets: c.wanted,
          group: `SecretRotation/${sr.metadata?.name ?? ''}`,
          rotation: sr.metadata?.name ?? '',
          reason: `SecretRotation ${sr.metadata?.name} rotated ${sr.spec.path} to version ${version}`,
        });
      }
    }
    const failing = states.filter(
      ({ c, s }) =>
        s.state === 'TimedOut' ||
        (s.state === 'Unknown' && late) ||
        (s.state === 'NotRestarted' && requested.has(workloadKey(c.ref)) && late),
    );
    const waiting = states.filter(({ s }) => s.state !== 'Ready' && s.state !== 'NotFound');
    const describe = (list: typeof states) => list.map(({ c }) => `${c.ref.kind} ${c.ref.name}`).join(', ');

    if (waiting.length === 0) {
      const notFound = states.filter(({ s }) => s.state === 'NotFound');
      return rolledOut(sr, states.length - notFound.length, unsupported, describe(notFound), ctx);
    }
    if (failing.length > 0 && !failedAlready) {
      const notReady = `${describe(failing)} did not become ready with version ${version} within ${fmt(policy.readyTimeoutMs)}`;
      if (rollbackWanted(sr)) return rollBack(sr, backend, notReady, ctx);
      const kept = status.previousVersion !== undefined ? '; the previous value is kept' : '';
      return rolloutFailed(sr, Reason.RolloutNotReady, `${notReady}${kept}`);
    }
    if (!failedAlready) {
      const ready = states.length - waiting.length;
      await writeStatus(
        sr,
        withReady(
          sr,
          status,
          'False',
          Reason.RollingOut,
          `${ready}/${states.length} consumers ready with version ${version}; waiting for ${describe(waiting)}`,
        ),
      );
    }
    return requeue(failedAlready ? 30_000 : POLL_MS);
  }

  function upsertHistory(
    status: SecretRotationStatus,
    entry: NonNullable<SecretRotationStatus['history']>[number],
  ) {
    const rest = (status.history ?? []).filter((h) => h.version !== entry.version);
    return [entry, ...rest].slice(0, MAX_HISTORY);
  }

  async function rolloutFailed(
    sr: SecretRotation,
    reason: Reason,
    message: string,
  ): Promise<ReconcileResult> {
    const status = sr.status ?? {};
    let next: SecretRotationStatus = {
      ...status,
      phase: 'Failed',
      history: upsertHistory(status, {
        version: status.currentVersion ?? '',
        time: status.lastRotationTime ?? formatTime(clock.now()),
        outcome: 'Failed',
        message: message.slice(0, 1024),
      }),
    };
    next = withReady(sr, next, 'False', reason, message);
    next = { ...next, conditions: conditions(sr, next, 'RolledOut', 'False', reason, message) };
    await writeStatus(sr, next);
    metrics.rotation('Failed');
    await deps.events.warning(sr, reason, message);
    // Still watched: consumers that become ready later complete the rotation.
    return requeue(30_000);
  }

  // --- RolledBack (TwoPhase, rollbackOnFailure): the previous value written back ---------------

  const rollbackWanted = (sr: SecretRotation) =>
    sr.spec.rollbackOnFailure === true &&
    strategyOf(sr.spec) === 'TwoPhase' &&
    sr.status?.previousVersion !== undefined;

  /**
   * The consumers did not become ready in time: the previous value becomes the current value
   * again, as a new backend version written with check-and-set on the version this rotation
   * wrote (a path changed since is never overwritten). The VaultSecrets are asked to read it at
   * once; once they have, the consumers are restarted onto it (rolledBackFollowUp).
   */
  async function rollBack(
    sr: SecretRotation,
    backend: Backend,
    notReady: string,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const status = sr.status ?? {};
    const failedVersion = status.currentVersion ?? '';
    const keys = generatedKeys(sr.spec.generate);
    const latest = await readLatest(sr, backend, ctx.signal);
    if (latest && latest.version !== failedVersion && (await rollbackWritten(sr, backend, latest, ctx))) {
      // Written before the operator stopped, its status write lost: finish it, write nothing.
      return rolledBack(sr, latest.version, notReady, ctx);
    }
    const data =
      latest && latest.version === failedVersion ? rolledBackData(latest.data.reveal(), keys) : undefined;
    if (!latest || !data) {
      const why =
        latest && latest.version !== failedVersion
          ? `${sr.spec.path} changed since (version ${latest.version}), so it was not overwritten`
          : `version ${failedVersion} of ${sr.spec.path} holds no previous value`;
      return rolloutFailed(sr, Reason.RollbackFailed, `${notReady}; not rolled back: ${why}`);
    }
    const written = await backend.write(
      { path: sr.spec.path, data: new Sensitive(data), cas: latest.version },
      ctxOf(sr, ctx.signal),
    );
    metrics.write('rollback');
    return rolledBack(sr, written.version, notReady, ctx);
  }

  /**
   * Does `latest` already hold what rolling back the rotation's version writes? It does when the
   * rollback was written and the operator stopped before the status said so. Compared by keyed
   * HMAC (no value is logged or kept) over the generated keys and their `_previous` keys: each
   * generated key holds its previous value again and no `_previous` key is left. Reads the
   * rotation's version once; false when that version is gone or held no previous value.
   */
  async function rollbackWritten(
    sr: SecretRotation,
    backend: Backend,
    latest: RemoteSecret,
    ctx: ReconcileContext,
  ): Promise<boolean> {
    const failedVersion = sr.status?.currentVersion;
    if (failedVersion === undefined) return false;
    let failed: RemoteSecret;
    try {
      failed = await backend.read({ path: sr.spec.path, version: failedVersion }, ctxOf(sr, ctx.signal));
    } catch (err) {
      if (err instanceof BackendError && err.code === 'NotFound') return false;
      throw err;
    }
    const keys = generatedKeys(sr.spec.generate);
    const expected = rolledBackData(failed.data.reveal(), keys);
    if (!expected) return false;
    const names = new Set([...keys, ...keys.map(previousKey)]);
    const mac = (data: ReadonlyMap<string, Buffer>) =>
      rotationMac(sr, new Map([...data].filter(([k]) => names.has(k))));
    const same = macEqual(mac(latest.data.reveal()), mac(expected));
    if (same) {
      ctx.log.info('Found the rollback already written before a restart; finishing it', {
        path: sr.spec.path,
        failedVersion,
        version: latest.version,
      });
    }
    return same;
  }

  /** The status of a rotation rolled back to the previous value, now `version` in the backend. */
  async function rolledBack(
    sr: SecretRotation,
    version: string,
    notReady: string,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const status = sr.status ?? {};
    const namespace = sr.metadata?.namespace ?? '';
    const failedVersion = status.currentVersion ?? '';
    const message = `${notReady}; rolled back: the previous value is current again as version ${version}`;
    let next: SecretRotationStatus = {
      ...status,
      phase: 'RolledBack',
      currentVersion: version,
      history: upsertHistory(status, {
        version: failedVersion,
        time: status.lastRotationTime ?? formatTime(clock.now()),
        outcome: 'RolledBack',
        message: message.slice(0, 1024),
      }),
    };
    delete next.previousVersion;
    next = withReady(sr, next, 'False', Reason.RolledBack, message);
    next = { ...next, conditions: conditions(sr, next, 'RolledOut', 'False', Reason.RolledBack, message) };
    await writeStatus(sr, next);
    memory.requested.delete(keyFor(namespace, sr.metadata?.name ?? ''));
    memory.refreshedAt.set(keyFor(namespace, sr.metadata?.name ?? ''), clock.now());
    deps.requestRefresh(namespace, sr.spec.backend, sr.spec.path);
    metrics.rotation('RolledBack');
    ctx.log.warn('Rolled back rotation', { path: sr.spec.path, failedVersion, version });
    await deps.events.warning(sr, Reason.RolledBack, message);
    return requeue(POLL_MS);
  }

  /**
   * After a rollback: once the readers have synced the rolled-back version, its consumers are
   * asked (once) to restart onto it; true when that is done. Nothing is awaited: the rotation
   * stays RolledBack until the next one.
   */
  function rolledBackFollowUp(sr: SecretRotation): boolean {
    const status = sr.status ?? {};
    const namespace = sr.metadata?.namespace ?? '';
    const key = keyFor(namespace, sr.metadata?.name ?? '');
    const version = status.currentVersion ?? '';
    const now = clock.now();
    const readers = readersOf(sr, deps.vaultSecrets.list(namespace));
    if (readers.some((vs) => !readerSynced(vs, sr.spec.path, version))) {
      if (now - (memory.refreshedAt.get(key) ?? 0) >= REFRESH_AGAIN_MS) {
        memory.refreshedAt.set(key, now);
        deps.requestRefresh(namespace, sr.spec.backend, sr.spec.path);
      }
      return false;
    }
    // Caches still filling: a consumer may be missing from them; asked again shortly.
    if (!deps.reload.cachesSynced()) return false;
    const affected = affectedDigests(sr, readers, version);
    const since = writtenAt(sr, readers);
    const { consumers } = consumersOf(sr, affected);
    const requested =
      memory.requested.get(key)?.version === version ? memory.requested.get(key)!.keys : new Set<string>();
    memory.requested.set(key, { version, keys: requested });
    let unknown = false;
    for (const c of consumers) {
      const k = workloadKey(c.ref);
      if (requested.has(k)) continue;
      const state = deps.reload.rolloutState(
        c.ref,
        c.wanted,
        rotationRestartPolicy(sr.spec).readyTimeoutMs,
        now,
        since,
      );
      if (state.state === 'Unknown') unknown = true;
      if (state.state !== 'NotRestarted') continue;
      requested.add(k);
      deps.reload.requestRestart({
        namespace,
        workloads: [{ kind: c.ref.kind, name: c.ref.name }],
        secrets: c.wanted,
        group: `SecretRotation/${sr.metadata?.name ?? ''}`,
        rotation: sr.metadata?.name ?? '',
        reason: `SecretRotation ${sr.metadata?.name} rolled ${sr.spec.path} back to the previous value (version ${version})`,
      });
    }
    return !unknown;
  }

  async function rolledOut(
    sr: SecretRotation,
    count: number,
    unsupported: string[],
    notFound: string,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const status = sr.status ?? {};
    const version = status.currentVersion ?? '';
    const twoPhase = strategyOf(sr.spec) === 'TwoPhase' && status.previousVersion !== undefined;
    const note =
      (unsupported.length > 0 ? ` (not restarted, kind not supported: ${unsupported.join(', ')})` : '') +
      (notFound ? ` (not found, not restarted: ${notFound})` : '');
    const summary = `${count} consumer(s) ready with version ${version}${note}`;
    let next: SecretRotationStatus = {
      ...status,
      phase: twoPhase ? 'Retiring' : 'Idle',
      history: upsertHistory(status, {
        version,
        time: status.lastRotationTime ?? formatTime(clock.now()),
        outcome: 'Succeeded',
      }),
    };
    next = { ...next, conditions: conditions(sr, next, 'RolledOut', 'True', Reason.Rotated, summary) };
    const retention = parseDuration(sr.spec.previousValueRetention ?? D.previousValueRetention);
    next = twoPhase
      ? withReady(
          sr,
          next,
          'False',
          Reason.Retiring,
          `${summary}; the previous value is retired after ${fmt(retention)}`,
        )
      : withReady(sr, next, 'True', Reason.Rotated, `Rotated to version ${version}; ${summary}`);
    await writeStatus(sr, next);
    metrics.rotation('Succeeded');
    ctx.log.info('Rolled out rotation', { version, consumers: count });
    await deps.events.normal(sr, 'RolledOut', summary);
    return twoPhase ? requeue(retention + 50) : requeue(POLL_MS);
  }

  // --- Retiring (TwoPhase): drop the previous value after the retention --------------------------

  async function retire(
    sr: SecretRotation,
    backend: Backend,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const status = sr.status ?? {};
    const now = clock.now();
    const rolled = getCondition(status.conditions as Condition[] | undefined, 'RolledOut');
    const retention = parseDuration(sr.spec.previousValueRetention ?? D.previousValueRetention);
    const due = (rolled?.status === 'True' ? Date.parse(rolled.lastTransitionTime) : now) + retention;
    if (now < due) return requeue(due - now + 50);
    const keys = generatedKeys(sr.spec.generate);
    const latest = await readLatest(sr, backend, ctx.signal);
    let version = latest?.version ?? status.currentVersion;
    if (latest && hasPreviousValues(latest.data.reveal(), keys)) {
      const namespace = sr.metadata?.namespace ?? '';
      memory.retiring.set(pathKey(namespace, sr.spec.backend, sr.spec.path), now + RETIRE_SUPPRESS_MS);
      const written = await backend.write(
        {
          path: sr.spec.path,
          data: new Sensitive(retiredData(latest.data.reveal(), keys)),
          cas: latest.version,
        },
        ctxOf(sr, ctx.signal),
      );
      version = written.version;
      metrics.write('retire');
      deps.requestRefresh(namespace, sr.spec.backend, sr.spec.path);
      ctx.log.info('Retired previous value', { path: sr.spec.path, version });
      await deps.events.normal(
        sr,
        'PreviousValueRetired',
        `Retired the previous value of ${sr.spec.path} (version ${version})`,
      );
    }
    let next: SecretRotationStatus = { ...status, phase: 'Idle' };
    delete next.previousVersion;
    if (version !== undefined) next.currentVersion = version;
    const when = status.nextRotationTime ? `; next rotation at ${status.nextRotationTime}` : '';
    next = withReady(
      sr,
      next,
      'True',
      Reason.Rotated,
      `Rotated; the previous value was retired (version ${version ?? '?'})${when}`,
    );
    await writeStatus(sr, next);
    return requeue(POLL_MS);
  }

  return async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const sr = deps.rotations.get(key);
    if (!sr || sr.metadata?.deletionTimestamp) {
      memory.forget(key);
      return;
    }
    // A private copy: steps update sr.status as they write it.
    const own: SecretRotation = { ...sr, status: sr.status ? { ...sr.status } : undefined };
    try {
      // A failure that needs a person waits for the user-error delay, a spec change or a new
      // rotate-now token; its own status write must not turn into a retry loop.
      const held = memory.held.get(key);
      if (held && held.generation === own.metadata?.generation && held.token === manualToken(own)) {
        const wait = held.at + userErrorRetryMs - clock.now();
        if (wait > 0) return requeue(wait);
      }
      memory.held.delete(key);
      // The CRD's rules again: an object stored past them gets InvalidSpec, not a throw or a loop.
      const invalid = invalidSpecMessage('SecretRotation', own.spec);
      if (invalid) throw new RotationFailure(Reason.InvalidSpec, invalid, false);
      const unreadable = scheduleError(own.spec);
      if (unreadable) throw new RotationFailure(Reason.InvalidSchedule, unreadable, false);
      const backend = deps.backends.get(own.spec.backend);
      if (!backend) {
        throw new RotationFailure(
          Reason.BackendNotFound,
          `backend "${own.spec.backend}" is not in the operator configuration`,
          false,
        );
      }
      const disabled = disabledRestartMode(own.spec, deps.annotatePods ?? false);
      if (disabled) throw new RotationFailure(Reason.AnnotatePodsDisabled, disabled, false);
      const status = own.status ?? {};
      const rolloutFailure =
        status.phase === 'Failed' &&
        ([Reason.RolloutNotReady, Reason.VaultSecretNotSynced, Reason.RollbackFailed] as string[]).includes(
          getCondition(status.conditions as Condition[] | undefined, 'Ready')?.reason ?? '',
        );
      switch (status.phase) {
        case 'Rotating':
          return await write(own, backend, ctx);
        case 'RollingOut':
          return await rollOut(own, backend, ctx);
        case 'RolledBack': {
          // Restarts onto the rolled-back value are asked for once its readers have it; the
          // schedule goes on meanwhile (a reader that never syncs must not hold it up).
          const done = manualToken(own) !== undefined || rolledBackFollowUp(own);
          const result = await idle(own, backend, ctx);
          if (done || own.status?.phase !== 'RolledBack') return result;
          return requeue(Math.min(result?.requeueAfter ?? POLL_MS, POLL_MS));
        }
        case 'Retiring':
          return manualToken(own) !== undefined
            ? await idle(own, backend, ctx)
            : await retire(own, backend, ctx);
        default: {
          if (rolloutFailure) {
            // Still watching the failed rollout; a scheduled rotation would drop a kept previous
            // value, so only a manual one (or Replace) goes ahead.
            const replaceDue =
              strategyOf(own.spec) === 'Replace' &&
              status.nextRotationTime !== undefined &&
              Date.parse(status.nextRotationTime) <= clock.now();
            if (manualToken(own) === undefined && !replaceDue) return await rollOut(own, backend, ctx);
          } else if (status.phase === 'Failed' && manualToken(own) === undefined) {
            // A rotation that failed for a user's reason is tried again after the delay, not on
            // every event its own status write causes.
            const wait = (memory.failedAt.get(key) ?? 0) + userErrorRetryMs - clock.now();
            if (wait > 0) return requeue(wait);
          }
          return await idle(own, backend, ctx);
        }
      }
    } catch (err) {
      // Lost leadership (fencing) ends the reconcile: another replica writes now, not us.
      if (ctx.signal.aborted || isNotLeader(err)) throw err;
      return fail(own, toFailure(err), ctx);
    }
  };
}

function fmt(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

/** A JSON merge patch turning status `a` into `b` (removed fields → null), or undefined when equal. */
export function statusPatch(
  a: SecretRotationStatus,
  b: SecretRotationStatus,
): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof SecretRotationStatus>;
  for (const k of keys) {
    const av = a[k];
    const bv = b[k];
    if (bv === undefined) {
      if (av !== undefined) patch[k] = null;
    } else if (canonical(av) !== canonical(bv)) {
      patch[k] = bv;
    }
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)))
      : v,
  );
}
