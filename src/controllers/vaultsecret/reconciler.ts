// Reconciles one VaultSecret: read the backend when a refresh is due or the Secret drifted,
// write the Secret only when its data or metadata differ, write status only when it changed.
// A backend failure keeps the Secret as it is and reports Ready=False.
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret, VaultSecretStatus } from '../../apis/v1alpha1/index.ts';
import { API_VERSION, LEGACY_FIELD_MANAGER, parseDuration } from '../../apis/v1alpha1/index.ts';
import { BackendError } from '../../backends/errors.ts';
import type { Backend, RemoteSecret } from '../../backends/types.ts';
import { type KubeClient, getObject, patchStatus, serverSideApply } from '../../kube/client.ts';
import type { Clock } from '../../kube/clock.ts';
import { type Condition, formatTime, getCondition, setCondition } from '../../kube/conditions.ts';
import { RetryAfterError, type ReconcileContext, type ReconcileResult } from '../../kube/controller.ts';
import { addFinalizer, hasFinalizer, removeFinalizer } from '../../kube/finalizers.ts';
import { releaseFields } from '../../kube/managed-fields.ts';
import { keyFor } from '../../kube/resources.ts';
import { macEqual } from '../../secrets/hmac.ts';
import { type BoundMac, type MacKeyring, type MacVerdict, MacUse } from '../../secrets/mac-keyring.ts';
import { desiredSecretData, sourceKey, sourceRefs } from './desired-data.ts';
import { mayWrite } from './ownership.ts';
import { Reason, reasonForBackendError } from './reasons.ts';
import { nextRefreshDelay, refreshReason } from './refresh.ts';
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

/** Any new value asks for one read of the backend now (the HTTP API's sync trigger sets it). */
export const SYNC_NOW_ANNOTATION = 'vaultsync.io/sync-now';

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
}

/** A failure to report on the resource; `transient` ones are retried with backoff. */
class SyncFailure extends Error {
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

export function refreshIntervalMs(vs: VaultSecret, defaultMs: number): number {
  return vs.spec.refreshInterval === undefined ? defaultMs : parseDuration(vs.spec.refreshInterval);
}

export function createVaultSecretReconciler(deps: VaultSecretReconcilerDeps) {
  const userErrorRetryMs = deps.userErrorRetryMs ?? 5 * 60_000;

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

  function toFailure(err: unknown): SyncFailure {
    if (err instanceof SyncFailure) return err;
    if (err instanceof BackendError) {
      return new SyncFailure(reasonForBackendError(err.code), err.message, err.transient, err.retryAfterMs);
    }
    if (err instanceof TemplateError) return new SyncFailure(Reason.TemplateFailed, err.message, false);
    throw err; // not ours to classify: the controller retries it with backoff
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

  async function fail(vs: VaultSecret, failure: SyncFailure): Promise<ReconcileResult> {
    const previous = getCondition(vs.status?.conditions as Condition[] | undefined, 'Ready');
    const conditions = readyCondition(vs, 'False', failure.reason, failure.message);
    const token = syncNowToken(vs);
    await writeStatus(vs, {
      ...vs.status,
      conditions,
      observedGeneration: vs.metadata?.generation,
      ...(token !== undefined && { syncNowHandled: token }),
    });
    if (
      previous?.status !== 'False' ||
      previous.reason !== failure.reason ||
      previous.message !== failure.message
    ) {
      await deps.events.warning(vs, failure.reason, failure.message);
    }
    if (failure.retryAfterMs !== undefined) throw new RetryAfterError(failure.message, failure.retryAfterMs);
    if (failure.transient) throw failure;
    return { requeueAfter: userErrorRetryMs };
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

  return async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const vs = deps.vaultSecrets.get(key);
    if (!vs) return;
    if (vs.metadata?.deletionTimestamp) return void (await finalize(vs));
    if (needsCleanupFinalizer(vs) && !hasFinalizer(vs, CLEANUP_FINALIZER)) {
      // The informer delivers the updated object and wakes this key again.
      await addFinalizer(deps.client, vs, CLEANUP_FINALIZER, { fieldManager: FIELD_MANAGER });
      return;
    }
    const now = deps.clock.now();
    const intervalMs = refreshIntervalMs(vs, deps.defaultRefreshIntervalMs);
    try {
      const backend = deps.backends.get(vs.spec.backend);
      if (!backend) {
        throw new SyncFailure(
          Reason.BackendNotFound,
          `backend "${vs.spec.backend}" is not in the operator configuration`,
          false,
        );
      }
      const existing = await existingSecret(vs);
      const decision = mayWrite(vs, existing);
      if (!decision.allowed) throw new SyncFailure(decision.reason, decision.message, false);

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
      ctx.log.debug('Reading backend', { backend: backend.name, why: due ?? 'metadata drifted' });

      const fetched = await fetchAll(vs, backend, ctx.signal);
      const data = desiredSecretData(vs.spec, fetched).reveal();
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
        const applied = await serverSideApply(deps.client, desired, {
          fieldManager: FIELD_MANAGER,
          force: true,
        });
        // Once per Secret after an upgrade: the old shared field manager hands over, so keys it
        // alone still owns (dropped from the spec since) go now, as they would have.
        secret = await releaseFields(deps.client, applied, LEGACY_FIELD_MANAGER);
        lastSyncTime = formatTime(now);
        const verb = existing ? 'Updated' : 'Created';
        ctx.log.info(`${verb} Secret`, { target: targetName(vs), keys: data.size });
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
        ...(token !== undefined && { syncNowHandled: token }),
        secretMAC: mac,
        sourceVersions,
        ...(lastSyncTime !== undefined && { lastSyncTime }),
        ...(secret?.metadata?.resourceVersion !== undefined && {
          syncedResourceVersion: secret.metadata.resourceVersion,
        }),
      };
      const wasReady = getCondition(vs.status?.conditions as Condition[] | undefined, 'Ready');
      await writeStatus(vs, status);
      if (wasReady && wasReady.status !== 'True')
        await deps.events.normal(vs, Reason.Synced, 'Secret is in sync again');
      const delay = nextRefreshDelay(now, intervalMs, now, deps.random);
      return delay === undefined ? undefined : { requeueAfter: delay };
    } catch (err) {
      return fail(vs, toFailure(err));
    }
  };
}

/** The vaultsync.io/sync-now value not answered yet, if any. */
export function syncNowToken(vs: VaultSecret): string | undefined {
  const token = vs.metadata?.annotations?.[SYNC_NOW_ANNOTATION];
  return token !== undefined && token !== '' && token !== vs.status?.syncNowHandled ? token : undefined;
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
