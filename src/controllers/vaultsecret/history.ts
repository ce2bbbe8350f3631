// status.history of a VaultSecret: one entry per change of the synced data (its MAC changed, or
// the first sync), newest first, spec.historyLimit long — when, what caused it, the versions read
// and the MAC, never values. A read that changes nothing adds nothing. Pure.
import {
  HISTORY_MAX_SOURCES,
  type HistoryTrigger,
  type RefreshCause,
  type VaultSecret,
  type VaultSecretHistoryEntry,
  type VaultSecretStatus,
} from '../../apis/v1alpha1/index.ts';
import { formatTime } from '../../kube/conditions.ts';
import { appendHistory, historyLimit } from '../shared/history.ts';

/** What a reconcile knows of why it read the backend. */
export interface SyncCause {
  /** No data was synced before (status.secretMAC unset). */
  first: boolean;
  /** A vaultsync.io/sync-now token is being answered. */
  syncNow: boolean;
  /** A SecretRotation asked the readers of its path to read it (requestRefresh). */
  asked: RefreshCause | undefined;
  /** refresh.ts's reason (refreshReason), or the reconciler's own ('Secret drifted'). */
  due: string | undefined;
}

/** refresh.ts's reasons as history triggers; any other reason is a refresh. */
const DUE_TRIGGERS: Readonly<Record<string, HistoryTrigger>> = {
  'spec changed': 'SpecChanged',
  'not ready': 'Retry',
  'Secret drifted': 'SecretDrift',
};

/** The trigger an entry records: what the user or a rotation asked for first, then why it was due. */
export function historyTrigger(cause: SyncCause): HistoryTrigger {
  if (cause.first) return 'FirstSync';
  if (cause.syncNow) return 'SyncNow';
  if (cause.asked !== undefined) return cause.asked;
  // Read for no reason of its own: only the Secret's metadata had drifted.
  if (cause.due === undefined) return 'SecretDrift';
  return DUE_TRIGGERS[cause.due] ?? 'Refresh';
}

/** One entry: the versions read, by path, at most HISTORY_MAX_SOURCES (the first by path) and a count. */
export function historyEntry(change: {
  time: string;
  trigger: HistoryTrigger;
  mac: string;
  sourceVersions: Readonly<Record<string, string>>;
}): VaultSecretHistoryEntry {
  const paths = Object.keys(change.sourceVersions).sort();
  const kept = paths.slice(0, HISTORY_MAX_SOURCES);
  return {
    time: change.time,
    trigger: change.trigger,
    mac: change.mac,
    ...(kept.length > 0 && {
      sourceVersions: Object.fromEntries(kept.map((p) => [p, change.sourceVersions[p]!])),
    }),
    ...(paths.length > kept.length && { omittedSources: paths.length - kept.length }),
  };
}

/**
 * The history a sync writes with `status`: an entry first when the data changed (`cause` given:
 * the status's MAC and versions), bounded by spec.historyLimit either way (a lowered limit, or 0,
 * takes effect with the next status write). `recorded`, the newest entry this process wrote, goes
 * first when the cached status does not show it yet; a change it already records is not recorded
 * again. Undefined: no history (status-write.ts removes it).
 */
export function syncHistory(
  vs: VaultSecret,
  status: VaultSecretStatus,
  cause: SyncCause | undefined,
  now: number,
  recorded?: VaultSecretHistoryEntry,
): VaultSecretHistoryEntry[] | undefined {
  const stored = vs.status?.history ?? [];
  const history = recorded && stored[0]?.mac !== recorded.mac ? [recorded, ...stored] : stored;
  const entry =
    cause &&
    status.secretMAC !== history[0]?.mac &&
    historyEntry({
      time: formatTime(now),
      trigger: historyTrigger(cause),
      mac: status.secretMAC ?? '',
      sourceVersions: status.sourceVersions ?? {},
    });
  return appendHistory(history, entry || undefined, historyLimit(vs.spec.historyLimit));
}

/**
 * The newest entry written per VaultSecret. A reconcile right after a status write may see the
 * informer's older copy (the Secret's event came first): without this it would take the change
 * for a new one and write its entry over the one just written (a rollback recorded as SecretDrift).
 */
export class HistoryMemory {
  readonly #newest = new Map<string, VaultSecretHistoryEntry>();

  /** syncHistory with what this process recorded for `key`, remembered for the next sync. */
  next(key: string, vs: VaultSecret, status: VaultSecretStatus, cause: SyncCause | undefined, now: number) {
    const history = syncHistory(vs, status, cause, now, this.#newest.get(key));
    if (history?.[0]) this.#newest.set(key, history[0]);
    else this.#newest.delete(key);
    return history;
  }

  forget(key: string): void {
    this.#newest.delete(key);
  }
}
