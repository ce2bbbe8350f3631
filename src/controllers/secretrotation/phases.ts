// The phases of a SecretRotation as one table: what the reconciler does in each phase, and which
// phase each outcome leads to. Pure. To add a phase: add it to ROTATION_PHASES (apis/v1alpha1),
// give it a row here (its steps and its transitions), and write the step it names.
//
//   Idle ──Due──▶ Rotating ──Written──▶ RollingOut ──Ready──▶ Idle
//                    │                     ├─ReadyPreviousKept──▶ Retiring ──Retired──▶ Idle
//                    └─UserError─▶ Failed  ├─NotReadyInTime / RollbackFailed──▶ Failed
//                                          └─RolledBack──▶ RolledBack
//   Failed keeps watching a failed rollout (Ready / ReadyPreviousKept later); Failed, RolledBack
//   and Retiring go to Rotating when a rotation is due (Retiring: a manual one only).
//   A rollback asked for by hand (vaultsync.io/rollback-to) is answered in every phase but
//   Rotating (whose write finishes first): RolledBackTo ──▶ RollingOut, RollbackRefused ──▶ Failed.
import type { ROTATION_PHASES } from '../../apis/v1alpha1/index.ts';

export type Phase = (typeof ROTATION_PHASES)[number];

/** What happened in a step; the table says which phase it leads to. */
export type RotationEvent =
  /** A rotation is due (schedule, missing values, rotate-now). */
  | 'Due'
  /** Nothing is due: the phase stays. */
  | 'NotDue'
  /** The new version is in the backend (written now, or adopted after a crash). */
  | 'Written'
  /** A failure that needs a person (denied, bad generator) while writing. */
  | 'UserError'
  /** Every consumer is ready with the new version (nothing to retire). */
  | 'Ready'
  /** Every consumer is ready and the previous value (TwoPhase) is still in the backend. */
  | 'ReadyPreviousKept'
  /** Readers or consumers not ready within readyTimeout; no rollback. */
  | 'NotReadyInTime'
  /** rollbackOnFailure: the previous value is current again. */
  | 'RolledBack'
  /** rollbackOnFailure: the previous value could not be written back. */
  | 'RollbackFailed'
  /** The previous value was dropped after the retention. */
  | 'Retired'
  /** A rollback asked for by hand: the earlier version's value is the newest version now. */
  | 'RolledBackTo'
  /** A rollback asked for by hand was refused (no such version, denied): nothing written. */
  | 'RollbackRefused';

/** The step the reconciler runs in a phase (steps/ modules of the same names). */
export type Step =
  /** Is a rotation due? Start it, or record when the next one is. */
  | 'idle'
  /** Generate and write the new version (once, check-and-set). */
  | 'write'
  /** Readers synced, consumers restarted and ready (or, once failed, still watched). */
  | 'rollOut'
  /** Restart consumers onto the rolled-back value once, then as idle. */
  | 'followUpThenIdle'
  /** Drop the previous value after the retention. */
  | 'retire'
  /** A user error waits for its retry delay. */
  | 'wait'
  /** Answer the rollback-to annotation: restore the version it names, or refuse. */
  | 'rollBackTo';

/** What the reconciler knows when it picks a step (computed by the reconciler, no I/O). */
export interface PhaseFacts {
  /** The rotate-now annotation holds a value not answered yet. */
  manual: boolean;
  /** The rollback-to annotation holds a value not answered yet. */
  rollbackTo: boolean;
  /** Failed because the rollout was not ready (or the rollback failed): the rollout is still watched. */
  rolloutFailed: boolean;
  /** Replace strategy and the next scheduled rotation is due (nothing kept to lose). */
  replaceDue: boolean;
  /** Time left before a rotation failed for a user's reason is tried again (≤ 0: none). */
  userErrorWaitMs: number;
}

