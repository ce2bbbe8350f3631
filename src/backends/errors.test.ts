import assert from 'node:assert/strict';
import { parseRetryAfter, sanitizeServerText } from './errors.ts';

describe('sanitizeServerText', () => {
  it('removes control characters and credential-shaped strings', () => {
    assert.equal(
      sanitizeServerText('1 error occurred:\n\t* permission denied\n\n'),
      '1 error occurred: * permission denied',
    );
    assert.equal(sanitizeServerText('token s.AAAAAAAAAAAAAAAAAAAAAAAA bad'), 'token [REDACTED] bad');
    assert.equal(sanitizeServerText('Authorization: Bearer abc.def-ghi'), 'Authorization: [REDACTED]');
    assert.equal(sanitizeServerText('role 9a1b2c3d-1111-2222-3333-444455556666'), 'role [REDACTED]');
    assert.equal(sanitizeServerText(42), '');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter(['2'], now), 2000);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});
