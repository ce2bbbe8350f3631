import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { BackendError } from '../../resilience/errors.ts';
import { mapVaultError } from './errors.ts';

const CANARY = 'hvs.CANARYtoken0123456789abcdef';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlLWNhbmFyeQ';
const VALUE = 'pw-value-canary';

/** Everything an error could leak through. */
function everything(err: BackendError): string {
  return [
    err.message,
    String(err),
    JSON.stringify(err),
    err.stack ?? '',
    inspect(err, { depth: Infinity, showHidden: true }),
    JSON.stringify(
      Object.getOwnPropertyNames(err).map((k) => (err as unknown as Record<string, unknown>)[k]),
    ),
  ].join('\n');
}

function assertClean(err: BackendError): void {
  const text = everything(err);
  for (const canary of [CANARY, JWT, VALUE, 'CANARY', 'X-Vault-Token']) {
    assert.equal(text.includes(canary), false, `leaked ${canary}: ${text}`);
  }
  assert.equal((err as { cause?: unknown }).cause, undefined);
}

/** What node-vault's axios path throws on a network failure: config with the token header. */
function axiosNetworkError(code: string) {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:8200 token=${CANARY}`), {
    code,
    isAxiosError: true,
    config: {
      url: 'https://vault:8200/v1/secret/data/shop/db',
      method: 'post',
      headers: { 'X-Vault-Token': CANARY, Authorization: `Bearer ${JWT}` },
      data: JSON.stringify({ data: { password: VALUE }, jwt: JWT }),
    },
    request: { _header: `POST /v1/secret/data/shop/db HTTP/1.1\r\nX-Vault-Token: ${CANARY}\r\n` },
  });
}

/** node-vault's ApiResponseError: the status and body of the answer. */
function apiResponseError(status: number, errors: unknown[], body: object = {}) {
  return Object.assign(new Error(String(errors[0] ?? `Status ${status}`)), {
    response: { statusCode: status, body: { errors, ...body } },
    config: { headers: { 'X-Vault-Token': CANARY } },
  });
}

describe('mapVaultError', () => {
  it('maps a network error by its code and keeps nothing of the axios config', () => {
    const err = mapVaultError(axiosNetworkError('ECONNREFUSED'), { what: 'read "shop/db"' });
    assert.equal(err.code, 'Unavailable');
    assert.equal(err.transient, true);
    assert.equal(err.message, 'vault read "shop/db": connection refused');
    assertClean(err);
  });

  it('maps TLS failures as not transient, with what to check', () => {
    const err = mapVaultError(axiosNetworkError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), { what: 'read "x"' });
    assert.equal(err.code, 'Unavailable');
    assert.equal(err.transient, false);
    assert.match(err.message, /tls\.caFile/);
    assertClean(err);
  });

  const statuses: [number, string, boolean, string][] = [
    [400, 'InvalidRequest', false, 'vault read "shop/db": invalid role name (HTTP 400)'],
    [401, 'Unauthenticated', false, 'vault read "shop/db": invalid role name (HTTP 401)'],
    [403, 'PermissionDenied', false, 'vault read "shop/db": invalid role name (HTTP 403)'],
    [429, 'Throttled', true, 'vault read "shop/db": invalid role name (HTTP 429)'],
    [500, 'Unavailable', true, 'vault read "shop/db": invalid role name (HTTP 500)'],
    [503, 'Unavailable', true, 'vault read "shop/db": invalid role name (HTTP 503)'],
    [418, 'InvalidRequest', false, 'vault read "shop/db": invalid role name (HTTP 418)'],
  ];
  for (const [status, code, transient, message] of statuses) {
    it(`maps HTTP ${status} to ${code}`, () => {
      const err = mapVaultError(apiResponseError(status, ['invalid role name']), { what: 'read "shop/db"' });
      assert.equal(err.code, code);
      assert.equal(err.transient, transient);
      assert.equal(err.message, message);
      assertClean(err);
    });
  }

  it('maps a KV v2 check-and-set mismatch to a transient Conflict, other 400s to InvalidRequest', () => {
    const cas = mapVaultError(
      apiResponseError(400, ['check-and-set parameter did not match the current version']),
      { what: 'write "a"' },
    );
    assert.equal(cas.code, 'Conflict');
    assert.equal(cas.transient, true);
    const required = mapVaultError(
      apiResponseError(400, ['check-and-set parameter required for this call']),
      {
        what: 'write "a"',
      },
    );
    assert.equal(required.code, 'InvalidRequest');
  });

  it('says "not found" for 404 and names a deleted version', () => {
    assert.equal(
      mapVaultError(apiResponseError(404, []), { what: 'read "a"' }).message,
      'vault read "a": not found (HTTP 404)',
    );
    const deleted = apiResponseError(404, [], {
      data: { data: null, metadata: { version: 3, deletion_time: '2025-01-01T00:00:00Z' } },
    });
    assert.equal(
      mapVaultError(deleted, { what: 'read "a"' }).message,
      'vault read "a": version 3 was deleted (HTTP 404)',
    );
  });

  it("redacts credentials inside Vault's own error texts and caps their length", () => {
    const err = mapVaultError(
      apiResponseError(400, [`bad token ${CANARY} and jwt ${JWT}`, 'x'.repeat(5000), 'third', 'fourth']),
      { what: 'login at auth/kubernetes' },
    );
    assert.match(err.message, /bad token \[REDACTED\] and jwt \[REDACTED\]/);
    assert.equal(err.message.includes('fourth'), false);
    assert.ok(err.message.length <= 400);
    assertClean(err);
  });

  it('reads Retry-After of an axios-shaped 429', () => {
    const err = mapVaultError(
      {
        response: {
          status: 429,
          data: { errors: ['rate limit quota exceeded'] },
          headers: { 'retry-after': '7' },
        },
      },
      { what: 'read "a"' },
    );
    assert.equal(err.code, 'Throttled');
    assert.equal(err.retryAfterMs, 7000);
  });

  it('keeps only the class name of an unknown error', () => {
    const err = mapVaultError(new RangeError(`weird ${CANARY} ${VALUE}`), { what: 'read "a"' });
    assert.equal(err.code, 'Unknown');
    assert.equal(err.message, 'vault read "a": unexpected RangeError');
    assertClean(err);
    assertClean(mapVaultError({ toString: () => CANARY }, { what: 'x' }));
    assertClean(mapVaultError(CANARY, { what: 'x' }));
  });

  it('passes our own errors through', () => {
    const ours = new BackendError('Throttled', 'slow', { retryAfterMs: 5 });
    assert.equal(mapVaultError(ours, { what: 'x' }), ours);
  });
});
