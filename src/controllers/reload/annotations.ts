// The annotations the reload controller reads and writes, and the records they hold. Pure.
//
// On a workload (metadata, never rolls anything out):
//   vaultsync.io/pending-restart  a restart owed to it (JSON, `PendingRestart`), as releases
//                                 before issue 14 wrote it. No longer written (pending restarts
//                                 live in the operator's namespace: pending-store.ts); one left
//                                 by an upgrade is read and removed by the restart itself.
//   vaultsync.io/restarted-at     when vaultsync last restarted it (RFC 3339, ms)
//   vaultsync.io/restart-group    who asked for that restart ("VaultSecret/db", "SecretRotation/x"):
//                                 at most maxUnavailableTargets of one group roll at once
//   vaultsync.io/pods-secrets-hmac  AnnotatePods mode: the digests last written onto its pods
// On its pod template (a change of it is the rollout):
//   vaultsync.io/secrets-hmac     "<secret>=<digest>,...": a keyed digest of the data of each
//                                 Secret the pods were restarted for, bound to the workload
//                                 (workloadDigest). Patching the same value again changes
//                                 nothing, so a repeated restart is a no-op.
// Set by users on a workload:
//   vaultsync.io/reload: "true"          restart when any managed Secret it references changes
//   vaultsync.io/reload-secrets: "a,b"   restart when one of these managed Secrets changes
//   vaultsync.io/reload-debounce: "10s"  wait for further changes this long (default 10s)
//   vaultsync.io/reload-min-interval: "5m"  at least this long between two restarts (default 0)

import { type MacKeyring, MacUse } from '../../secrets/mac-keyring.ts';
import type { Digests } from '../shared/digests.ts';

// The annotation names are the vocabulary's: OperatorAnnotation and UserAnnotation (apis/v1alpha1).

const MAC_PREFIX = /^hmac-sha256:v\d+:/;
/** Characters of the MAC in a workload digest: 132 bits. */
const WORKLOAD_DIGEST_LENGTH = 22;
const MAX_ENTRIES = 64;
const MAX_REASONS = 5;

/** A workload as a MAC subject. */
export interface DigestSubject {
  namespace: string;
  kind: string;
  name: string;
}

/**
 * The digest written onto a workload (pod template, Rollout metadata, pods) for a Secret's data:
 * `<keyId>.<mac>`, a keyed MAC bound to the workload (namespace, kind, name), the Secret's name
 * and the data's token (`macDigest`). Equal data gives unrelated digests on two workloads, so a
 * reader of workloads learns nothing about which Secrets hold equal values.
 */
export function workloadDigest(
  keys: MacKeyring,
  workload: DigestSubject,
  secret: string,
  token: string,
): string {
  const mac = keys.mac(
    MacUse.PodTemplate,
    { namespace: workload.namespace, kind: workload.kind, name: workload.name },
    { [secret]: Buffer.from(token, 'utf8') },
  );
  return `${keys.keyId}.${mac.replace(MAC_PREFIX, '').slice(0, WORKLOAD_DIGEST_LENGTH)}`;
}

/** Tokens (`macDigest`) → the digests of one workload. */
export function workloadDigests(keys: MacKeyring, workload: DigestSubject, tokens: Digests): Digests {
  return Object.fromEntries(
    Object.entries(tokens).map(([secret, token]) => [secret, workloadDigest(keys, workload, secret, token)]),
  );
}

