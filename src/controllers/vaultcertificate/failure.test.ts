import { VaultCertificateReason } from '../../apis/v1alpha1/index.ts';
import assert from 'node:assert/strict';
import { BackendError } from '../../resilience/errors.ts';
import { KubeError, codeFor } from '../../kube/errors.ts';
import { Failure } from '../failure/index.ts';
import { WriteRefused, issuanceFailure, refusedAs, secretWriteRefused } from './failure.ts';

const kube = (status: number, message: string) => new KubeError({ status, code: codeFor(status), message });

describe('VaultCertificate: failures of its steps', () => {
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
    assert.equal(refused.reason, VaultCertificateReason.SecretWriteFailed);
    assert.equal(refused.retryAfterMs, 300_000);
    assert.equal(refused.status, false);
    assert.match(refused.message, /Secret api-tls/);
    assert.doesNotMatch(refused.message, /secret-key-material/);
  });

  it('only a refusal for good is one: not a conflict, throttling or an outage', () => {
    for (const status of [409, 429, 503])
      assert.equal(secretWriteRefused(kube(status, 'x'), 'api-tls', {}, 1), undefined, String(status));
  });

  it('a refused write of the resource itself names it and says whether it was the status; other errors pass', async () => {
    const refused = await refusedAs(
      () => Promise.reject(kube(422, 'too long')),
      'the status of X',
      5,
      true,
    ).catch((e: unknown) => e);
    assert.ok(refused instanceof WriteRefused);
    assert.equal(refused.status, true);
    assert.match(refused.message, /the status of X: too long/);
    const outage = kube(503, 'down');
    assert.equal(await refusedAs(() => Promise.reject(outage), 'x', 5).catch((e: unknown) => e), outage);
    assert.equal(await refusedAs(async () => 'ok', 'x', 5), 'ok');
  });

  it('an issuance error: a backend error by its code (Retry-After kept), any apiserver error as SecretWriteFailed', () => {
    const f = issuanceFailure(new BackendError('PermissionDenied', 'no', { retryAfterMs: 7 }));
    assert.deepEqual(
      [f.reason, f.message, f.retryAfterMs],
      [VaultCertificateReason.PermissionDenied, 'no', 7],
    );
    assert.equal(
      issuanceFailure(new BackendError('NotFound', 'no role')).reason,
      VaultCertificateReason.IssuerNotReady,
    );
    assert.equal(issuanceFailure(kube(503, 'down')).reason, VaultCertificateReason.SecretWriteFailed);
    const ours = new Failure(VaultCertificateReason.KeyGenerationFailed, 'x');
    assert.equal(issuanceFailure(ours), ours);
  });

  it('anything else is not an issuance failure: thrown on for the controller’s backoff', () => {
    assert.throws(() => issuanceFailure(new TypeError('bug')), TypeError);
  });
});
