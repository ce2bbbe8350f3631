// The statuses a SecretRotation goes through, built from the one before. Pure: each builder
// returns a new status (conditions set with their transition times); writing it is status-write.ts.
import { SecretRotationReason } from '../../apis/v1alpha1/index.ts';
import type { SecretRotationStatus } from '../../apis/v1alpha1/index.ts';
import { type Condition, formatTime, getCondition, setCondition } from '../../kube/conditions.ts';
import type { DueDecision } from './schedule.ts';
import type { Phase } from './phases.ts';
import { canonicalJson } from '../shared/canonical-json.ts';
import { appendHistory, historyLimit } from '../shared/history.ts';

/** Longest message a history entry keeps. */
const MAX_HISTORY_MESSAGE = 1024;

type History = NonNullable<SecretRotationStatus['history']>[number];

/** Who the conditions are stamped for, and when. */
export interface Stamp {
  /** metadata.generation of the rotation (the conditions' observedGeneration). */
  generation: number | undefined;
  now: number;
  /** spec.historyLimit of the rotation (default 10). */
  historyLimit?: number | undefined;
}

/** The status with condition `type` set. */
function withCondition(
  status: SecretRotationStatus,
  type: 'Ready' | 'RolledOut',
  value: 'True' | 'False',
  reason: string,
  message: string,
  at: Stamp,
): SecretRotationStatus {
  const conditions = setCondition(
    status.conditions as Condition[] | undefined,
    { type, status: value, reason, message, observedGeneration: at.generation },
    at.now,
  );
  return { ...status, conditions };
}

/** The status with its Ready condition set. */
export const withReady = (
  status: SecretRotationStatus,
  value: 'True' | 'False',
  reason: string,
  message: string,
  at: Stamp,
): SecretRotationStatus => withCondition(status, 'Ready', value, reason, message, at);

export const readyOf = (status: SecretRotationStatus): Condition | undefined =>
  getCondition(status.conditions as Condition[] | undefined, 'Ready');

/**
 * The history with `entry` first (replacing an entry of the same version), at most `limit`
 * (spec.historyLimit) long; undefined (no field) with limit 0.
 */
export function upsertHistory(
  status: SecretRotationStatus,
  entry: History,
  limit?: number,
): History[] | undefined {
  return appendHistory(status.history, entry, historyLimit(limit), (h, e) => h.version === e.version);
}

/**
 * The history entry of the rotation in `status` (its version, its start time). A version a
 * rollback wrote keeps saying so (restoredFrom), and rolled out it stays RolledBack.
 */
function entryFor(status: SecretRotationStatus, outcome: History['outcome'], at: Stamp, message?: string) {
  const version = status.currentVersion ?? '';
  const restoredFrom = status.history?.find((h) => h.version === version)?.restoredFrom;
  return {
    version,
    time: status.lastRotationTime ?? formatTime(at.now),
    outcome: restoredFrom !== undefined && outcome === 'Succeeded' ? 'RolledBack' : outcome,
    ...(message !== undefined && { message: message.slice(0, MAX_HISTORY_MESSAGE) }),
    ...(restoredFrom !== undefined && { restoredFrom }),
  } satisfies History;
}

/** Not due: when the next rotation is, and what the rotation says meanwhile (a failure says so until then). */
export function waitingStatus(
  status: SecretRotationStatus,
  phase: Phase,
  decision: DueDecision,
  at: Stamp,
): SecretRotationStatus {
  const failed = phase === 'Failed' || phase === 'RolledBack';
  const next: SecretRotationStatus = { ...status, observedGeneration: at.generation, phase };
  delete next.nextRotationTime;
  if (decision.next !== undefined) next.nextRotationTime = formatTime(decision.next);
  if (decision.why === 'Suspended') {
    return withReady(next, 'True', SecretRotationReason.Suspended, 'Scheduled rotations are suspended', at);
  }
  if (failed) return next;
  const when = decision.next !== undefined ? `; next rotation at ${formatTime(decision.next)}` : '';
  if (!status.lastRotationTime) {
    return withReady(
      next,
      'True',
      SecretRotationReason.Scheduled,
      `Waiting for the first rotation${when}`,
      at,
    );
  }
  const ready = readyOf(status);
  const message =
    ready?.reason === SecretRotationReason.Rotated
      ? ready.message
      : `Rotated to version ${status.currentVersion ?? '?'}${when}`;
  return withReady(next, 'True', SecretRotationReason.Rotated, message, at);
}

