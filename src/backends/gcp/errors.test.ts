import assert from 'node:assert/strict';
import { GoogleError } from 'google-gax';
import { mapGcpError } from './errors.ts';
import { crc32c } from './crc32c.ts';

function googleError(code: number, details: string, statusDetails?: unknown[]): GoogleError {
  const e = Object.assign(new GoogleError(`${code} X: ${details}`), { details });
  e.code = code;
  if (statusDetails) e.statusDetails = statusDetails as GoogleError['statusDetails'];
  return e;
}

describe('mapGcpError', () => {
  it('maps RESOURCE_EXHAUSTED to Throttled with the RetryInfo delay', () => {
    const mapped = mapGcpError(
      googleError(8, 'Quota exceeded', [{ retryDelay: { seconds: 2, nanos: 500_000_000 } }]),
      'read "x"',
    );
    assert.equal(mapped.code, 'Throttled');
    assert.equal(mapped.retryAfterMs, 2500);
    assert.equal(mapped.message, 'gcp read "x": quota exhausted (gRPC 8)');
    assert.equal(mapGcpError(googleError(8, 'Quota exceeded'), 'r').retryAfterMs, undefined);
  });

  it('maps ALREADY_EXISTS (CreateSecret over an existing secret) to Conflict', () => {
    assert.equal(
      mapGcpError(googleError(6, 'Secret [projects/p/secrets/s] already exists.'), 'w').code,
      'Conflict',
    );
  });

  it('maps NOT_FOUND, PERMISSION_DENIED and disabled or destroyed versions', () => {
    assert.equal(
      mapGcpError(googleError(5, 'Secret [projects/p/secrets/s] not found'), 'r').code,
      'NotFound',
    );
    const denied = mapGcpError(googleError(7, "Permission 'secretmanager.versions.access' denied"), 'r');
    assert.equal(denied.code, 'PermissionDenied');
    assert.match(denied.message, /secretmanager\.versions\.access/);
    const destroyed = mapGcpError(googleError(9, 'Secret Version [p/1] is in DESTROYED state.'), 'r');
    assert.equal(destroyed.code, 'NotFound');
    assert.equal(destroyed.message, 'gcp r: the version is destroyed');
  });

  it('turns a failed credential plugin into Unauthenticated without its text', () => {
    const mapped = mapGcpError(
      googleError(
        14,
        'Getting metadata from plugin failed with error: invalid_grant eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig',
      ),
      'r',
    );
    assert.equal(mapped.code, 'Unauthenticated');
    assert.equal(mapped.message.includes('eyJ'), false);
    assert.equal(mapGcpError(googleError(14, 'Connection dropped'), 'r').code, 'Unavailable');
    assert.equal(
      mapGcpError(googleError(16, 'Request had invalid authentication credentials'), 'r').code,
      'Unauthenticated',
    );
  });
});

describe('crc32c', () => {
  it('matches the standard check value', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(0)), 0);
  });
});
