import assert from 'node:assert/strict';
import { BackendError } from '../../backends/errors.ts';
import { KubeError, codeFor } from '../../kube/errors.ts';
import {
  IssuanceFailure,
  WriteRefused,
  escapedFailure,
  refusal,
  secretWriteRefused,
  toFailure,
} from './failure.ts';
import { Reason } from './reasons.ts';

const kube = (status: number, message: string) => new KubeError({ status, code: codeFor(status), message });

describe('VaultCertificate: failures classified', () => {
  it('a refusal is a 4xx the apiserver will give again: not a conflict, throttling or our own failure', () => {
    assert.ok(refusal(kube(422, 'bad')));
    assert.equal(refusal(kube(409, 'conflict')), undefined);
    assert.equal(refusal(kube(503, 'down')), undefined);
    assert.equal(refusal(new IssuanceFailure(Reason.InvalidRequest, 'x')), undefined);
  });

  it('a refused Secret write names the Secret and cuts the values being written out of the message', () => {
    const value = 'c2VjcmV0LWtleS1tYXRlcmlhbA=='; // "secret-key-material"
    const want = { data: { 'tls.key': value } };
    const refused = secretWriteRefused(
      kube(422, 'denied: secret-key-material is not allowed'),
      'api-tls',
      want,
      300_000,
    );
    assert.ok(refused instanceof WriteRefused);
    assert.equal(refused.reason, Reason.SecretWriteFailed);
    assert.equal(refused.retryAfterMs, 300_000);
    assert.match(refused.message, /Secret api-tls/);
    assert.doesNotMatch(refused.message, /secret-key-material/);
    assert.equal(secretWriteRefused(kube(503, 'down'), 'api-tls', want, 1), undefined);
  });

  it('an issuance error becomes the reason of its backend code; anything else is thrown on', () => {
    const f = toFailure(new BackendError('PermissionDenied', 'no', { retryAfterMs: 7 }));
    assert.deepEqual([f.reason, f.message, f.retryAfterMs], [Reason.PermissionDenied, 'no', 7]);
    assert.equal(toFailure(kube(422, 'x')).reason, Reason.SecretWriteFailed);
    assert.throws(() => toFailure(new TypeError('bug')), TypeError);
  });

  it('a failure escaping the steps: ours as it is, a refusal as SecretWriteFailed, a bug as InternalError by name only', () => {
    assert.deepEqual(escapedFailure(new IssuanceFailure(Reason.IssuerNotReady, 'm')), {
      reason: Reason.IssuerNotReady,
      message: 'm',
    });
    assert.equal(escapedFailure(kube(403, 'forbidden')).reason, Reason.SecretWriteFailed);
    const bug = escapedFailure(new RangeError('value secret-value out of range'));
    assert.equal(bug.reason, Reason.InternalError);
    assert.equal(bug.unexpected, 'RangeError');
    assert.doesNotMatch(bug.message, /secret-value/);
  });
});
