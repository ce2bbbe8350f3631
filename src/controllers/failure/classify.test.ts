import assert from 'node:assert/strict';
import { BackendError } from '../../resilience/errors.ts';
import { KubeError } from '../../kube/errors.ts';
import { NotLeaderError } from '../../kube/fence.ts';
import { apiError } from '../../kube/testing.ts';
import { type Classified, backendReason, classify } from './classify.ts';
import { Failure } from './failure.ts';

const options = { notFound: 'RemoteSecretNotFound' };
const failureOf = (c: Classified): Failure => {
  assert.ok(!c.rethrow, 'expected a failure to show');
  return c.failure;
};

describe('failure: classify', () => {
  it('maps backend codes to reasons, NotFound and Conflict to the kind’s own', () => {
    const kind = { notFound: 'IssuerNotReady' };
    assert.equal(backendReason('NotFound', kind), 'IssuerNotReady');
    assert.equal(backendReason('PermissionDenied', kind), 'PermissionDenied');
    assert.equal(backendReason('Throttled', kind), 'BackendThrottled');
    assert.equal(backendReason('CircuitOpen', kind), 'BackendUnavailable');
    assert.equal(backendReason('Unavailable', kind), 'BackendUnavailable');
    assert.equal(backendReason('Unknown', kind), 'BackendUnavailable');
    assert.equal(backendReason('Unauthenticated', kind), 'AuthenticationFailed');
    assert.equal(backendReason('TenancyDenied', kind), 'TenancyDenied');
    assert.equal(backendReason('InvalidRequest', kind), 'InvalidRequest');
    assert.equal(backendReason('Conflict', kind), 'InvalidRequest');
    assert.equal(backendReason('Conflict', { ...kind, conflict: 'ConcurrentWrite' }), 'ConcurrentWrite');
  });

  it('retries a lost check-and-set at once', () => {
    const err = new BackendError('Conflict', 'check-and-set failed');
    const f = failureOf(classify(err, false, { ...options, conflict: 'ConcurrentWrite' }));
    assert.deepEqual([f.reason, f.transient], ['ConcurrentWrite', true]);
  });

  it('keeps a Failure as thrown', () => {
    const f = new Failure('UnsafeShrink', 'would remove 3 of 4 keys');
    assert.equal(failureOf(classify(f, false, options)), f);
  });

  it('takes transience and Retry-After from a backend error', () => {
    const denied = failureOf(classify(new BackendError('NotFound', 'no such path'), false, options));
    assert.deepEqual(
      [denied.reason, denied.transient, denied.message],
      ['RemoteSecretNotFound', false, 'no such path'],
    );
    const throttled = failureOf(
      classify(new BackendError('Throttled', 'slow down', { retryAfterMs: 2000 }), false, options),
    );
    assert.deepEqual(
      [throttled.reason, throttled.transient, throttled.retryAfterMs],
      ['BackendThrottled', true, 2000],
    );
  });

  it('marks an error of an open circuit (a refusal, the failure that opened it) as paused until the trial call', () => {
    const open = failureOf(
      classify(new BackendError('CircuitOpen', 'calls paused', { retryAfterMs: 4000 }), false, options),
    );
    assert.deepEqual(
      [open.reason, open.transient, open.paused, open.retryAfterMs],
      ['BackendUnavailable', true, true, 4000],
    );
    const opened = failureOf(
      classify(
        new BackendError('Unavailable', 'timed out', { retryAfterMs: 30_000, circuitOpen: true }),
        false,
        options,
      ),
    );
    assert.deepEqual(
      [opened.reason, opened.paused, opened.retryAfterMs],
      ['BackendUnavailable', true, 30_000],
    );
    const down = failureOf(classify(new BackendError('Unavailable', 'timed out'), false, options));
    assert.equal(down.paused, false);
  });
  it('shows errors the controller knows through `known`', () => {
    const known = (err: unknown) =>
      err instanceof RangeError ? new Failure('TemplateFailed', err.message) : undefined;
    assert.equal(
      failureOf(classify(new RangeError('no key a'), false, { ...options, known })).reason,
      'TemplateFailed',
    );
  });

  it('rethrows what is not the resource’s: shutdown, lost leadership, transient apiserver trouble', () => {
    assert.deepEqual(classify(apiError(422, 'Invalid'), true, options), { rethrow: true });
    assert.deepEqual(classify(new NotLeaderError('not the leader'), false, options), { rethrow: true });
    assert.deepEqual(classify(apiError(409, 'Conflict'), false, options), { rethrow: true });
    assert.deepEqual(classify(apiError(503, 'ServiceUnavailable'), false, options), { rethrow: true });
    assert.deepEqual(classify(Object.assign(new Error('stop'), { terminal: true }), false, options), {
      rethrow: true,
    });
  });

  it('shows an apiserver refusal as SecretWriteFailed, or InternalError when asked', () => {
    const write = failureOf(classify(apiError(422, 'Invalid', 'field too long'), false, options));
    assert.equal(write.reason, 'SecretWriteFailed');
    assert.match(write.message, /^the apiserver refused the write of an object: /);
    const internal = failureOf(
      classify(apiError(403, 'Forbidden'), false, { ...options, refusals: 'internal' }),
    );
    assert.equal(internal.reason, 'InternalError');
    assert.match(internal.message, /^the apiserver refused a request: /);
    const unknown = new KubeError({ code: 'Unknown', status: 0, message: 'Unknown: odd' });
    assert.equal(failureOf(classify(unknown, false, options)).reason, 'InternalError');
  });

  it('names an unexpected error for the log and says only its type on the resource', () => {
    const c = classify(new TypeError('x is undefined with secret s3cr3t'), false, options);
    assert.ok(!c.rethrow);
    assert.equal(c.unexpected, 'TypeError');
    assert.equal(c.failure.reason, 'InternalError');
    assert.ok(!c.failure.message.includes('s3cr3t'));
  });
});