interface Row {
  /** Tried in order: the first step whose guard holds (or that has none) runs. */
  steps: readonly { step: Step; when?: (f: PhaseFacts) => boolean }[];
  /** Outcome → next phase; an outcome not listed here cannot happen in this phase. */
  on: Partial<Record<RotationEvent, Phase>>;
}

/** A rollback asked for by hand goes first wherever it is answered (before a manual rotation). */
const ROLL_BACK_TO = { step: 'rollBackTo', when: (f: PhaseFacts) => f.rollbackTo } as const;
const ROLLED_BACK_TO = { RolledBackTo: 'RollingOut', RollbackRefused: 'Failed' } as const;

export const PHASES: Readonly<Record<Phase, Row>> = {
  Idle: {
    steps: [ROLL_BACK_TO, { step: 'idle' }],
    on: { Due: 'Rotating', NotDue: 'Idle', ...ROLLED_BACK_TO },
  },
  Rotating: {
    steps: [{ step: 'write' }],
    on: { Written: 'RollingOut', UserError: 'Failed' },
  },
  RollingOut: {
    // A rollback asked for while consumers roll out (the new value is bad) does not wait for them.
    steps: [ROLL_BACK_TO, { step: 'rollOut' }],
    on: {
      ...ROLLED_BACK_TO,
      Ready: 'Idle',
      ReadyPreviousKept: 'Retiring',
      NotReadyInTime: 'Failed',
      RolledBack: 'RolledBack',
      RollbackFailed: 'Failed',
    },
  },
  Retiring: {
    // A manual rotation goes ahead at once; the retirement's write is then not needed.
    steps: [ROLL_BACK_TO, { step: 'idle', when: (f) => f.manual }, { step: 'retire' }],
    on: { Retired: 'Idle', Due: 'Rotating', ...ROLLED_BACK_TO },
  },
  Failed: {
    steps: [
      ROLL_BACK_TO,
      // Still watching the failed rollout; a scheduled rotation would drop a kept previous value,
      // so only a manual one (or Replace) goes ahead.
      { step: 'rollOut', when: (f) => f.rolloutFailed && !f.manual && !f.replaceDue },
      // A rotation that failed for a user's reason is tried again after the delay, not on every
      // event its own status write causes.
      { step: 'wait', when: (f) => !f.rolloutFailed && !f.manual && f.userErrorWaitMs > 0 },
      { step: 'idle' },
    ],
    on: {
      Due: 'Rotating',
      NotDue: 'Failed',
      Ready: 'Idle',
      ReadyPreviousKept: 'Retiring',
      ...ROLLED_BACK_TO,
    },
  },
  RolledBack: {
    steps: [ROLL_BACK_TO, { step: 'followUpThenIdle' }],
    on: { Due: 'Rotating', NotDue: 'RolledBack', ...ROLLED_BACK_TO },
  },
};

/** A stored phase, or Idle for none (a new rotation) or one this release does not know. */
export function phaseOf(stored: string | undefined): Phase {
  return stored !== undefined && Object.hasOwn(PHASES, stored) ? (stored as Phase) : 'Idle';
}

/** The step to run in `phase`. */
export function stepFor(phase: Phase, facts: PhaseFacts): Step {
  const row = PHASES[phase].steps.find((s) => s.when === undefined || s.when(facts));
  // Every row ends with an unguarded step; this only guards against a row written without one.
  return row?.step ?? 'idle';
}

/** The phase `event` leads to from `phase`; throws for an outcome the table does not allow (a bug). */
export function nextPhase(phase: Phase, event: RotationEvent): Phase {
  const next = PHASES[phase].on[event];
  if (next === undefined) throw new Error(`SecretRotation phase ${phase} has no transition on ${event}`);
  return next;
}

/** The phase after a failure: only a user error while writing fails the rotation; others keep it. */
export function phaseAfterFailure(phase: Phase, userError: boolean): Phase {
  return userError ? (PHASES[phase].on.UserError ?? phase) : phase;
}
