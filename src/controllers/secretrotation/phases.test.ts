import assert from 'node:assert/strict';
import { ROTATION_PHASES } from '../../apis/v1alpha1/index.ts';
import {
  PHASES,
  type Phase,
  type PhaseFacts,
  type RotationEvent,
  nextPhase,
  phaseAfterFailure,
  phaseOf,
  stepFor,
} from './phases.ts';

const calm: PhaseFacts = {
  manual: false,
  rollbackTo: false,
  rolloutFailed: false,
  replaceDue: false,
  userErrorWaitMs: 0,
};

describe('SecretRotation phases', () => {
  it('has a row for every phase of the CRD, each ending with an unguarded step', () => {
    assert.deepEqual(Object.keys(PHASES).sort(), [...ROTATION_PHASES].sort());
    for (const [phase, row] of Object.entries(PHASES)) {
      assert.equal(row.steps.at(-1)?.when, undefined, `${phase} always has a step`);
    }
  });

  it('walks the table: every transition leads to a phase of the CRD, and every phase is reached from Idle', () => {
    const reached = new Set<Phase>(['Idle']);
    const todo: Phase[] = ['Idle'];
    while (todo.length > 0) {
      const from = todo.pop()!;
      for (const event of Object.keys(PHASES[from].on) as RotationEvent[]) {
        const to = nextPhase(from, event);
        assert.ok((ROTATION_PHASES as readonly string[]).includes(to), `${from} --${event}--> ${to}`);
        if (!reached.has(to)) {
          reached.add(to);
          todo.push(to);
        }
      }
    }
    assert.deepEqual([...reached].sort(), [...ROTATION_PHASES].sort());
  });

  it('the rotation cycle: Idle → Rotating → RollingOut → Retiring (TwoPhase) or Idle', () => {
    assert.equal(nextPhase('Idle', 'Due'), 'Rotating');
    assert.equal(nextPhase('Rotating', 'Written'), 'RollingOut');
    assert.equal(nextPhase('RollingOut', 'ReadyPreviousKept'), 'Retiring');
    assert.equal(nextPhase('RollingOut', 'Ready'), 'Idle');
    assert.equal(nextPhase('Retiring', 'Retired'), 'Idle');
    assert.equal(nextPhase('RollingOut', 'NotReadyInTime'), 'Failed');
    assert.equal(nextPhase('RollingOut', 'RolledBack'), 'RolledBack');
    assert.equal(nextPhase('RollingOut', 'RollbackFailed'), 'Failed');
  });

  it('a failed rollout that becomes ready later completes; not being due keeps Failed and RolledBack', () => {
    assert.equal(nextPhase('Failed', 'Ready'), 'Idle');
    assert.equal(nextPhase('Failed', 'ReadyPreviousKept'), 'Retiring');
    assert.equal(nextPhase('Failed', 'NotDue'), 'Failed');
    assert.equal(nextPhase('RolledBack', 'NotDue'), 'RolledBack');
    assert.equal(nextPhase('Idle', 'NotDue'), 'Idle');
  });

  it('refuses an outcome the table does not allow', () => {
    assert.throws(() => nextPhase('Idle', 'Written'), /phase Idle has no transition on Written/);
    assert.throws(() => nextPhase('Retiring', 'NotDue'));
    assert.throws(() => nextPhase('RolledBack', 'Ready'));
  });

  it('picks the step of each phase', () => {
    assert.equal(stepFor('Idle', calm), 'idle');
    assert.equal(stepFor('Rotating', { ...calm, manual: true }), 'write', 'a write in flight finishes first');
    assert.equal(stepFor('RollingOut', calm), 'rollOut');
    assert.equal(stepFor('RolledBack', calm), 'followUpThenIdle');
    assert.equal(stepFor('Retiring', calm), 'retire');
    assert.equal(stepFor('Retiring', { ...calm, manual: true }), 'idle', 'rotate-now goes ahead of retiring');
  });

  it('Failed: watches a failed rollout unless a manual or due Replace rotation goes ahead; a user error waits', () => {
    const failedRollout = { ...calm, rolloutFailed: true };
    assert.equal(stepFor('Failed', failedRollout), 'rollOut');
    assert.equal(stepFor('Failed', { ...failedRollout, manual: true }), 'idle');
    assert.equal(stepFor('Failed', { ...failedRollout, replaceDue: true }), 'idle');
    assert.equal(stepFor('Failed', { ...failedRollout, userErrorWaitMs: 1000 }), 'rollOut');
    assert.equal(stepFor('Failed', { ...calm, userErrorWaitMs: 1000 }), 'wait');
    assert.equal(stepFor('Failed', { ...calm, userErrorWaitMs: 1000, manual: true }), 'idle');
    assert.equal(stepFor('Failed', calm), 'idle');
  });

  it('a rollback asked for by hand goes first in every phase but Rotating, whose write finishes first', () => {
    const asked = { ...calm, rollbackTo: true };
    for (const phase of ['Idle', 'RollingOut', 'Retiring', 'Failed', 'RolledBack'] as const) {
      assert.equal(stepFor(phase, asked), 'rollBackTo', phase);
      assert.equal(stepFor(phase, { ...asked, manual: true }), 'rollBackTo', `${phase}, before rotate-now`);
      assert.equal(nextPhase(phase, 'RolledBackTo'), 'RollingOut', `${phase}: its consumers follow`);
      assert.equal(nextPhase(phase, 'RollbackRefused'), 'Failed', `${phase}: refused`);
    }
    assert.equal(stepFor('Failed', { ...asked, rolloutFailed: true, userErrorWaitMs: 1000 }), 'rollBackTo');
    assert.equal(stepFor('Rotating', asked), 'write');
    assert.throws(() => nextPhase('Rotating', 'RolledBackTo'));
    assert.equal(stepFor('Idle', calm), 'idle', 'not asked: the usual step');
  });

  it('reads a stored phase; none is Idle', () => {
    assert.equal(phaseOf(undefined), 'Idle');
    assert.equal(phaseOf('Retiring'), 'Retiring');
    assert.equal(phaseOf('toString'), 'Idle', 'not a phase');
  });

  it('only a user error while writing fails the rotation', () => {
    assert.equal(phaseAfterFailure('Rotating', true), 'Failed');
    assert.equal(phaseAfterFailure('Rotating', false), 'Rotating');
    assert.equal(phaseAfterFailure('RollingOut', true), 'RollingOut');
    assert.equal(phaseAfterFailure('Idle', true), 'Idle');
  });
});
