import assert from 'node:assert/strict';
import type { Condition } from '../../kube/conditions.ts';
import { RetryAfterError } from '../../kube/controller.ts';
import { Failure, MAX_FAILURE_MESSAGE } from './failure.ts';
import { PAUSED_RETRY_MS, failedConditions, retryOf, settle, warningDue } from './outcome.ts';

const ready = (status: 'True' | 'False', reason: string, message: string): Condition => ({
  type: 'Ready',
  status,
  reason,
  message,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

describe('failure: outcome', () => {
  it('sets Ready=False with the reason, keeping the transition time while it stays False', () => {
    const f = new Failure('BackendUnavailable', 'down');
    const was = [ready('False', 'PermissionDenied', 'no'), { ...ready('True', 'x', 'y'), type: 'Other' }];
    const next = failedConditions(was, f, 4, Date.parse('2026-02-01T00:00:00Z'));
    assert.deepEqual(next[0], { ...ready('False', 'BackendUnavailable', 'down'), observedGeneration: 4 });
    assert.equal(next[1]?.type, 'Other');
    const fromTrue = failedConditions(
      [ready('True', 'Synced', 'ok')],
      f,
      4,
      Date.parse('2026-02-01T00:00:00Z'),
    );
    assert.equal(fromTrue[0]?.lastTransitionTime, '2026-02-01T00:00:00Z');
  });

  it('warns once per change of reason or message, not per attempt', () => {
    const f = new Failure('BackendUnavailable', 'down');
    assert.equal(warningDue(undefined, undefined, f), true);
    assert.equal(warningDue(ready('True', 'Synced', 'ok'), undefined, f), true);
    assert.equal(warningDue(ready('False', 'BackendUnavailable', 'down'), undefined, f), false);
    assert.equal(warningDue(ready('False', 'BackendUnavailable', 'other'), undefined, f), true);
    assert.equal(warningDue(ready('False', 'PermissionDenied', 'down'), undefined, f), true);
    // The status could not record it: what this replica said last counts.
    assert.equal(warningDue(ready('True', 'Synced', 'ok'), 'BackendUnavailable\ndown', f), false);
    assert.equal(warningDue(ready('True', 'Synced', 'ok'), 'BackendUnavailable\nup', f), true);
  });

  it('retries after Retry-After, with backoff when transient, else after the user-error interval', () => {
    assert.deepEqual(
      retryOf(new Failure('BackendThrottled', 'x', { transient: true, retryAfterMs: 7 }), 300),
      {
        kind: 'retryAfter',
        ms: 7,
      },
    );
    assert.deepEqual(retryOf(new Failure('BackendUnavailable', 'x', { transient: true }), 300), {
      kind: 'backoff',
    });
    assert.deepEqual(retryOf(new Failure('PermissionDenied', 'x'), 300), { kind: 'userError', ms: 300 });
  });
  it('waits for the breaker’s trial call when the backend was not called', () => {
    const paused = (retryAfterMs?: number) =>
      new Failure('BackendUnavailable', 'x', { transient: true, paused: true, retryAfterMs });
    assert.deepEqual(retryOf(paused(4000), 300), { kind: 'wait', ms: 4000 });
    assert.deepEqual(retryOf(paused(), 300), { kind: 'wait', ms: PAUSED_RETRY_MS });
  });

  it('settles by throwing to the controller or requeueing', () => {
    const f = new Failure('BackendUnavailable', 'down', { transient: true });
    assert.throws(
      () => settle(f, { kind: 'backoff' }),
      (err) => err === f,
    );
    assert.throws(
      () => settle(f, { kind: 'retryAfter', ms: 9 }),
      (err) => err instanceof RetryAfterError && err.retryAfterMs === 9,
    );
    assert.throws(
      () => settle(f, { kind: 'wait', ms: 4000 }),
      (err) => err instanceof RetryAfterError && err.retryAfterMs === 4000 && !err.countsAsFailure,
    );
    assert.throws(
      () => settle(f, { kind: 'retryAfter', ms: 9 }),
      (err) => err instanceof RetryAfterError && err.countsAsFailure,
    );
    assert.deepEqual(settle(f, { kind: 'userError', ms: 300 }), { requeueAfter: 300 });
  });

  it('caps the message a condition and an event carry', () => {
    const f = new Failure('InvalidSpec', 'x'.repeat(MAX_FAILURE_MESSAGE + 50));
    assert.equal(f.message.length, MAX_FAILURE_MESSAGE + 1);
    assert.ok(f.message.endsWith('…'));
  });
});
