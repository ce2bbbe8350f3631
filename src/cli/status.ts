// `kubectl vaultsync status`: one row per VaultSecret, VaultCertificate and SecretRotation with
// Ready, its reason, when it last synced and when it will next refresh, renew or rotate. Pure:
// the command lists, these functions decide what each row says.
import {
  KINDS,
  VAULT_SECRET_DEFAULTS,
  isDuration,
  parseDuration,
  type Condition,
  type Kind,
  type VaultSyncResource,
} from '../apis/v1alpha1/index.ts';
import type { Cluster } from './cluster.ts';
import { type OutputFormat, formatDocument, formatTable, relativeTime } from './output.ts';

export interface StatusRow {
  kind: Kind;
  namespace: string;
  name: string;
  /** Status of the Ready condition: True, False or Unknown (no condition yet). */
  ready: string;
  reason: string;
  message: string;
  /** Last successful read (VaultSecret), issuance (VaultCertificate) or rotation (SecretRotation). */
  lastSync?: string;
  /** What happens next and when: a refresh, a renewal or a rotation. */
  next?: { what: 'refresh' | 'renewal' | 'rotation'; at?: string; note?: string };
}

export function readyCondition(obj: VaultSyncResource): Condition | undefined {
  return obj.status?.conditions?.find((c) => c.type === 'Ready');
}

/** The row of one resource; `now` only to tell a past refresh time from a future one. */
export function statusRow(obj: VaultSyncResource, now: number): StatusRow {
  const ready = readyCondition(obj);
  return {
    kind: obj.kind,
    namespace: obj.metadata.namespace ?? '',
    name: obj.metadata.name ?? '',
    ready: ready?.status ?? 'Unknown',
    reason: ready?.reason ?? '',
    message: ready?.message ?? '',
    ...lastAndNext(obj, now),
  };
}

function lastAndNext(obj: VaultSyncResource, now: number): Pick<StatusRow, 'lastSync' | 'next'> {
  switch (obj.kind) {
    case 'VaultSecret': {
      const last = obj.status?.lastRefreshTime;
      const interval = obj.spec.refreshInterval ?? VAULT_SECRET_DEFAULTS.refreshInterval;
      return { ...(last && { lastSync: last }), next: nextRefresh(last, interval, now) };
    }
    case 'VaultCertificate': {
      const at = obj.status?.renewalTime;
      return {
        ...(obj.status?.notBefore && { lastSync: obj.status.notBefore }),
        next: { what: 'renewal', ...(at && { at }) },
      };
    }
    case 'SecretRotation': {
      const at = obj.status?.nextRotationTime;
      return {
        ...(obj.status?.lastRotationTime && { lastSync: obj.status.lastRotationTime }),
        next: {
          what: 'rotation',
          ...(at && { at }),
          ...(obj.spec.suspend === true && { note: 'suspended' }),
        },
      };
    }
  }
}

/**
 * The latest time of the next refresh: the operator reads again at a random point between 90%
 * and 100% of the interval after the last read (controllers/vaultsecret/refresh.ts).
 */
export function nextRefresh(
  lastRefresh: string | undefined,
  interval: string,
  now: number,
): StatusRow['next'] {
  if (!isDuration(interval)) return { what: 'refresh', note: `invalid refreshInterval ${interval}` };
  const ms = parseDuration(interval);
  if (ms === 0) return { what: 'refresh', note: 'never (refreshInterval 0: sync once)' };
  const last = lastRefresh === undefined ? NaN : Date.parse(lastRefresh);
  if (!Number.isFinite(last)) return { what: 'refresh', note: 'not read yet' };
  // Status records reads that brought news; the operator reads at least once an interval.
  if (last + ms <= now) return { what: 'refresh', note: `within ${interval}` };
  return { what: 'refresh', at: new Date(last + ms).toISOString() };
}

/** `in 47m`, `3m ago` (overdue), or the note. */
export function describeNext(next: StatusRow['next'], now: number): string {
  if (!next) return '-';
  if (next.note && !next.at) return next.note;
  const when = relativeTime(next.at, now);
  return next.note ? `${when} (${next.note})` : when;
}

const HEADERS = ['kind', 'name', 'ready', 'reason', 'last sync', 'next'];

export function formatStatus(
  rows: readonly StatusRow[],
  format: OutputFormat,
  now: number,
  allNamespaces: boolean,
) {
  if (format !== 'table') return formatDocument({ items: rows }, format);
  if (rows.length === 0) return 'No vaultsync resources found.\n';
  const cells = rows.map((r) => [
    ...(allNamespaces ? [r.namespace] : []),
    r.kind,
    r.name,
    r.ready,
    r.reason,
    relativeTime(r.lastSync, now),
    r.next ? `${r.next.what} ${describeNext(r.next, now)}` : '-',
  ]);
  return formatTable(allNamespaces ? ['namespace', ...HEADERS] : HEADERS, cells);
}

/** Rows of every kind in one namespace (or all, with `namespace` undefined), sorted. */
export async function collectStatus(
  cluster: Cluster,
  namespace: string | undefined,
  now = Date.now(),
): Promise<StatusRow[]> {
  // Listed together; a refusal is reported for the first kind in KINDS order, the same every run.
  const settled = await Promise.allSettled(KINDS.map((kind) => cluster.list(kind, namespace)));
  const refused = settled.find((r) => r.status === 'rejected');
  if (refused) throw refused.reason;
  return settled
    .flatMap((r) => (r.status === 'fulfilled' ? r.value : []))
    .map((obj) => statusRow(obj, now))
    .sort(
      (a, b) =>
        a.namespace.localeCompare(b.namespace) ||
        KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) ||
        a.name.localeCompare(b.name),
    );
}
