// Reconciles one VaultSecret: read the backend when a refresh is due or the Secret drifted,
// write the Secret only when its data or metadata differ, write status only when it changed.
// Every failure — a backend error, a spec the CRD would refuse today, data the apiserver would
// refuse, a read that would wipe the Secret, a refused write — keeps the Secret as it is and
// reports Ready=False with its reason and one Warning event; none of them hot-loops.
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret, VaultSecretStatus } from '../../apis/v1alpha1/index.ts';
import {
  API_VERSION,
  LEGACY_FIELD_MANAGER,
  UserAnnotation,
  VaultSecretReason as Reason,
  parseDuration,
  pendingToken,
  tokenDigest,
} from '../../apis/v1alpha1/index.ts';
import type { Backend, RemoteSecret } from '../../backends/types.ts';
import { type KubeClient, getObject, patchStatus, serverSideApply } from '../../kube/client.ts';
import type { Clock } from '../../kube/clock.ts';
import { type Condition, formatTime, getCondition, setCondition } from '../../kube/conditions.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import {
  Failure,
  FailureReporter,
  USER_ERROR_RETRY_MS,
  classify,
  failedConditions,
  refusedWrite,
  refusedWriteMessage,
  settle,
} from '../failure/index.ts';
import { invalidSpecMessage } from '../invalid-spec.ts';
import { addFinalizer, hasFinalizer, removeFinalizer } from '../../kube/finalizers.ts';
import { releaseFields } from '../../kube/managed-fields.ts';
import { keyFor } from '../../kube/resources.ts';
import { macEqual } from '../../secrets/hmac.ts';
import { type BoundMac, type MacKeyring, type MacVerdict, MacUse } from '../../secrets/mac-keyring.ts';
import { desiredSecretData, sourceKey, sourceRefs } from './desired-data.ts';
import { FailureHold, type HoldInput } from './failure-hold.ts';
import { mayWrite } from './ownership.ts';
import { BACKEND_REASONS } from './reasons.ts';
import { nextRefreshDelay, refreshReason } from './refresh.ts';
import { dataProblem } from './secret-limits.ts';
import {
  CLEANUP_FINALIZER,
  FIELD_MANAGER,
  OWNER_LABEL,
  needsCleanupFinalizer,
  desiredSecret,
  managedKeys,
  metadataMatches,
  secretData,
  targetName,
} from './target-secret.ts';
import { TemplateError } from './template.ts';
import { ALLOW_SHRINK_ANNOTATION, unsafeShrink } from './wipe-guard.ts';

/** Any new value asks for one read of the backend now (the HTTP API's sync trigger sets it). */
export const SYNC_NOW_ANNOTATION = UserAnnotation.SyncNow;

export interface EventSink {
  normal(obj: VaultSecret, reason: string, message: string): Promise<void>;
  warning(obj: VaultSecret, reason: string, message: string): Promise<void>;
}

/**
 * Told when the data of a VaultSecret's Secret really changed: it had synced data before
 * (status.secretMAC) and the new data differs. Never on the first sync, never for a restored
 * edit, never on an operator restart. Called before status records the new MAC, so a failed
 * status write repeats it. Must not throw.
 */
export type DataChangeListener = (
  vs: VaultSecret,
  change: { secretName: string; previousMac: string; mac: string },
) => void;

export interface VaultSecretReconcilerDeps {
  client: KubeClient;
  vaultSecrets: { get(key: string): VaultSecret | undefined };
  /** The label-filtered Secret cache (only Secrets vaultsync wrote). */
  secrets: { get(key: string): V1Secret | undefined };
  backends: { get(name: string): Backend | undefined };
  events: EventSink;
  /** status.secretMAC is bound to the namespace and target Secret (secrets/mac-keyring.ts). */
  macKeys: MacKeyring;
  clock: Clock;
  random: () => number;
  defaultRefreshIntervalMs: number;
  /** Retry delay for failures that need a user's fix (not found, denied): no hot retries. */
  userErrorRetryMs?: number;
  onDataChanged?: DataChangeListener;
  /** True (once) when a read was asked for, e.g. by a SecretRotation that wrote a new version. */
  takeRefreshRequest?: (key: string) => boolean;
  /** Failures that need a user's fix hold further backend reads (shared so deletes can forget). */
  failureHold?: FailureHold;
}

