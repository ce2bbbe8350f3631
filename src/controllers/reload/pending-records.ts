// Pending restarts as the operator keeps them in its own namespace: one data key per workload in
// the ConfigMap `vaultsync-pending-restarts` (pending-store.ts), so recording a change never
// writes the workload — the workload is written once, by the restart itself. Pure.
//
// A record is JSON: the workload ("<namespace>/<Kind>/<name>"), the pending restart as
// `formatPending` writes it, and a keyed MAC over both (MacUse.PendingRestart, bound to the
// workload). Whoever may write ConfigMaps in the operator's namespace could otherwise have any
// workload of the cluster restarted; a record without the operator's MAC is ignored.
import { createHash } from 'node:crypto';
import { type MacKeyring, MacUse } from '../../secrets/mac-keyring.ts';
import {
  type PendingAddition,
  type PendingRestart,
  formatPending,
  mergePending,
  parsePending,
} from './annotations.ts';
import type { WorkloadRef } from '../contracts.ts';
import { parseWorkloadKey } from './workloads.ts';
import { workloadKey } from '../shared/workloads.ts';

/** The ConfigMap in the operator's namespace holding every pending restart. */
export const PENDING_CONFIGMAP = 'vaultsync-pending-restarts';

/** ConfigMap data keys: at most 253 characters of [-._a-zA-Z0-9]. */
const MAX_DATA_KEY = 253;
const MAX_REASONS = 5;

/**
 * The data key of a workload's record: "<namespace>.<Kind>.<name>" (a namespace and a kind hold
 * no dot, so it reads back unambiguously), or, when that is too long for a data key,
 * "<namespace>.<Kind>.<sha256 of the name>" (the record itself names the workload).
 */
export function recordKey(ref: WorkloadRef): string {
  const plain = `${ref.namespace}.${ref.kind}.${ref.name}`;
  if (plain.length <= MAX_DATA_KEY) return plain;
  return `${ref.namespace}.${ref.kind}.${createHash('sha256').update(ref.name).digest('hex')}`;
}

const macOf = (keys: MacKeyring, ref: WorkloadRef, pending: string) =>
  keys.mac(
    MacUse.PendingRestart,
    { namespace: ref.namespace, kind: ref.kind, name: ref.name },
    { pending: Buffer.from(pending, 'utf8') },
  );

/** The stored form of a workload's pending restart. */
export function encodeRecord(keys: MacKeyring, ref: WorkloadRef, pending: PendingRestart): string {
  const text = formatPending(pending);
  return JSON.stringify({ workload: workloadKey(ref), pending: text, mac: macOf(keys, ref, text) });
}

export type DecodedRecord =
  | { ok: true; ref: WorkloadRef; pending: PendingRestart }
  /** Not a record, or not made by this operator's key (current or previous): ignored. */
  | { ok: false; why: 'Malformed' | 'BadMac' };

/** Reads a stored record back; `dataKey` must be the key it is stored under. */
export function decodeRecord(keys: MacKeyring, dataKey: string, value: string): DecodedRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return { ok: false, why: 'Malformed' };
  }
  const { workload, pending, mac } = (raw ?? {}) as Record<string, unknown>;
  if (typeof workload !== 'string' || typeof pending !== 'string' || typeof mac !== 'string') {
    return { ok: false, why: 'Malformed' };
  }
  const ref = parseWorkloadKey(workload);
  if (!ref || recordKey(ref) !== dataKey) return { ok: false, why: 'Malformed' };
  const accepted = keys.accepts(
    MacUse.PendingRestart,
    { namespace: ref.namespace, kind: ref.kind, name: ref.name },
    { pending: Buffer.from(pending, 'utf8') },
    mac,
  );
  if (!accepted) return { ok: false, why: 'BadMac' };
  const parsed = parsePending(pending);
  if (!parsed || parsed.first === 0) return { ok: false, why: 'Malformed' };
  return { ok: true, ref, pending: parsed };
}

/**
 * Two records of one workload as one (the stored record and an old `vaultsync.io/pending-restart`
 * annotation left by an earlier release): every Secret (the later record's digest where both
 * name one), the earliest first and latest last change, the SecretRotation of either (its
 * restart settings apply to the whole burst), the latest few reasons.
 */
export function combinePending(
  a: PendingRestart | undefined,
  b: PendingRestart | undefined,
): PendingRestart | undefined {
  if (!a || !b) return a ?? b;
  const [older, newer] = a.last <= b.last ? [a, b] : [b, a];
  const rotation = newer.rotation ?? older.rotation;
  const known = (t: number) => t > 0;
  const firsts = [a.first, b.first].filter(known);
  return {
    secrets: { ...older.secrets, ...newer.secrets },
    first: firsts.length > 0 ? Math.min(...firsts) : 0,
    last: Math.max(a.last, b.last),
    group: newer.rotation !== undefined || older.rotation === undefined ? newer.group : older.group,
    ...(rotation !== undefined && { rotation }),
    reasons: [...new Set([...older.reasons, ...newer.reasons])].slice(-MAX_REASONS),
  };
}

/** Would storing `next` change what is stored (`current`)? Nothing is written when not. */
export function recordChanged(current: PendingRestart | undefined, next: PendingRestart): boolean {
  return current === undefined || formatPending(current) !== formatPending(next);
}

/**
 * What a workload is owed: its stored record, an old annotation an earlier release left on it,
 * and the changes not stored yet. Undefined: nothing.
 */
export function owedRestart(
  stored: PendingRestart | undefined,
  legacyAnnotation: string | undefined,
  unsaved: readonly PendingAddition[],
): PendingRestart | undefined {
  return mergePending(combinePending(stored, parsePending(legacyAnnotation)), unsaved);
}
