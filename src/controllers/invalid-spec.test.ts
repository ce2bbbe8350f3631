import assert from 'node:assert/strict';
import { invalidSpecMessage } from './invalid-spec.ts';

describe('invalidSpecMessage', () => {
  const certificate = { issuer: { backend: 'ca' }, dnsNames: ['a.shop.svc'], secretName: 'a-tls' };
  const rotation = {
    backend: 'vault',
    path: 'shop/db',
    interval: '720h',
    generate: { password: { type: 'password' } },
  };

  it('passes a valid spec', () => {
    assert.equal(invalidSpecMessage('VaultCertificate', certificate), undefined);
    assert.equal(invalidSpecMessage('SecretRotation', rotation), undefined);
  });

  it('names what only the CEL rules refuse (objects stored past them)', () => {
    assert.match(
      invalidSpecMessage('VaultCertificate', { ...certificate, duration: '1h', renewBefore: '2h' }) ?? '',
      /spec\.renewBefore: .*renewBefore must be shorter than duration/,
    );
    assert.match(
      invalidSpecMessage('SecretRotation', { ...rotation, interval: '1ms' }) ?? '',
      /spec\.interval: .*interval must be at least 1m/,
    );
  });

  it('names schema problems (a duration parseDuration would throw on) and caps the list', () => {
    const message = invalidSpecMessage('SecretRotation', {
      ...rotation,
      interval: 'soon',
      strategy: 'Sometimes',
      suspend: 'yes',
      extra: 1,
    });
    assert.match(message ?? '', /spec\.strategy: Unsupported value: "Sometimes"/);
    assert.match(message ?? '', /; and 1 more$/);
    assert.match(
      invalidSpecMessage('SecretRotation', { ...rotation, interval: 'soon' }) ?? '',
      /spec\.interval: .*must be a duration/,
    );
  });

  it('does not throw on a missing spec', () => {
    assert.match(invalidSpecMessage('VaultCertificate', undefined) ?? '', /spec: Required value/);
  });
});
