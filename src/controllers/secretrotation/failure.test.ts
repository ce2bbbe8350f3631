import assert from 'node:assert/strict';
import { BackendError } from '../../resilience/errors.ts';
import { KubeError } from '../../kube/errors.ts';
import { NotLeaderError } from '../../kube/fence.ts';
import { GeneratorError } from '../../secrets/generators.ts';
import { Failure } from '../failure/index.ts';
import { StatusRefused, classifyError, failsRotation, isConflict } from './failure.ts';

const shown = (err: unknown) => {
  const c = classifyError(err, false);
  assert.ok(!c.rethrow, 'shown on the rotation');
  return c.failure;
};

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
    const f = shown(err);
    assert.equal(f.reason, 'ConcurrentWrite');
    assert.equal(f.transient, true);
    assert.equal(failsRotation(f), false);
  });

  it("a backend's NotFound is a bad request; a generator's error fails the rotation", () => {
    assert.equal(shown(new BackendError('NotFound', 'no such mount')).reason, 'InvalidRequest');
    assert.equal(shown(new BackendError('PermissionDenied', 'denied')).reason, 'PermissionDenied');
    const gen = shown(new GeneratorError('bad generator'));
    assert.deepEqual([gen.reason, failsRotation(gen)], ['GeneratorFailed', true]);
  });

  it('a refused write or status keeps the phase; so does an unexpected error', () => {
    const refused = shown(new KubeError({ status: 422, code: 'Invalid', message: 'status.phase: bad' }));
    assert.equal(refused.reason, 'SecretWriteFailed');
    assert.equal(failsRotation(refused), false);
    assert.equal(failsRotation(new StatusRefused('SecretWriteFailed', 'refused')), false);
    const bug = classifyError(new TypeError('x is undefined'), false);
    assert.ok(!bug.rethrow);
    assert.equal(bug.failure.reason, 'InternalError');
    assert.equal(bug.unexpected, 'TypeError');
    assert.equal(failsRotation(new Failure('PermissionDenied', 'denied')), true);
  });

  it('transient apiserver trouble, lost leadership and shutdown are thrown on', () => {
    assert.equal(
      classifyError(new KubeError({ status: 503, code: 'Unavailable', message: 'later' }), false).rethrow,
      true,
    );
    assert.equal(classifyError(new NotLeaderError('not the leader'), false).rethrow, true);
    assert.equal(classifyError(new Error('stopped'), true).rethrow, true);
  });
});
