import { VaultCertificateReason, IssuingReason } from '../../apis/v1alpha1/index.ts';
import assert from 'node:assert/strict';
import type { CertificateInfo } from '../../pki/index.ts';
import { Failure } from '../failure/index.ts';
import type { ObservedSecret } from './observed.ts';
import {
  blockedStatus,
  failedIssuanceStatus,
  issuedCondition,
  statusEqual,
  statusPatch,
  successFields,
  withConditions,
} from './status.ts';
import { certificate } from './testing.ts';

const T0 = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;

describe('VaultCertificate: status', () => {
  const cert = {
    serialNumber: 'ab12',
    notBefore: new Date(T0),
    notAfter: new Date(T0 + 720 * HOUR),
  } as CertificateInfo;
  const renewal = { at: T0 + 480 * HOUR, renewBeforeMs: 240 * HOUR, adjusted: false };

  it('after a success: the certificate’s facts, the failure count and time gone', () => {
    const s = successFields(
      { failedIssuanceAttempts: 3, lastFailureTime: 'x', observedGeneration: 1 },
      cert,
      'ca',
      renewal,
      2,
      'mac',
    );
    assert.deepEqual(s, {
      observedGeneration: 1,
      notBefore: '2030-01-01T00:00:00Z',
      notAfter: '2030-01-31T00:00:00Z',
      renewalTime: '2030-01-21T00:00:00Z',
      serialNumber: 'ab12',
      issuer: 'ca',
      revision: 2,
      certificateMAC: 'mac',
    });
  });

  it('Ready=True Issued says when renewBefore had to be shortened', () => {
    assert.equal(issuedCondition().message, 'Certificate is up to date and has not expired');
    assert.match(issuedCondition({ ...renewal, adjusted: true }).message, /renews after two thirds/);
  });

  it('sets Ready, and sets or removes Issuing, for the current generation', () => {
    const vc = certificate({}, { generation: 4 });
    const issuing = withConditions(
      vc,
      {},
      issuedCondition(),
      { status: 'True', reason: 'Renewing', message: 'm' },
      T0,
    );
    assert.deepEqual(
      issuing.conditions?.map((c) => [c.type, c.status, c.observedGeneration]),
      [
        ['Ready', 'True', 4],
        ['Issuing', 'True', 4],
      ],
    );
    const done = withConditions({ ...vc, status: issuing }, issuing, issuedCondition(), undefined, T0);
    assert.deepEqual(
      done.conditions?.map((c) => c.type),
      ['Ready'],
    );
    assert.equal(done.observedGeneration, 4);
  });

  it('a failure before issuance keeps Issuing as it was', () => {
    const vc = certificate();
    const issuing = withConditions(
      vc,
      {},
      issuedCondition(),
      { status: 'True', reason: 'Renewing', message: 'm' },
      T0,
    );
    const s = blockedStatus(
      { ...vc, status: issuing },
      VaultCertificateReason.IssuerNotFound,
      'gone',
      T0 + 1000,
    );
    assert.deepEqual(
      s.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['Ready', 'False', VaultCertificateReason.IssuerNotFound],
        ['Issuing', 'True', 'Renewing'],
      ],
    );
  });

  describe('after a failed issuance', () => {
    const observed = { exists: true, hasData: true, chainPem: [], cert } as ObservedSecret;
    const failure = new Failure(VaultCertificateReason.BackendUnavailable, 'down');
    const renewing = { reason: IssuingReason.Renewing, message: 'renewal was due at …' };
    const fail = (over: Partial<Parameters<typeof failedIssuanceStatus>[0]> = {}) =>
      failedIssuanceStatus({
        vc: certificate(),
        observed,
        trigger: renewing,
        failure,
        writeRefused: false,
        attempts: 2,
        delayMs: 9_500,
        now: T0 + 500 * HOUR,
        ...over,
      });
    const ready = (s: ReturnType<typeof fail>) => s.conditions?.find((c) => c.type === 'Ready');

    it('keeps Ready=True while a certificate only due for renewal is valid, and counts the attempt', () => {
      const s = fail();
      assert.equal(ready(s)?.status, 'True');
      assert.match(ready(s)!.message, /renewal is failing \(BackendUnavailable\)$/);
      assert.equal(s.failedIssuanceAttempts, 2);
      assert.equal(s.lastFailureTime, '2030-01-21T20:00:00Z');
      const issuing = s.conditions?.find((c) => c.type === 'Issuing');
      assert.equal(
        issuing?.message,
        'Renewal was due at …; attempt 2 failed (BackendUnavailable): down. Next attempt in 10s',
      );
    });

    it('Ready=False once expired, for any other trigger, or when the Secret write was refused', () => {
      assert.equal(ready(fail({ now: T0 + 721 * HOUR }))?.status, 'False');
      assert.equal(
        ready(fail({ trigger: { reason: IssuingReason.SecretEdited, message: 'x' } }))?.status,
        'False',
      );
      const refused = fail({ writeRefused: true });
      assert.deepEqual(
        [ready(refused)?.status, ready(refused)?.reason],
        ['False', VaultCertificateReason.BackendUnavailable],
      );
    });
  });

  it('compares statuses ignoring key order and undefined fields; patches dropped fields as null', () => {
    assert.equal(
      statusEqual({ revision: 1, issuer: 'ca' }, { issuer: 'ca', revision: 1, notAfter: undefined }),
      true,
    );
    assert.equal(statusEqual({ revision: 1 }, { revision: 2 }), false);
    assert.deepEqual(statusPatch({ revision: 1, failedIssuanceAttempts: 2 }, { revision: 2 }), {
      revision: 2,
      failedIssuanceAttempts: null,
    });
  });
});
