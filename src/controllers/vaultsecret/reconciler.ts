// Reconciles one VaultSecret: read the backend when a refresh is due or the Secret drifted,
// write the Secret only when its data or metadata differ, write status only when it changed.
// Every failure — a backend error, a spec the CRD would refuse today, data the apiserver would
// refuse, a read that would wipe the Secret, a refused write — keeps the Secret as it is and
// reports Ready=False with its reason and one Warning event (report-failure.ts, on the shared
// controllers/failure path); none of them hot-loops.
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret, VaultSecretStatus } from '../../apis/v1alpha1/index.ts';
import {
  FieldManager,
  LEGACY_FIELD_MANAGER,
  UserAnnotation,
  VaultSecretReason,
  parseDuration,
  pendingToken,
  tokenDigest,
} from '../../apis/v1alpha1/index.ts';
import type { Backend, RemoteSecret } from '../../backends/types.ts';
import { getObject, serverSideApply } from '../../kube/client.ts';
import { type Condition, formatTime, getCondition, setCondition } from '../../kube/conditions.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import { addFinalizer, hasFinalizer } from '../../kube/finalizers.ts';
import { releaseFields } from '../../kube/managed-fields.ts';
import { keyFor, keyOf } from '../../kube/resources.ts';
import { macEqual } from '../../secrets/hmac.ts';
import { type BoundMac, type MacVerdict, MacUse } from '../../secrets/mac-keyring.ts';
import { Failure, FailureReporter, USER_ERROR_RETRY_MS, classify } from '../failure/index.ts';
import { invalidSpecMessage } from '../invalid-spec.ts';
import { createFirst } from './create-first.ts';
import type { VaultSecretReconcilerDeps } from './deps.ts';
import { targetName } from '../shared/target-name.ts';
import { desiredSecretData } from './desired-data.ts';
import { fetchSources } from './fetch.ts';
import { FailureHold, type HoldInput, holdInput } from './failure-hold.ts';
import { finalize } from './finalize.ts';
import { mayWrite } from './ownership.ts';
import { BACKEND_REASONS } from './reasons.ts';
import {
  lastRefreshAt,
  nextRefreshDelay,
  readsFresh,
  refreshPhase,
  refreshReason,
  refreshSource,
  sharedReadWindow,
} from './refresh.ts';
import { type FailureIo, reportFailure } from './report-failure.ts';
import { HistoryMemory, type SyncCause } from './history.ts';
import { dataProblem } from './secret-limits.ts';
import { statusEqual, writeStatus } from './status-write.ts';
import { syncNowToken } from './sync-now.ts';
import {
  CLEANUP_FINALIZER,
  creationPolicy,
  needsCleanupFinalizer,
  desiredSecret,
  managedKeys,
  metadataMatches,
  secretData,
} from './target-secret.ts';
import { TemplateError } from './template.ts';
import { unsafeShrink } from './wipe-guard.ts';
import { writing } from './write-refusal.ts';

export type { VaultSecretReconcilerDeps } from './deps.ts';

export function refreshIntervalMs(vs: VaultSecret, defaultMs: number): number {
  return vs.spec.refreshInterval === undefined ? defaultMs : parseDuration(vs.spec.refreshInterval);
}