/** A rotation starts: the version it replaces is recorded before anything is written. */
export function rotatingStatus(
  status: SecretRotationStatus,
  phase: Phase,
  input: { path: string; why: string; handledToken?: string; replaces?: string },
  at: Stamp,
): SecretRotationStatus {
  const message = `Rotating ${input.path} (${input.why.toLowerCase()})`;
  const next: SecretRotationStatus = {
    ...withReady(status, 'False', SecretRotationReason.Rotating, message, at),
    observedGeneration: at.generation,
    phase,
    ...(input.handledToken !== undefined && { rotateNowHandled: input.handledToken }),
  };
  // The version this rotation replaces: after a crash, a newer version means it was written.
  delete next.previousVersion;
  if (input.replaces !== undefined) next.previousVersion = input.replaces;
  return next;
}

export interface Written {
  path: string;
  version: string;
  /** When it was written (whole seconds, as status keeps it). */
  rotatedAt: number;
  /** The next scheduled rotation, unless suspended or never. */
  nextAt: number | undefined;
  /** The version holding the previous value (TwoPhase), kept until retired. */
  previousVersion: string | undefined;
}

/** The new version is in the backend: its readers and consumers follow now. */
export function rollingOutStatus(
  status: SecretRotationStatus,
  phase: Phase,
  w: Written,
  at: Stamp,
): SecretRotationStatus {
  const next: SecretRotationStatus = {
    ...status,
    phase,
    currentVersion: w.version,
    lastRotationTime: formatTime(w.rotatedAt),
    observedGeneration: at.generation,
  };
  delete next.previousVersion;
  delete next.nextRotationTime;
  if (w.previousVersion !== undefined) next.previousVersion = w.previousVersion;
  if (w.nextAt !== undefined) next.nextRotationTime = formatTime(w.nextAt);
  const waiting = `Wrote version ${w.version} of ${w.path}; waiting for its readers and consumers`;
  const ready = withReady(next, 'False', SecretRotationReason.RollingOut, waiting, at);
  return withCondition(
    ready,
    'RolledOut',
    'False',
    SecretRotationReason.RollingOut,
    `Rolling out version ${w.version}`,
    at,
  );
}

/** Every consumer is ready: done (Idle), or the previous value waits `retention` (Retiring). */
export function rolledOutStatus(
  status: SecretRotationStatus,
  phase: Phase,
  summary: string,
  retention: string,
  at: Stamp,
): SecretRotationStatus {
  const version = status.currentVersion ?? '';
  const next = withCondition(
    { ...status, phase, history: upsertHistory(status, entryFor(status, 'Succeeded', at), at.historyLimit) },
    'RolledOut',
    'True',
    SecretRotationReason.Rotated,
    summary,
    at,
  );
  return phase === 'Retiring'
    ? withReady(
        next,
        'False',
        SecretRotationReason.Retiring,
        `${summary}; the previous value is retired after ${retention}`,
        at,
      )
    : withReady(next, 'True', SecretRotationReason.Rotated, `Rotated to version ${version}; ${summary}`, at);
}

/** The rollout failed (not ready in time, or the rollback could not be written). */
export function rolloutFailedStatus(
  status: SecretRotationStatus,
  phase: Phase,
  reason: SecretRotationReason,
  message: string,
  at: Stamp,
): SecretRotationStatus {
  const next = withReady(
    {
      ...status,
      phase,
      history: upsertHistory(status, entryFor(status, 'Failed', at, message), at.historyLimit),
    },
    'False',
    reason,
    message,
    at,
  );
  return withCondition(next, 'RolledOut', 'False', reason, message, at);
}

