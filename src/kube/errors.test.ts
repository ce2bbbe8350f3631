import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { ApiException } from '@kubernetes/client-node';
import {
  KubeError,
  fromStatus,
  isAlreadyExists,
  isConflict,
  isInvalid,
  isNotFound,
  isTransient,
  parseRetryAfter,
  toKubeError,
} from './errors.ts';

const PLANTED = 'planted-Zx9-secret-value';

function status(code: number, reason: string, message: string, details?: object) {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    code,
    reason,
    message,
    details,
  });
}

/** Everything a log line, a status write or a crash report could show of the error. */
function everything(err: KubeError): string {
  return [
    err.message,
    err.stack,
    JSON.stringify(err),
    inspect(err, { depth: 10, showHidden: true }),
    String(err),
  ].join('\n');
}

describe('toKubeError', () => {
  it('maps 404, 409 Conflict, 409 AlreadyExists and 422 from real Status bodies', () => {
    const cases: [number, string, string][] = [
      [404, 'NotFound', 'NotFound'],
      [409, 'Conflict', 'Conflict'],
      [409, 'AlreadyExists', 'AlreadyExists'],
      [422, 'Invalid', 'Invalid'],
      [403, 'Forbidden', 'Forbidden'],
      [401, 'Unauthorized', 'Unauthorized'],
      [410, 'Expired', 'Gone'],
      [429, 'TooManyRequests', 'TooManyRequests'],
      [504, 'Timeout', 'Timeout'],
      [503, 'ServiceUnavailable', 'Unavailable'],
      [500, 'InternalError', 'Unknown'],
    ];
    for (const [code, reason, expected] of cases) {
      const e = toKubeError(new ApiException(code, 'x', status(code, reason, 'm'), {}));
      assert.equal(e.code, expected, `${code} ${reason}`);
      assert.equal(e.status, code);
    }
  });

  it('classifies conflicts, throttling, timeouts and 5xx as transient, user faults as not', () => {
    const t = (code: number, reason: string) =>
      toKubeError(new ApiException(code, 'x', status(code, reason, ''), {}));
    assert.equal(t(409, 'Conflict').transient, true);
    assert.equal(t(429, 'TooManyRequests').transient, true);
    assert.equal(t(500, 'InternalError').transient, true);
    assert.equal(t(503, 'ServiceUnavailable').transient, true);
    assert.equal(t(404, 'NotFound').transient, false);
    assert.equal(t(422, 'Invalid').transient, false);
    assert.equal(t(403, 'Forbidden').transient, false);
    assert.equal(t(409, 'AlreadyExists').transient, false);
  });

  it('builds the message from reason and the Status message only', () => {
    const e = toKubeError(
      new ApiException(
        404,
        'Unsuccessful HTTP Request',
        status(404, 'NotFound', 'secrets "db" not found'),
        {},
      ),
    );
    assert.equal(e.message, 'NotFound (HTTP 404): secrets "db" not found');
    assert.equal(e.reason, 'NotFound');
  });

  it('never carries a planted header, body field or request option value', () => {
    const body = JSON.parse(
      status(422, 'Invalid', 'Secret "db" is invalid', { kind: 'secrets', name: 'db' }),
    );
    body.details.causes = [
      { field: 'data[x]', reason: 'FieldValueInvalid', message: `Invalid value: "${PLANTED}"` },
    ];
    body.extra = PLANTED;
    const headers = { authorization: `Bearer ${PLANTED}`, 'set-cookie': PLANTED, 'retry-after': '3' };
    const api = new ApiException(422, 'Unsuccessful HTTP Request', JSON.stringify(body), headers);
    assert.ok(api.message.includes(PLANTED), 'precondition: client-node puts it in its message');
    const e = toKubeError(api);
    assert.ok(!everything(e).includes(PLANTED));
    assert.deepEqual(e.details?.causes, [{ field: 'data[x]', reason: 'FieldValueInvalid' }]);
  });

  it('never carries the request options of a network error', () => {
    const cause = Object.assign(new Error(`connect ECONNREFUSED ${PLANTED}`), { code: 'ECONNREFUSED' });
    const err = Object.assign(new TypeError('fetch failed', { cause }), {
      config: { headers: { Authorization: `Bearer ${PLANTED}` } },
    });
    const e = toKubeError(err);
    assert.equal(e.code, 'Unavailable');
    assert.equal(e.transient, true);
    assert.ok(!everything(e).includes(PLANTED));
  });

  it('reduces an unknown error to its name', () => {
    const e = toKubeError(new SyntaxError(`Unexpected token in JSON: "${PLANTED}"`));
    assert.equal(e.code, 'Unknown');
    assert.ok(!everything(e).includes(PLANTED));
    assert.ok(e.message.includes('SyntaxError'));
  });

  it('caps a long Status message', () => {
    const e = toKubeError(new ApiException(422, 'x', status(422, 'Invalid', 'y'.repeat(5000)), {}));
    assert.ok(e.message.length < 400);
  });

  it('reads Retry-After from the header or from Status details', () => {
    const fromHeader = toKubeError(
      new ApiException(429, 'x', status(429, 'TooManyRequests', ''), { 'Retry-After': '5' }),
    );
    assert.equal(fromHeader.retryAfterMs, 5000);
    const fromDetails = toKubeError(
      new ApiException(429, 'x', status(429, 'TooManyRequests', '', { retryAfterSeconds: 2 }), {}),
    );
    assert.equal(fromDetails.retryAfterMs, 2000);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2030 00:00:10 GMT', Date.UTC(2030, 0, 1)), 10_000);
  });

  it('maps a timeout abort and a watch status code', () => {
    assert.equal(toKubeError(new DOMException('t', 'TimeoutError')).code, 'Timeout');
    assert.equal(toKubeError(Object.assign(new Error('Gone'), { statusCode: 410 })).code, 'Gone');
    assert.equal(
      fromStatus({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old' }).code,
      'Gone',
    );
  });

  it('accepts an object body as typed APIs give it', () => {
    const e = toKubeError(
      new ApiException(404, 'x', { kind: 'Status', reason: 'NotFound', message: 'gone' }, {}),
    );
    assert.equal(e.code, 'NotFound');
  });

  it('answers the is* helpers for raw and mapped errors alike', () => {
    const raw = new ApiException(404, 'x', status(404, 'NotFound', ''), {});
    assert.equal(isNotFound(raw), true);
    assert.equal(isNotFound(toKubeError(raw)), true);
    assert.equal(isConflict(new ApiException(409, 'x', status(409, 'Conflict', ''), {})), true);
    assert.equal(isAlreadyExists(new ApiException(409, 'x', status(409, 'AlreadyExists', ''), {})), true);
    assert.equal(isInvalid(new ApiException(422, 'x', status(422, 'Invalid', ''), {})), true);
    assert.equal(isTransient(new Error('whatever')), false);
    const mapped = toKubeError(raw);
    assert.equal(toKubeError(mapped), mapped, 'mapping is idempotent');
  });
});
