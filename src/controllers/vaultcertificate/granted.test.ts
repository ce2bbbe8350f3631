import { VaultCertificateReason } from '../../apis/v1alpha1/index.ts';
import assert from 'node:assert/strict';
import type { CertificateInfo } from '../../pki/index.ts';
import { grantProblem, formatHours } from './granted.ts';
import { desiredCertificate } from './spec.ts';
import { certificate } from './testing.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2030, 0, 1);

describe('VaultCertificate: does what the issuer granted fit the spec?', () => {
  const desired = desiredCertificate(certificate({ duration: '720h', dnsNames: ['api.shop.svc', 'api'] }));
  const cert = (over: Partial<CertificateInfo> = {}) =>
    ({
      serialNumber: 'aa',
      notBefore: new Date(T0),
      notAfter: new Date(T0 + 720 * HOUR),
      dnsNames: ['api', 'api.shop.svc'],
      ipAddresses: [],
      uris: [],
      emailAddresses: [],
      ...over,
    }) as CertificateInfo;
  const check = (c: CertificateInfo, warnings: string[] = [], renewalAt = T0 + 480 * HOUR) =>
    grantProblem({
      desired,
      issuerName: 'vault-pki',
      issued: { warnings },
      cert: c,
      requestedAt: T0,
      renewal: { at: renewalAt, renewBeforeMs: 240 * HOUR, adjusted: false },
      now: T0,
    });

  it('accepts the lifetime asked for, and one short by less than the tolerance (1% or a minute)', () => {
    assert.equal(check(cert()), undefined);
    assert.equal(check(cert({ notAfter: new Date(T0 + 720 * HOUR - 7 * 60_000) })), undefined);
  });

  it('refuses a capped lifetime, naming both and quoting the issuer’s warnings', () => {
    const problem = check(cert({ notAfter: new Date(T0 + 24 * HOUR) }), ['TTL capped']);
    assert.equal(problem?.reason, VaultCertificateReason.DurationNotGranted);
    assert.match(
      problem!.message,
      /^vault-pki granted 24h instead of the requested 720h: TTL capped; lower spec\.duration/,
    );
  });

  it('refuses a certificate without a requested name (names compared case-insensitively)', () => {
    assert.equal(check(cert({ dnsNames: ['API', 'Api.Shop.Svc'] })), undefined);
    const problem = check(cert({ dnsNames: ['api.shop.svc'] }));
    assert.equal(problem?.reason, VaultCertificateReason.NamesNotGranted);
    assert.equal(problem?.message, 'vault-pki issued a certificate that lacks api');
  });

  it('refuses a certificate already due for renewal (it would be issued again at once)', () => {
    const problem = check(cert(), [], T0);
    assert.equal(problem?.reason, VaultCertificateReason.DurationNotGranted);
    assert.match(problem!.message, /already due for renewal/);
  });

  it('formats lifetimes in hours, or minutes under one', () => {
    assert.equal(formatHours(90 * 60_000), '1.5h');
    assert.equal(formatHours(45 * 60_000), '45m');
  });
});
