import assert from 'node:assert/strict';
import { computeSignature, signatureHeader, verifySignature } from './signature.ts';

describe('webhook signatures', () => {
  const key = 'test-signing-key';
  const body = '{"id":"1","type":"synced"}';
  const ts = 1767225600;
  const now = ts * 1000;

  it('is HMAC-SHA256 over "<timestamp>.<body>" in hex (the value openssl dgst -hmac gives)', () => {
    // printf '%s' '1767225600.{"id":"1","type":"synced"}' | openssl dgst -sha256 -hmac test-signing-key
    const expected = 'fbe4779d74e0dd862aef461ecb8ac4db173bf93cd3507dee5524fe977270b6e5';
    assert.equal(computeSignature(key, ts, body), expected);
    assert.equal(computeSignature(Buffer.from(key), String(ts), Buffer.from(body)), expected);
    assert.equal(signatureHeader(key, ts, body), `v1=${expected}`);
  });

  it('verifies a genuine delivery', () => {
    const r = verifySignature({
      key,
      body,
      signature: signatureHeader(key, ts, body),
      timestamp: String(ts),
      now,
    });
    assert.deepEqual(r, { ok: true, timestamp: ts });
  });

  it('refuses a changed body, another key, another timestamp', () => {
    const signature = signatureHeader(key, ts, body);
    const check = (o: { key?: string; body?: string; timestamp?: string }) =>
      verifySignature({
        key: o.key ?? key,
        body: o.body ?? body,
        signature,
        timestamp: o.timestamp ?? String(ts),
        now,
      });
    assert.deepEqual(check({ body: body.replace('synced', 'sync_failed') }), {
      ok: false,
      reason: 'mismatch',
    });
    assert.deepEqual(check({ body: `${body} ` }), { ok: false, reason: 'mismatch' });
    assert.deepEqual(check({ key: 'other-key' }), { ok: false, reason: 'mismatch' });
    // The timestamp is signed: moving it (within the tolerance) breaks the signature.
    assert.deepEqual(check({ timestamp: String(ts + 1) }), { ok: false, reason: 'mismatch' });
  });

  it('refuses timestamps outside the tolerance, in both directions, and malformed ones', () => {
    const at = (t: number, n = now, toleranceSeconds?: number) =>
      verifySignature({
        key,
        body,
        signature: signatureHeader(key, t, body),
        timestamp: String(t),
        now: n,
        ...(toleranceSeconds !== undefined && { toleranceSeconds }),
      });
    assert.equal(at(ts - 300).ok, true);
    assert.deepEqual(at(ts - 301), { ok: false, reason: 'stale' });
    assert.deepEqual(at(ts + 301), { ok: false, reason: 'stale' });
    assert.equal(at(ts - 3000, now, 3600).ok, true);
    for (const timestamp of ['', 'abc', '-1', '1.5', '1e9', '99999999999999']) {
      const r = verifySignature({ key, body, signature: signatureHeader(key, ts, body), timestamp, now });
      assert.equal(r.ok, false, timestamp);
    }
  });

  it('refuses missing headers and other schemes; accepts one matching signature among several', () => {
    const good = signatureHeader(key, ts, body);
    const hex = good.slice(3);
    const v = (signature: string | undefined) =>
      verifySignature({ key, body, signature, timestamp: String(ts), now });
    assert.deepEqual(v(undefined), { ok: false, reason: 'missing-header' });
    assert.deepEqual(verifySignature({ key, body, signature: good, timestamp: undefined, now }), {
      ok: false,
      reason: 'missing-header',
    });
    assert.deepEqual(v(`v0=${hex}`), { ok: false, reason: 'mismatch' });
    assert.deepEqual(v(hex), { ok: false, reason: 'mismatch' });
    assert.deepEqual(v(`v1=${hex.slice(0, 63)}`), { ok: false, reason: 'mismatch' });
    assert.deepEqual(v(`v1=${'0'.repeat(64)}`), { ok: false, reason: 'mismatch' });
    assert.equal(v(`v1=${'0'.repeat(64)}, ${good}`).ok, true);
    assert.equal(v(`v1=${hex.toUpperCase()}`).ok, true);
  });
});