export function refreshIntervalMs(vs: VaultSecret, defaultMs: number): number {
  return vs.spec.refreshInterval === undefined ? defaultMs : parseDuration(vs.spec.refreshInterval);
}

export function createVaultSecretReconciler(deps: VaultSecretReconcilerDeps) {
  const userErrorRetryMs = deps.userErrorRetryMs ?? USER_ERROR_RETRY_MS;
  const held = deps.failureHold ?? new FailureHold();
  const failures = new FailureReporter(userErrorRetryMs);

  async function existingSecret(vs: VaultSecret): Promise<V1Secret | undefined> {
    const key = keyFor(vs.metadata?.namespace, targetName(vs));
    // The cache holds only Secrets we wrote; a miss may still be someone else's Secret.
    return (
      deps.secrets.get(key) ??
      (await getObject<V1Secret>(deps.client, {
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: vs.metadata?.namespace ?? '',
        name: targetName(vs),
      }))
    );
  }

  /** The MAC of status.secretMAC: bound to the namespace and the target Secret's name. */
  const secretMac = (vs: VaultSecret): BoundMac =>
    deps.macKeys.bind(MacUse.VaultSecret, {
      namespace: vs.metadata?.namespace ?? '',
      kind: 'Secret',
      name: targetName(vs),
    });

  /**
   * Does the Secret still hold exactly what we last wrote (status.secretMAC)? `accepted`: yes,
   * by a MAC of an earlier scheme or a previous key, which is rewritten but is no drift.
   */
  function syncVerdict(vs: VaultSecret, secret: V1Secret | undefined): MacVerdict {
    const keys = managedKeys(secret);
    if (!secret || !keys || !vs.status?.secretMAC) return 'mismatch';
    const data = secretData(secret, keys);
    if (data.size !== keys.length) return 'mismatch';
    return secretMac(vs).verdict(data, vs.status.secretMAC);
  }

  async function fetchAll(vs: VaultSecret, backend: Backend, signal: AbortSignal) {
    const ctx = { namespace: vs.metadata?.namespace ?? '', signal };
    const refs = sourceRefs(vs.spec);
    const read = await Promise.all(
      refs.map(async (ref) => [sourceKey(ref), await backend.read(ref, ctx)] as const),
    );
    return new Map<string, RemoteSecret>(read);
  }

  /**
   * What to report for an error (controllers/failure's classify). Thrown on (to the controller's
   * backoff): transient apiserver trouble, a lost leadership or a stopping controller. The Secret
   * and status writes are wrapped (`writing`): any other refused request is an InternalError.
   */
  function toFailure(err: unknown, ctx: ReconcileContext): Failure {
    const classified = classify(err, ctx.signal.aborted, {
      ...BACKEND_REASONS,
      known: (e) => (e instanceof TemplateError ? new Failure(Reason.TemplateFailed, e.message) : undefined),
      refusals: 'internal',
    });
    if (classified.rethrow) throw err;
    if (classified.unexpected)
      ctx.log.error('Reconcile failed unexpectedly', { error: classified.unexpected });
    return classified.failure;
  }

  async function writeStatus(vs: VaultSecret, status: VaultSecretStatus): Promise<void> {
    if (statusEqual(vs.status, status)) return;
    await patchStatus(
      deps.client,
      {
        apiVersion: API_VERSION,
        kind: 'VaultSecret',
        namespace: vs.metadata?.namespace ?? '',
        name: vs.metadata?.name ?? '',
      },
      status as Record<string, unknown>,
      { fieldManager: FIELD_MANAGER },
    );
  }

  function readyCondition(vs: VaultSecret, status: 'True' | 'False', reason: string, message: string) {
    return setCondition(
      vs.status?.conditions as Condition[] | undefined,
      { type: 'Ready', status, reason, message, observedGeneration: vs.metadata?.generation },
      deps.clock.now(),
    );
  }

  /**
   * Reports a failure (controllers/failure): Ready=False with its reason, one Warning event per
   * change. A failure after a backend read that needs a user's fix holds further reads (`hold`).
   * When the apiserver refuses the status patch itself, the event and the log still say so, and
   * nothing loops.
   */
  async function fail(
    vs: VaultSecret,
    failure: Failure,
    log: ReconcileContext['log'],
    hold?: HoldInput,
  ): Promise<ReconcileResult> {
    const key = keyFor(vs.metadata?.namespace, vs.metadata?.name ?? '');
    const previous = getCondition(vs.status?.conditions as Condition[] | undefined, 'Ready');
    const token = syncNowToken(vs);
    const { stored, retry } = await failures.report({
      key,
      failure,
      previous,
      warn: (reason, message) => deps.events.warning(vs, reason, message),
      record: async () => {
        try {
          await writeStatus(vs, {
            ...vs.status,
            conditions: failedConditions(
              vs.status?.conditions as Condition[] | undefined,
              failure,
              vs.metadata?.generation,
              deps.clock.now(),
            ),
            observedGeneration: vs.metadata?.generation,
            ...(token !== undefined && { syncNowHandled: tokenDigest(token) }),
          });
          return { stored: true };
        } catch (err) {
          const refused = refusedWrite(err);
          if (!refused) throw err;
          log.error('Status update refused', { reason: failure.reason, error: refused.message });
          const note = refusedWriteMessage('the VaultSecret status', refused);
          return { stored: false, note: `the status could not record it: ${note}` };
        }
      },
    });
    if (!stored) {
      // The status still shows what it showed before: that is what the hold waits on.
      if (hold) held.hold(key, hold, deps.clock.now() + userErrorRetryMs, previous?.reason);
      return { requeueAfter: userErrorRetryMs };
    }
    const result = settle(failure, retry);
    if (hold) held.hold(key, hold, deps.clock.now() + userErrorRetryMs, failure.reason);
    return result;
  }

  /**
   * Merge + Delete: on deletion, take back only the keys, labels and annotations we applied
   * (an empty apply by our field manager drops what it owned), then release the VaultSecret.
   * Owner + Delete needs nothing here: the owner reference lets the garbage collector act.
   */
  async function finalize(vs: VaultSecret): Promise<void> {
    if (!hasFinalizer(vs, CLEANUP_FINALIZER)) return;
    const existing = await existingSecret(vs);
    if (
      needsCleanupFinalizer(vs) &&
      existing?.metadata?.labels?.[OWNER_LABEL] === vs.metadata?.name &&
      mayWrite(vs, existing).allowed
    ) {
      const emptied = await serverSideApply(
        deps.client,
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: targetName(vs), namespace: vs.metadata?.namespace },
        },
        { fieldManager: FIELD_MANAGER, force: true },
      );
      // Keys merged before the controllers had their own field managers.
      await releaseFields(deps.client, emptied, LEGACY_FIELD_MANAGER);
    }
    await removeFinalizer(deps.client, vs, CLEANUP_FINALIZER, { fieldManager: FIELD_MANAGER });
  }

  /** What the user controls about a read: a change lets a held read go ahead at once. */
  const holdInput = (vs: VaultSecret, existing: V1Secret | undefined): HoldInput => ({
    generation: vs.metadata?.generation,
    syncNow: vs.metadata?.annotations?.[SYNC_NOW_ANNOTATION],
    allowShrink: vs.metadata?.annotations?.[ALLOW_SHRINK_ANNOTATION],
    secretVersion: existing?.metadata?.resourceVersion,
  });

  /** A write the apiserver refused for good becomes SecretWriteFailed; anything else is rethrown. */
  async function writing<T>(what: string, values: Iterable<Buffer>, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      const refused = refusedWrite(err);
      if (!refused) throw err;
      throw new Failure(Reason.SecretWriteFailed, refusedWriteMessage(what, refused, values));
    }
  }

  return async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const vs = deps.vaultSecrets.get(key);
    if (!vs) {
      held.forget(key);
      failures.forget(key);
      return;
    }
    if (vs.metadata?.deletionTimestamp) return void (await finalize(vs));
    const now = deps.clock.now();
    // Set once the backend is read: a failure from there on holds further reads.
    let hold: HoldInput | undefined;
    try {
      // The CRD's rules again: an object stored before a CRD upgrade or past CEL is refused here.
      const invalid = invalidSpecMessage('VaultSecret', vs.spec);
      if (invalid !== undefined) throw new Failure(Reason.InvalidSpec, invalid);
      if (needsCleanupFinalizer(vs) && !hasFinalizer(vs, CLEANUP_FINALIZER)) {
        // The informer delivers the updated object and wakes this key again.
        await addFinalizer(deps.client, vs, CLEANUP_FINALIZER, { fieldManager: FIELD_MANAGER });
        return;
      }
      const intervalMs = refreshIntervalMs(vs, deps.defaultRefreshIntervalMs);
      const backend = deps.backends.get(vs.spec.backend);
      if (!backend) {
        throw new Failure(
          Reason.BackendNotFound,
          `backend "${vs.spec.backend}" is not in the operator configuration`,
        );
      }
      const existing = await existingSecret(vs);
      const decision = mayWrite(vs, existing);
      if (!decision.allowed) throw new Failure(decision.reason, decision.message);

      const token = syncNowToken(vs);
      const requested = (deps.takeRefreshRequest?.(key) ?? false) || token !== undefined;
      const verdict = syncVerdict(vs, existing);
      const due =
        refreshReason(vs, intervalMs, now) ??
        (requested ? 'refresh requested' : undefined) ??
        (verdict === 'mismatch' ? 'Secret drifted' : undefined);
      if (
        !due &&
        existing &&
        metadataMatches(existing, desiredSecret(vs, secretData(existing, managedKeys(existing) ?? [])))
      ) {
        if (verdict === 'accepted') {
          // Written before an upgrade or a key rotation: the status gets the current MAC, once;
          // the Secret is not written and nothing restarts (the data did not change).
          const mac = secretMac(vs).mac(secretData(existing, managedKeys(existing) ?? []));
          await writeStatus(vs, { ...vs.status, secretMAC: mac });
        }
        const delay = nextRefreshDelay(Date.parse(vs.status!.lastRefreshTime!), intervalMs, now, deps.random);
        return delay === undefined ? undefined : { requeueAfter: delay };
      }
      const input = holdInput(vs, existing);
      const shown = getCondition(vs.status?.conditions as Condition[] | undefined, 'Ready')?.reason;
      const waiting = requested ? undefined : held.remaining(key, input, now, shown);
      if (waiting !== undefined) {
        ctx.log.debug('Backend read held after a failure that needs a fix', { retryInMs: waiting });
        return { requeueAfter: waiting };
      }
      ctx.log.debug('Reading backend', { backend: backend.name, why: due ?? 'metadata drifted' });

      hold = input;
      const fetched = await fetchAll(vs, backend, ctx.signal);
      const data = desiredSecretData(vs.spec, fetched).reveal();
      // What the apiserver would refuse, and what would wipe the Secret: refused before the apply.
      const problem = dataProblem(data);
      if (problem) throw new Failure(problem.reason, problem.message);
      const shrinkToken = pendingToken(
        vs.metadata?.annotations?.[ALLOW_SHRINK_ANNOTATION],
        vs.status?.allowShrinkHandled,
      );
      const shrink = unsafeShrink({
        previous: existing ? (managedKeys(existing) ?? []) : [],
        next: [...data.keys()],
        allowEmpty: vs.spec.target?.allowEmpty === true,
        acknowledged: shrinkToken !== undefined,
      });
      if (shrink) throw new Failure(Reason.UnsafeShrink, shrink);
      const macs = secretMac(vs);
      const mac = macs.mac(data);
      const desired = desiredSecret(vs, data);
      let secret = existing;
      let lastSyncTime = vs.status?.lastSyncTime;
      const unchanged =
        existing !== undefined &&
        macEqual(mac, macs.mac(secretData(existing, [...data.keys()]))) &&
        metadataMatches(existing, desired) &&
        (managedKeys(existing) ?? []).length === data.size;
      if (!unchanged) {
        secret = await writing(`Secret ${targetName(vs)}`, data.values(), async () => {
          const applied = await serverSideApply(deps.client, desired, {
            fieldManager: FIELD_MANAGER,
            force: true,
          });
          // Once per Secret after an upgrade: the old shared field manager hands over, so keys it
          // alone still owns (dropped from the spec since) go now, as they would have.
          return releaseFields(deps.client, applied, LEGACY_FIELD_MANAGER);
        });
        lastSyncTime = formatTime(now);
        const verb = existing ? 'Updated' : 'Created';
        ctx.log.info(`${verb} Secret`, { secret: targetName(vs), keys: data.size });
        await deps.events.normal(
          vs,
          verb === 'Created' ? 'SecretCreated' : 'SecretUpdated',
          `${verb} Secret ${targetName(vs)}`,
        );
      }
      const previousMac = vs.status?.secretMAC;
      // A MAC of an earlier scheme or key for the same data is no change (nothing restarts).
      if (previousMac !== undefined && macs.verdict(data, previousMac) === 'mismatch') {
        deps.onDataChanged?.(vs, { secretName: targetName(vs), previousMac, mac });
      }
      const sourceVersions = Object.fromEntries([...fetched].map(([k, v]) => [k, v.version]));
      const status: VaultSecretStatus = {
        ...vs.status,
        conditions: readyCondition(
          vs,
          'True',
          Reason.Synced,
          `Secret ${targetName(vs)} holds the latest data`,
        ),
        observedGeneration: vs.metadata?.generation,
        lastRefreshTime: formatTime(now),
        ...(token !== undefined && { syncNowHandled: tokenDigest(token) }),
        ...(shrinkToken !== undefined && { allowShrinkHandled: tokenDigest(shrinkToken) }),
        secretMAC: mac,
        sourceVersions,
        ...(lastSyncTime !== undefined && { lastSyncTime }),
        ...(secret?.metadata?.resourceVersion !== undefined && {
          syncedResourceVersion: secret.metadata.resourceVersion,
        }),
      };
      const wasReady = getCondition(vs.status?.conditions as Condition[] | undefined, 'Ready');
      await writing('the VaultSecret status', [], () => writeStatus(vs, status));
      held.forget(key);
      failures.forget(key);
      if (wasReady && wasReady.status !== 'True')
        await deps.events.normal(vs, Reason.Synced, 'Secret is in sync again');
      const delay = nextRefreshDelay(now, intervalMs, now, deps.random);
      return delay === undefined ? undefined : { requeueAfter: delay };
    } catch (err) {
      return fail(vs, toFailure(err, ctx), ctx.log, hold);
    }
  };
}

/** The vaultsync.io/sync-now value not answered yet, if any. */
export function syncNowToken(vs: VaultSecret): string | undefined {
  return pendingToken(vs.metadata?.annotations?.[SYNC_NOW_ANNOTATION], vs.status?.syncNowHandled);
}

/** Status equality that ignores key order (a no-op reconcile must not write). */
export function statusEqual(a: VaultSecretStatus | undefined, b: VaultSecretStatus | undefined): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)))
      : v,
  );
}