/** Parses "a=x,b=y" (unknown or broken entries are dropped). */
export function parseDigests(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (value ?? '').split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** "a=x,b=y", sorted by name, so the same digests always give the same annotation. */
export function formatDigests(digests: Digests): string {
  return Object.entries(digests)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .slice(0, MAX_ENTRIES)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Does `applied` already hold every digest of `wanted` (non-empty)? */
export function digestsApplied(applied: Digests, wanted: Digests): boolean {
  const entries = Object.entries(wanted);
  return entries.length > 0 && entries.every(([k, v]) => applied[k] === v);
}

/**
 * `digestsApplied`, except that a digest which cannot be checked — written before an upgrade
 * (the v1 form) or with a MAC key since rotated out (another key id) — counts when the workload
 * was restarted at or after the data was written (`writtenAt`, epoch ms per entry). Without
 * this, an upgrade or a key rotation would restart the consumers of a settled rotation again.
 */
export function digestsAppliedSince(
  applied: Digests,
  wanted: Digests,
  keyId: string,
  restartedAt: number,
  writtenAt: Readonly<Record<string, number>> = {},
): boolean {
  const entries = Object.entries(wanted);
  return (
    entries.length > 0 &&
    entries.every(([k, v]) => {
      const have = applied[k];
      if (have === v) return true;
      const at = writtenAt[k];
      return (
        have !== undefined &&
        !have.startsWith(`${keyId}.`) &&
        at !== undefined &&
        Number.isFinite(restartedAt) &&
        restartedAt >= at
      );
    })
  );
}

/** A restart owed to a workload. Times are epoch milliseconds. */
export interface PendingRestart {
  /** Secret (or `SecretRotation.<name>`) → digest of the data the pods must get. */
  secrets: Record<string, string>;
  /** First change of this burst. */
  first: number;
  /** Latest change of this burst (the debounce counts from here). */
  last: number;
  /** Concurrency group ("VaultSecret/db", "SecretRotation/x"). */
  group: string;
  /** SecretRotation whose `restart` settings apply, if any. */
  rotation?: string;
  /** Why, for events ("Secret db changed"); the latest few. */
  reasons: string[];
}

/** One change to add to a workload's pending restart. */
export interface PendingAddition {
  secrets: Digests;
  at: number;
  group: string;
  rotation?: string;
  reason: string;
}

export function parsePending(value: string | undefined): PendingRestart | undefined {
  if (!value) return undefined;
  try {
    const raw = JSON.parse(value) as Record<string, unknown>;
    const secrets =
      raw.secrets && typeof raw.secrets === 'object' && !Array.isArray(raw.secrets)
        ? Object.fromEntries(
            Object.entries(raw.secrets as Record<string, unknown>).filter(
              (e): e is [string, string] => typeof e[1] === 'string',
            ),
          )
        : {};
    const time = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : NaN);
    const first = time(raw.first);
    const last = time(raw.last);
    return {
      secrets,
      first: Number.isFinite(first) ? first : 0,
      last: Number.isFinite(last) ? last : Number.isFinite(first) ? first : 0,
      group: typeof raw.group === 'string' ? raw.group : 'unknown',
      ...(typeof raw.rotation === 'string' && { rotation: raw.rotation }),
      reasons: Array.isArray(raw.reasons) ? raw.reasons.filter((r) => typeof r === 'string').slice(-5) : [],
    };
  } catch {
    // Not ours to interpret: a restart is still owed (someone wrote the annotation), with no detail.
    return { secrets: {}, first: 0, last: 0, group: 'unknown', reasons: [] };
  }
}

export function formatPending(p: PendingRestart): string {
  return JSON.stringify({
    secrets: Object.fromEntries(Object.entries(p.secrets).sort(([a], [b]) => (a < b ? -1 : 1))),
    first: new Date(p.first).toISOString(),
    last: new Date(p.last).toISOString(),
    group: p.group,
    ...(p.rotation !== undefined && { rotation: p.rotation }),
    reasons: p.reasons,
  });
}

/**
 * Does the addition only repeat what the pending restart already holds — the same digests, no
 * SecretRotation joining? The same data signalled twice (a reconcile that saw the status before
 * its own write) is no new change: it must not push the debounce later nor rewrite the record.
 */
function repeats(p: PendingRestart, a: PendingAddition): boolean {
  const entries = Object.entries(a.secrets);
  return (
    entries.length > 0 &&
    entries.every(([k, v]) => p.secrets[k] === v) &&
    (a.rotation === undefined || p.rotation !== undefined)
  );
}

/**
 * Adds changes to a pending restart. The first writer's group stays unless a SecretRotation
 * joins: its restart settings (windows, concurrency) then apply to the whole burst. A change
 * that repeats what is already pending adds nothing.
 */
export function mergePending(
  current: PendingRestart | undefined,
  additions: readonly PendingAddition[],
): PendingRestart | undefined {
  let out = current && { ...current, secrets: { ...current.secrets }, reasons: [...current.reasons] };
  for (const a of additions) {
    if (out && repeats(out, a)) continue;
    if (!out) {
      out = { secrets: {}, first: a.at, last: a.at, group: a.group, reasons: [] };
    }
    Object.assign(out.secrets, a.secrets);
    out.first = Math.min(out.first || a.at, a.at);
    out.last = Math.max(out.last, a.at);
    if (a.rotation !== undefined && out.rotation === undefined) {
      out.rotation = a.rotation;
      out.group = a.group;
    }
    if (!out.reasons.includes(a.reason)) out.reasons = [...out.reasons, a.reason].slice(-MAX_REASONS);
  }
  return out;
}
