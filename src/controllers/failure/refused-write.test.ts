import assert from 'node:assert/strict';
import { KubeError } from '../../kube/errors.ts';
import { apiError } from '../../kube/testing.ts';
import { refusedWrite, refusedWriteMessage } from './refused-write.ts';

describe('failure: refused writes', () => {
  it('treats 4xx refusals as final, conflicts, throttling, 5xx and non-Kubernetes errors not', () => {
    assert.ok(refusedWrite(apiError(422, 'Invalid')));
    assert.ok(refusedWrite(apiError(403, 'Forbidden')));
    assert.ok(refusedWrite(apiError(400, 'BadRequest')));
    assert.equal(refusedWrite(apiError(409, 'Conflict')), undefined);
    assert.equal(refusedWrite(apiError(429, 'TooManyRequests')), undefined);
    assert.equal(refusedWrite(apiError(500, 'InternalError')), undefined);
    assert.equal(refusedWrite(new KubeError({ code: 'Unavailable', status: 0, message: 'x' })), undefined);
    assert.equal(refusedWrite(new Error('NotLeader')), undefined);
  });

  it("keeps the apiserver's message but never a value being written", () => {
    const canary = 'canary-9f3e-secret';
    const err = apiError(
      422,
      'Invalid',
      `Secret "db" is invalid: data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters; policy saw ${canary} and ${Buffer.from(canary).toString('base64')}`,
    );
    const msg = refusedWriteMessage('Secret db', err, [Buffer.from(canary), Buffer.from('ab')]);
    assert.match(
      msg,
      /^the apiserver refused the write of Secret db: Invalid \(HTTP 422\): Secret "db" is invalid: data\[a b\]/,
    );
    assert.ok(!msg.includes(canary), msg);
    assert.ok(!msg.includes(Buffer.from(canary).toString('base64')), msg);
    assert.match(msg, /\[redacted\]/);
    assert.match(msg, /a b/, 'short values are not searched for');
  });

  it('cuts out a value the capped apiserver message ends in the middle of', () => {
    const canary = 'canary-9f3e-secret';
    const capped = `Invalid (HTTP 422): ${'x'.repeat(50)} ${canary.slice(0, 10)}…`;
    const err = new KubeError({ code: 'Invalid', status: 422, message: capped });
    const msg = refusedWriteMessage('Secret db', err, [Buffer.from(canary)]);
    assert.ok(!msg.includes('canary-9f'), msg);
    assert.match(msg, /\[redacted\]…$/);
  });

  it('caps the message', () => {
    const msg = refusedWriteMessage('Secret db', apiError(422, 'Invalid', 'x'.repeat(5000)));
    assert.ok(msg.length <= 401, String(msg.length));
  });
});