/** Rolled back: the previous value is current again as `version`. */
export function rolledBackStatus(
  status: SecretRotationStatus,
  phase: Phase,
  version: string,
  message: string,
  at: Stamp,
): SecretRotationStatus {
  const next: SecretRotationStatus = {
    ...status,
    phase,
    currentVersion: version,
    history: upsertHistory(status, entryFor(status, 'RolledBack', at, message), at.historyLimit),
  };
  delete next.previousVersion;
  const ready = withReady(next, 'False', SecretRotationReason.RolledBack, message, at);
  return withCondition(ready, 'RolledOut', 'False', SecretRotationReason.RolledBack, message, at);
}

/** The previous value is gone (retired as `version`, or there was none left). */
export function retiredStatus(
  status: SecretRotationStatus,
  phase: Phase,
  version: string | undefined,
  at: Stamp,
): SecretRotationStatus {
  const next: SecretRotationStatus = { ...status, phase };
  delete next.previousVersion;
  if (version !== undefined) next.currentVersion = version;
  const when = status.nextRotationTime ? `; next rotation at ${status.nextRotationTime}` : '';
  const message = `Rotated; the previous value was retired (version ${version ?? '?'})${when}`;
  return withReady(next, 'True', SecretRotationReason.Rotated, message, at);
}

/** A rollback asked for by hand, written: `version` holds the value of `from` (rollback-to). */
export interface RolledBackTo {
  path: string;
  from: string;
  version: string;
  /** Digest of the rollback-to value answered. */
  handledToken: string;
  /** When it was written (whole seconds, as status keeps it): the schedule's interval counts from it. */
  rolledBackAt: number;
  /** The next scheduled rotation, unless suspended or never. */
  nextAt: number | undefined;
}

/** A rollback asked for by hand is written: its readers and consumers follow it as a rollout. */
export function rolledBackToStatus(
  status: SecretRotationStatus,
  phase: Phase,
  r: RolledBackTo,
  at: Stamp,
): SecretRotationStatus {
  const time = formatTime(r.rolledBackAt);
  const message = `Rolled back to version ${r.from}`;
  const entry: History = { version: r.version, time, outcome: 'RolledBack', message, restoredFrom: r.from };
  const next: SecretRotationStatus = {
    ...status,
    phase,
    currentVersion: r.version,
    lastRotationTime: time,
    observedGeneration: at.generation,
    rollbackToHandled: r.handledToken,
    history: upsertHistory(status, entry, at.historyLimit),
  };
  if (next.history === undefined) delete next.history;
  // The value kept beside the bad one (TwoPhase) is not the rollback's: nothing to retire.
  delete next.previousVersion;
  delete next.nextRotationTime;
  if (r.nextAt !== undefined) next.nextRotationTime = formatTime(r.nextAt);
  const waiting = `${message} of ${r.path} (now version ${r.version}); waiting for its readers and consumers`;
  const ready = withReady(next, 'False', SecretRotationReason.RollingOut, waiting, at);
  const rolling = `Rolling out version ${r.version} (the value of version ${r.from})`;
  return withCondition(ready, 'RolledOut', 'False', SecretRotationReason.RollingOut, rolling, at);
}

/** A rollback asked for by hand was refused: answered (its digest kept), nothing written. */
export function rollbackRefusedStatus(
  status: SecretRotationStatus,
  phase: Phase,
  handledToken: string,
  message: string,
  at: Stamp,
): SecretRotationStatus {
  return {
    ...withReady(status, 'False', SecretRotationReason.RollbackRefused, message, at),
    observedGeneration: at.generation,
    phase,
    rollbackToHandled: handledToken,
  };
}

/** A failure recorded: Ready=False with its reason; the phase as phases.ts says. */
export function failureStatus(
  status: SecretRotationStatus,
  failure: { reason: string; message: string },
  phase: Phase | undefined,
  at: Stamp,
): SecretRotationStatus {
  return {
    ...withReady(status, 'False', failure.reason, failure.message, at),
    observedGeneration: at.generation,
    ...(phase !== undefined && { phase }),
  };
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
    } else if (canonicalJson(av) !== canonicalJson(bv)) {
      patch[k] = bv;
    }
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}
