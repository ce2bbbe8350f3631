import assert from 'node:assert/strict';
import { CredentialUnavailableError } from '@azure/identity';
import { mapAzureError } from './errors.ts';

/** The parts of a RestError the mapper reads, as @azure/core-rest-pipeline sets them. */
function restError(
  statusCode: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  body?: unknown,
) {
  return Object.assign(new Error(message), {
    name: 'RestError',
    statusCode,
    code,
    request: { headers: { get: () => 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig' } },
    response: {
      headers: { get: (n: string) => headers[n.toLowerCase()] },
      bodyAsText: body === undefined ? undefined : JSON.stringify(body),
    },
  });
}

describe('mapAzureError', () => {
  it('maps 429 to Throttled with its Retry-After', () => {
    const mapped = mapAzureError(
      restError(429, 'Throttled', 'Too many requests', { 'retry-after': '7' }),
      'read "x"',
    );
    assert.equal(mapped.code, 'Throttled');
    assert.equal(mapped.retryAfterMs, 7000);
    assert.equal(mapped.message, 'azure read "x": rate limit reached (Throttled, HTTP 429)');
  });

  it('maps not found, forbidden, disabled and conflicts', () => {
    assert.equal(
      mapAzureError(restError(404, 'SecretNotFound', 'A secret with (name/id) x was not found'), 'r').code,
      'NotFound',
    );
    const forbidden = mapAzureError(
      restError(
        403,
        'Forbidden',
        "The user, group or application 'appid=1' does not have secrets get permission",
      ),
      'r',
    );
    assert.equal(forbidden.code, 'PermissionDenied');
    assert.match(forbidden.message, /does not have secrets get permission/);
    const disabled = mapAzureError(
      restError(
        403,
        'Forbidden',
        'Operation get is not allowed on a disabled secret.',
        {},
        { error: { innererror: { code: 'SecretDisabled' } } },
      ),
      'r',
    );
    assert.equal(disabled.code, 'NotFound');
    assert.equal(
      mapAzureError(restError(409, 'Conflict', 'deleted but recoverable'), 'r').code,
      'InvalidRequest',
    );
    assert.equal(mapAzureError(restError(503, 'ServiceUnavailable', 'x'), 'r').code, 'Unavailable');
  });

  it('never shows the request or token texts', () => {
    const mapped = mapAzureError(
      restError(401, 'Unauthorized', 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig bad'),
      'r',
    );
    assert.equal(mapped.code, 'Unauthenticated');
    assert.equal(JSON.stringify(mapped).includes('eyJ'), false);
    const cred = mapAzureError(
      new CredentialUnavailableError('WorkloadIdentityCredential: token file /var/run/x'),
      'r',
    );
    assert.equal(cred.code, 'Unauthenticated');
    assert.equal(cred.message.includes('/var/run'), false);
  });

  it('maps network failures and TLS problems', () => {
    const refused = mapAzureError(
      Object.assign(new Error('connect'), { name: 'RestError', code: 'ECONNREFUSED' }),
      'r',
    );
    assert.equal(refused.code, 'Unavailable');
    const tls = mapAzureError(
      Object.assign(new Error('self-signed'), { name: 'RestError', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
      'r',
    );
    assert.equal(tls.code, 'Unavailable');
    assert.equal(tls.transient, false);
  });
});
