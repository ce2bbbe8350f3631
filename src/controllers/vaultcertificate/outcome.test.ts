import { CertificateEventReason, IssuingReason } from '../../apis/v1alpha1/index.ts';
import assert from 'node:assert/strict';
import { issuanceOutcome } from './outcome.ts';

describe('VaultCertificate: what a successful issuance is called', () => {
  const cert = { serialNumber: 'ab12', notAfter: new Date(Date.UTC(2030, 1, 1)) };
  const what = 'certificate ab12 (revision 2), valid until 2030-02-01T00:00:00.000Z';

  it('the first certificate is Issued, and restarts nothing', () => {
    const o = issuanceOutcome({ reason: IssuingReason.DoesNotExist, message: 'x' }, 0, cert, 1);
    assert.equal(o.first, true);
    assert.equal(o.eventReason, CertificateEventReason.Issued);
    assert.equal(o.logMessage, 'Issued certificate');
  });

  it('a Secret deleted after an earlier certificate is a replacement, not a first', () => {
    const o = issuanceOutcome(
      { reason: IssuingReason.DoesNotExist, message: 'Secret api-tls does not exist' },
      1,
      cert,
      2,
    );
    assert.equal(o.first, false);
    assert.equal(o.eventReason, CertificateEventReason.Reissued);
    assert.equal(o.eventMessage, `Reissued ${what} because Secret api-tls does not exist`);
  });

  it('renewal and expiry are Renewed', () => {
    for (const reason of [IssuingReason.Renewing, IssuingReason.Expired]) {
      const o = issuanceOutcome({ reason, message: 'due' }, 1, cert, 2);
      assert.deepEqual(o, {
        first: false,
        logMessage: 'Renewed certificate',
        eventReason: CertificateEventReason.Renewed,
        eventMessage: `Renewed ${what}`,
      });
    }
  });
});