export function createVaultSecretReconciler(deps: VaultSecretReconcilerDeps) {
  const reconciler = new VaultSecretReconciler(deps);
  return (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => reconciler.reconcile(key, ctx);
}

/** One reconcile in progress: the time it started, and what the user controlled once it read. */
interface Attempt {
  key: string;
  now: number;
  /** Set once the backend is read: a failure from there on holds further reads. */
  hold?: HoldInput;
  /** A read was asked for (sync-now, a rotation, a spec change): no shared result, a fresh read. */
  fresh?: boolean;
  /** Why it reads, and whether the data changed: what status.history records. */
  cause?: SyncCause;
  changed?: boolean;
}

/** Where a VaultSecret may be synced from and to (preflight). */
interface Target {
  backend: Backend;
  /** From the cache of our Secrets; on a miss read from the apiserver only with Merge. */
  existing: V1Secret | undefined;
  /** False after an unread cache miss: the Secret is written create-first (create-first.ts). */
  verified: boolean;
  intervalMs: number;
  /** Where this resource's refresh slots lie (refresh.ts). */
  phase: number;
}

/** What a read of the backend gave, checked: the data to write and the tokens it answers. */
interface Read {
  fetched: Map<string, RemoteSecret>;
  data: ReadonlyMap<string, Buffer>;
  shrinkToken: string | undefined;
}

export class VaultSecretReconciler {
  readonly #deps: VaultSecretReconcilerDeps;
  readonly #io: FailureIo;
  /** When this process last read each resource's data: reads that changed nothing are not in status. */
  readonly #refreshedAt = new Map<string, number>();
  readonly #history = new HistoryMemory();
  readonly #startedMs: number;

  constructor(deps: VaultSecretReconcilerDeps) {
    this.#deps = deps;
    this.#startedMs = deps.clock.now();
    this.#io = {
      client: deps.client,
      events: deps.events,
      clock: deps.clock,
      failures: new FailureReporter(deps.userErrorRetryMs ?? USER_ERROR_RETRY_MS),
      held: deps.failureHold ?? new FailureHold(),
    };
  }

  async reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const vs = this.#deps.vaultSecrets.get(key);
    if (!vs) {
      this.#io.held.forget(key);
      this.#io.failures.forget(key);
      this.#refreshedAt.delete(key);
      this.#history.forget(key);
      return;
    }
    if (vs.metadata?.deletionTimestamp)
      return void (await finalize(this.#deps.client, vs, (v) => this.#existingSecret(v)));
    const attempt: Attempt = { key, now: this.#deps.clock.now() };
    try {
      return await this.#sync(vs, attempt, ctx);
    } catch (err) {
      return reportFailure(this.#io, vs, this.#toFailure(err, ctx), ctx.log, attempt.hold);
    }
  }

  async #sync(vs: VaultSecret, attempt: Attempt, ctx: ReconcileContext): Promise<ReconcileResult> {
    const target = await this.#preflight(vs);
    if (!target) return;
    const { backend, existing, intervalMs, phase } = target;
    const { key, now } = attempt;
    const token = syncNowToken(vs);
    const asked = this.#deps.takeRefreshRequest?.(key);
    const requested = asked !== undefined || token !== undefined;
    const verdict = this.#syncVerdict(vs, existing);
    const due =
      refreshReason(vs, this.#lastRefresh(key, vs, intervalMs), intervalMs, now, phase) ??
      (requested ? 'refresh requested' : undefined) ??
      (verdict === 'mismatch' ? 'Secret drifted' : undefined);
    if (
      !due &&
      existing &&
      metadataMatches(existing, desiredSecret(vs, secretData(existing, managedKeys(existing) ?? [])))
    )
      return this.#inSync(vs, existing, verdict, target, attempt);
    const input = holdInput(vs, existing);
    const shown = getCondition(vs.status?.conditions as Condition[] | undefined, 'Ready')?.reason;
    const waiting = requested ? undefined : this.#io.held.remaining(key, input, now, shown);
    if (waiting !== undefined) {
      ctx.log.debug('Backend read held after a failure that needs a fix', { retryInMs: waiting });
      return { requeueAfter: waiting };
    }
    ctx.log.debug('Reading backend', { backend: backend.name, why: due ?? 'metadata drifted' });
    attempt.hold = input;
    attempt.cause = { first: !vs.status?.secretMAC, syncNow: token !== undefined, asked, due };
    attempt.fresh = requested || readsFresh(due);
    const read = await this.#read(vs, attempt, target, ctx.signal);
    return this.#write(vs, attempt, target, read, ctx);
  }

  /**
   * What must hold before anything is read: a spec the CRD accepts, the cleanup finalizer, a
   * configured backend, a target Secret we may write. Undefined: the finalizer was just added
   * (the informer delivers the updated object and wakes this key again).
   */
  async #preflight(vs: VaultSecret): Promise<Target | undefined> {
    // The CRD's rules again: an object stored before a CRD upgrade or past CEL is refused here.
    const invalid = invalidSpecMessage('VaultSecret', vs.spec);
    if (invalid !== undefined) throw new Failure(VaultSecretReason.InvalidSpec, invalid);
    if (needsCleanupFinalizer(vs) && !hasFinalizer(vs, CLEANUP_FINALIZER)) {
      await addFinalizer(this.#deps.client, vs, CLEANUP_FINALIZER, {
        fieldManager: FieldManager.VaultSecret,
      });
      return undefined;
    }
    const intervalMs = refreshIntervalMs(vs, this.#deps.defaultRefreshIntervalMs);
    const backend = this.#deps.backends.get(vs.spec.backend);
    if (!backend) {
      throw new Failure(
        VaultSecretReason.BackendNotFound,
        `backend "${vs.spec.backend}" is not in the operator configuration`,
      );
    }
    // Merge writes only into a Secret that exists: it is read. Otherwise a miss is written
    // create-first, which costs no read for a new Secret (create-first.ts).
    const merge = creationPolicy(vs) === 'Merge';
    const existing = merge ? await this.#existingSecret(vs) : this.#cachedSecret(vs);
    const decision = mayWrite(vs, existing);
    if (!decision.allowed) throw new Failure(decision.reason, decision.message);
    const phase = refreshPhase(refreshSource(vs), intervalMs);
    return { backend, existing, verified: merge || existing !== undefined, intervalMs, phase };
  }

  /** Nothing to read: a MAC of an earlier scheme or key is rewritten once; wait for the refresh. */
  async #inSync(
    vs: VaultSecret,
    existing: V1Secret,
    verdict: MacVerdict,
    target: Target,
    attempt: Attempt,
  ): Promise<ReconcileResult> {
    if (verdict === 'accepted') {
      // Written before an upgrade or a key rotation: the status gets the current MAC, once;
      // the Secret is not written and nothing restarts (the data did not change).
      const mac = this.#secretMac(vs).mac(secretData(existing, managedKeys(existing) ?? []));
      await writeStatus(this.#deps.client, vs, { ...vs.status, secretMAC: mac });
    }
    const last = this.#lastRefresh(attempt.key, vs, target.intervalMs)!;
    const delay = nextRefreshDelay(last, target.intervalMs, attempt.now, target.phase);
    return delay === undefined ? undefined : { requeueAfter: delay };
  }

  #lastRefresh(key: string, vs: VaultSecret, intervalMs: number): number | undefined {
    const recorded = vs.status?.lastRefreshTime;
    return lastRefreshAt(
      recorded === undefined ? undefined : Date.parse(recorded),
      this.#refreshedAt.get(key),
      this.#startedMs,
      intervalMs,
    );
  }

  /** Reads the backend; what the apiserver would refuse, and what would wipe the Secret, is refused here. */
  async #read(vs: VaultSecret, attempt: Attempt, target: Target, signal: AbortSignal): Promise<Read> {
    // A result another resource read within the sharing window serves this one too, unless a
    // read was asked for: then it is fresh.
    const maxAgeMs = attempt.fresh ? 0 : sharedReadWindow(target.intervalMs);
    const ctx = { namespace: vs.metadata?.namespace ?? '', signal, maxAgeMs };
    const { fetched, found } = await fetchSources(vs.spec, target.backend, ctx);
    const data = desiredSecretData(vs.spec, fetched, found).reveal();
    const problem = dataProblem(data);
    if (problem) throw new Failure(problem.reason, problem.message);
    const shrinkToken = pendingToken(
      vs.metadata?.annotations?.[UserAnnotation.AllowShrink],
      vs.status?.allowShrinkHandled,
    );
    const read = { fetched, data, shrinkToken };
    checkShrink(vs, target.existing, read);
    return read;
  }

  /** Writes the Secret when its data or metadata differ, then the status; tells of a real data change. */
  async #write(
    vs: VaultSecret,
    attempt: Attempt,
    target: Target,
    read: Read,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const { data } = read;
    const macs = this.#secretMac(vs);
    const mac = macs.mac(data);
    const desired = desiredSecret(vs, data);
    let existing = target.existing;
    let created: V1Secret | undefined;
    if (!target.verified) {
      const what = `Secret ${targetName(vs)}`;
      created = await writing(what, data.values(), () => createFirst(this.#deps.client, desired));
      // There was one after all (not ours: refused; ours, not in the cache yet: written below).
      if (!created) existing = await this.#verifiedSecret(vs, read);
    }
    let secret = created ?? existing;
    if (created) this.#wrote(created);
    let lastSyncTime = vs.status?.lastSyncTime;
    const unchanged =
      !created &&
      existing !== undefined &&
      macEqual(mac, macs.mac(secretData(existing, [...data.keys()]))) &&
      metadataMatches(existing, desired) &&
      (managedKeys(existing) ?? []).length === data.size;
    if (!unchanged) {
      if (!created) {
        secret = await writing(`Secret ${targetName(vs)}`, data.values(), () => this.#apply(desired));
        this.#wrote(secret);
      }
      lastSyncTime = formatTime(attempt.now);
      const verb = existing ? 'Updated' : 'Created';
      ctx.log.info(`${verb} Secret`, { secret: targetName(vs), keys: data.size });
      await this.#deps.events.fact({
        type: 'SecretSynced',
        object: vs,
        reason: verb === 'Created' ? 'SecretCreated' : 'SecretUpdated',
        message: `${verb} Secret ${targetName(vs)}`,
        secretName: targetName(vs),
      });
    }
    const previousMac = vs.status?.secretMAC;
    // A MAC of an earlier scheme or key for the same data is no change (nothing restarts).
    attempt.changed = previousMac === undefined || macs.verdict(data, previousMac) === 'mismatch';
    if (previousMac !== undefined && attempt.changed) {
      this.#deps.changes?.secretChanged(vs, { secretName: targetName(vs), previousMac, mac });
    }
    return this.#synced(vs, attempt, target, read, { mac, secret, lastSyncTime });
  }

  /** Status says Synced (answering the sync-now and allow-shrink tokens); the next refresh is planned. */
  async #synced(
    vs: VaultSecret,
    attempt: Attempt,
    target: Target,
    read: Read,
    written: { mac: string; secret: V1Secret | undefined; lastSyncTime: string | undefined },
  ): Promise<ReconcileResult> {
    const { key, now } = attempt;
    const token = syncNowToken(vs);
    const { secret, lastSyncTime } = written;
    const sourceVersions = Object.fromEntries([...read.fetched].map(([k, v]) => [k, v.version]));
    // When the data was read — earlier than now when a read was shared — so the next refresh
    // lands on the slot of the resources it was shared with (refresh.ts).
    const readAt = Math.min(now, ...[...read.fetched.values()].map((v) => v.readAt ?? now));
    this.#refreshedAt.set(key, readAt);
    const status: VaultSecretStatus = {
      ...vs.status,
      conditions: this.#readyCondition(vs, `Secret ${targetName(vs)} holds the latest data`),
      observedGeneration: vs.metadata?.generation,
      ...(token !== undefined && { syncNowHandled: tokenDigest(token) }),
      ...(read.shrinkToken !== undefined && { allowShrinkHandled: tokenDigest(read.shrinkToken) }),
      secretMAC: written.mac,
      sourceVersions,
      ...(lastSyncTime !== undefined && { lastSyncTime }),
      ...(secret?.metadata?.resourceVersion !== undefined && {
        syncedResourceVersion: secret.metadata.resourceVersion,
      }),
    };
    status.history = this.#history.next(key, vs, status, attempt.changed ? attempt.cause : undefined, now);
    // A read with no news is remembered, not written (refresh.ts); one with news records its time.
    if (!statusEqual(vs.status, status) || !vs.status?.lastRefreshTime)
      status.lastRefreshTime = formatTime(readAt);
    const wasReady = getCondition(vs.status?.conditions as Condition[] | undefined, 'Ready');
    const stored = await writing('the VaultSecret status', [], () =>
      writeStatus(this.#deps.client, vs, status),
    );
    if (stored) this.#deps.ownStatusWrites?.record(key, stored.metadata?.resourceVersion);
    this.#io.held.forget(key);
    this.#io.failures.forget(key);
    if (wasReady && wasReady.status !== 'True')
      await this.#deps.events.fact({
        type: 'SecretSynced',
        object: vs,
        reason: VaultSecretReason.Synced,
        message: 'Secret is in sync again',
        secretName: targetName(vs),
      });
    const delay = nextRefreshDelay(readAt, target.intervalMs, now, target.phase);
    return delay === undefined ? undefined : { requeueAfter: delay };
  }

  #wrote(secret: V1Secret): void {
    this.#deps.ownWrites?.record(keyOf(secret), secret.metadata?.resourceVersion);
  }

  /** Server-side apply of the Secret as ours (force: the fields are this VaultSecret's). */
  async #apply(desired: V1Secret): Promise<V1Secret> {
    const applied = await serverSideApply(this.#deps.client, desired, {
      fieldManager: FieldManager.VaultSecret,
      force: true,
    });
    // Once per Secret after an upgrade: the old shared field manager hands over, so keys it
    // alone still owns (dropped from the spec since) go now, as they would have.
    return releaseFields(this.#deps.client, applied, LEGACY_FIELD_MANAGER);
  }

  /**
   * A Secret existed where the cache had none: read it and judge it as preflight would have —
   * someone else's is refused untouched (SecretNotOwned), ours is checked for an unsafe shrink.
   */
  async #verifiedSecret(vs: VaultSecret, read: Read): Promise<V1Secret> {
    const existing = await this.#existingSecret(vs);
    // Deleted in between: a conflict again, retried with backoff like any other.
    if (!existing) throw new Error(`Secret ${targetName(vs)} changed while it was created`);
    const decision = mayWrite(vs, existing);
    if (!decision.allowed) throw new Failure(decision.reason, decision.message);
    checkShrink(vs, existing, read);
    return existing;
  }

  /** The Secret from the cache, which holds only Secrets labelled as ours. */
  #cachedSecret(vs: VaultSecret): V1Secret | undefined {
    return this.#deps.secrets.get(keyFor(vs.metadata?.namespace, targetName(vs)));
  }

  async #existingSecret(vs: VaultSecret): Promise<V1Secret | undefined> {
    // The cache holds only Secrets we wrote; a miss may still be someone else's Secret.
    return (
      this.#cachedSecret(vs) ??
      (await getObject<V1Secret>(this.#deps.client, {
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: vs.metadata?.namespace ?? '',
        name: targetName(vs),
      }))
    );
  }

  /** The MAC of status.secretMAC: bound to the namespace and the target Secret's name. */
  #secretMac(vs: VaultSecret): BoundMac {
    return this.#deps.macKeys.bind(MacUse.VaultSecret, {
      namespace: vs.metadata?.namespace ?? '',
      kind: 'Secret',
      name: targetName(vs),
    });
  }

  /**
   * Does the Secret still hold exactly what we last wrote (status.secretMAC)? `accepted`: yes,
   * by a MAC of an earlier scheme or a previous key, which is rewritten but is no drift.
   */
  #syncVerdict(vs: VaultSecret, secret: V1Secret | undefined): MacVerdict {
    const keys = managedKeys(secret);
    if (!secret || !keys || !vs.status?.secretMAC) return 'mismatch';
    const data = secretData(secret, keys);
    if (data.size !== keys.length) return 'mismatch';
    return this.#secretMac(vs).verdict(data, vs.status.secretMAC);
  }

  /**
   * What to report for an error (controllers/failure's classify). Thrown on (to the controller's
   * backoff): transient apiserver trouble, a lost leadership or a stopping controller. The Secret
   * and status writes are wrapped (`writing`): any other refused request is an InternalError.
   */
  #toFailure(err: unknown, ctx: ReconcileContext): Failure {
    const classified = classify(err, ctx.signal.aborted, {
      ...BACKEND_REASONS,
      known: (e) =>
        e instanceof TemplateError ? new Failure(VaultSecretReason.TemplateFailed, e.message) : undefined,
      refusals: 'internal',
    });
    if (classified.rethrow) throw err;
    if (classified.unexpected)
      ctx.log.error('Reconcile failed unexpectedly', { error: classified.unexpected });
    return classified.failure;
  }

  #readyCondition(vs: VaultSecret, message: string): Condition[] {
    return setCondition(
      vs.status?.conditions as Condition[] | undefined,
      {
        type: 'Ready',
        status: 'True',
        reason: VaultSecretReason.Synced,
        message,
        observedGeneration: vs.metadata?.generation,
      },
      this.#deps.clock.now(),
    );
  }
}

/** A read that would leave the Secret with none of our keys, or half of them, is refused (wipe-guard.ts). */
function checkShrink(vs: VaultSecret, existing: V1Secret | undefined, read: Read): void {
  const shrink = unsafeShrink({
    previous: existing ? (managedKeys(existing) ?? []) : [],
    next: [...read.data.keys()],
    allowEmpty: vs.spec.target?.allowEmpty === true,
    acknowledged: read.shrinkToken !== undefined,
  });
  if (shrink) throw new Failure(VaultSecretReason.UnsafeShrink, shrink);
}
