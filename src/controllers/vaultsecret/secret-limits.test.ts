import assert from 'node:assert/strict';
import { MAX_SECRET_SIZE, dataProblem, invalidKeyReason, secretDataSize } from './secret-limits.ts';

const data = (entries: Record<string, string | Buffer>) =>
  new Map(Object.entries(entries).map(([k, v]) => [k, Buffer.isBuffer(v) ? v : Buffer.from(v)]));

describe('VaultSecret: Secret data limits', () => {
  it('accepts the keys the apiserver accepts', () => {
    for (const key of ['password', 'tls.crt', '.dockerconfigjson', 'A-b_c.9', '.a', 'k'.repeat(253)])
      assert.equal(invalidKeyReason(key), undefined, key);
  });

  it('refuses the keys the apiserver refuses', () => {
    for (const key of ['a b', 'a/b', '', '.', '..', '..a', 'k'.repeat(254), 'ключ', 'a\nb'])
      assert.ok(invalidKeyReason(key), JSON.stringify(key));
  });

  it('names the offending key, never a value', () => {
    const p = dataProblem(data({ ok: 'canary-value-1', 'a b': 'canary-value-2' }));
    assert.equal(p?.reason, 'InvalidKey');
    assert.match(p.message, /"a b"/);
    assert.ok(!p.message.includes('canary'), p.message);
  });

  it('caps a long key name in the message', () => {
    const p = dataProblem(data({ [`${'x'.repeat(300)}/`]: 'v' }));
    assert.equal(p?.reason, 'InvalidKey');
    assert.ok(p.message.length < 400, String(p.message.length));
  });

  it('counts value bytes like the apiserver: exactly 1 MiB passes, one byte more does not', () => {
    const half = Buffer.alloc(MAX_SECRET_SIZE / 2, 0x61);
    assert.equal(secretDataSize(data({ a: half, b: half })), MAX_SECRET_SIZE);
    assert.equal(dataProblem(data({ a: half, b: half })), undefined);
    const p = dataProblem(data({ a: half, b: half, c: 'x' }));
    assert.equal(p?.reason, 'SecretTooLarge');
    assert.match(p.message, /1048577 bytes/);
  });

  it('accepts empty data (the wipe guard decides about that)', () => {
    assert.equal(dataProblem(new Map()), undefined);
  });
});
