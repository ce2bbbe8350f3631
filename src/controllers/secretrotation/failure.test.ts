import assert from 'node:assert/strict';
import { BackendError } from '../../backends/errors.ts';
import { KubeError } from '../../kube/errors.ts';
import { GeneratorError } from '../../secrets/generators.ts';
import { RotationFailure, failsRotation, isConflict, toFailure } from './failure.ts';

describe('SecretRotation failures', () => {
  it('a check-and-set conflict is ConcurrentWrite and transient (the code, not the message)', () => {
    const err = new BackendError(
      'Conflict',
      'check-and-set failed for "shop/db": expected version 1, found 2',
    );
    assert.equal(isConflict(err), true);
    assert.equal(
      isConflict(new BackendError('InvalidRequest', 'check-and-set parameter did not match')),
      false,
    );
    const f = toFailure(err);
    assert.equal(f.reason, 'ConcurrentWrite');
    assert.equal(f.transient, true);
    assert.equal(failsRotation(f), false);
  });

  it('backend, generator, refused and unexpected errors get their reasons', () => {
    assert.equal(toFailure(new BackendError('PermissionDenied', 'denied')).reason, 'PermissionDenied');
    const throttled = toFailure(new BackendError('Throttled', 'slow down', { retryAfterMs: 1500 }));
    assert.deepEqual([throttled.reason, throttled.retryAfterMs], ['BackendThrottled', 1500]);
    const gen = toFailure(new GeneratorError('bad generator'));
    assert.deepEqual([gen.reason, failsRotation(gen)], ['GeneratorFailed', true]);
    const refused = toFailure(new KubeError({ status: 422, code: 'Invalid', message: 'status.phase: bad' }));
    assert.equal(refused.reason, 'SecretWriteFailed');
    assert.equal(failsRotation(refused), false, 'a refused write keeps the phase');
    const bug = toFailure(new TypeError('x is undefined'));
    assert.equal(bug.reason, 'InternalError');
    assert.doesNotMatch(bug.message, /x is undefined/, 'details stay in the log');
  });

  it('transient apiserver trouble is thrown again for the controller backoff', () => {
    const err = new KubeError({ status: 503, code: 'Unavailable', message: 'try later' });
    assert.throws(
      () => toFailure(err),
      (e) => e === err,
    );
    const f = new RotationFailure('InvalidSpec', 'bad', false);
    assert.equal(toFailure(f), f);
    assert.equal(failsRotation(f), false);
  });
});
