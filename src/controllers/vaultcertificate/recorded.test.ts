import assert from 'node:assert/strict';
import type { VaultCertificateStatus } from '../../apis/v1alpha1/index.ts';
import { type WrittenCertificate, recordedCertificate, superseded } from './recorded.ts';

describe('VaultCertificate: what vaultsync recorded, the only source of what to revoke', () => {
  const ours = { serialNumber: 'aa01', issuer: 'vault-pki/svc' };
  const status: VaultCertificateStatus = { ...ours, certificateMAC: 'mac-1' };
  /** The Secret as it is: its certificate's serial, its issuer annotation, the MAC it matches. */
  const secret = (serialNumber: string, issuer: string, mac: string) => ({
    observed: { cert: { serialNumber } as never, issuer },
    holds: (m: string) => m === mac,
  });
  const input = (over: Partial<Parameters<typeof recordedCertificate>[0]> = {}) => ({
    status,
    written: undefined,
    secretName: 'api-tls',
    desiredIssuer: 'vault-pki/svc',
    ...secret('aa01', 'vault-pki/svc', 'mac-1'),
    ...over,
  });

  it('takes serial and issuer from status', () => {
    assert.deepEqual(recordedCertificate(input()), ours);
  });

  it('never from the Secret: another tenant’s serial and issuer in tls.crt and the annotation change nothing', () => {
    const edited = secret('bb02', 'other-pki', 'mac-of-the-edit');
    assert.deepEqual(recordedCertificate(input(edited)), ours);
  });

  it('prefers this replica’s own write while the Secret holds it (its status write may have failed)', () => {
    const written: WrittenCertificate = {
      secretName: 'api-tls',
      serialNumber: 'cc03',
      issuer: 'vault-pki/svc',
      mac: 'mac-2',
    };
    assert.deepEqual(recordedCertificate(input({ written, ...secret('cc03', 'vault-pki/svc', 'mac-2') })), {
      serialNumber: 'cc03',
      issuer: 'vault-pki/svc',
    });
    // The Secret no longer holds that write (edited, or renamed): status decides.
    assert.deepEqual(recordedCertificate(input({ written })), ours);
    assert.deepEqual(
      recordedCertificate(input({ written: { ...written, secretName: 'old-tls' }, holds: () => true })),
      ours,
    );
  });

  it('nothing recorded, nothing to revoke', () => {
    assert.equal(recordedCertificate(input({ status: undefined })), undefined);
    assert.equal(recordedCertificate(input({ status: { conditions: [] } })), undefined);
  });

  describe('a status from before issuers were recorded (no status.issuer)', () => {
    const legacy: VaultCertificateStatus = { serialNumber: 'aa01', certificateMAC: 'mac-1' };

    it('is adopted while the Secret holds what status recorded and names the spec’s issuer', () => {
      assert.deepEqual(recordedCertificate(input({ status: legacy })), ours);
    });

    it('is not, once the Secret was edited, or names another issuer, or holds another serial', () => {
      const cases = [
        secret('aa01', 'vault-pki/svc', 'mac-of-the-edit'),
        secret('aa01', 'other-pki', 'mac-1'),
        secret('bb02', 'vault-pki/svc', 'mac-1'),
      ];
      for (const c of cases) assert.equal(recordedCertificate(input({ status: legacy, ...c })), undefined);
      const noMac: VaultCertificateStatus = { serialNumber: 'aa01' };
      assert.equal(recordedCertificate(input({ status: noMac })), undefined);
    });
  });

  it('supersedes the previous certificate unless it is the same one', () => {
    const next = { serialNumber: 'dd04', issuer: 'vault-pki/svc' };
    assert.deepEqual(superseded(ours, next), ours);
    assert.equal(superseded(ours, ours), undefined);
    assert.equal(superseded(undefined, next), undefined);
    assert.deepEqual(superseded(ours, { ...ours, issuer: 'other-pki' }), ours);
  });
});
