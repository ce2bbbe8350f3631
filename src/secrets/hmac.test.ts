import assert from 'node:assert/strict';
import { macEqual, secretDataMac } from './hmac.ts';
import { Sensitive } from './sensitive.ts';

const key = new Sensitive<Uint8Array>(Buffer.from('0123456789abcdef0123456789abcdef'));
const b = (s: string) => Buffer.from(s, 'utf8');

describe('secretDataMac', () => {
  it('is stable over key order and map type', () => {
    const m1 = secretDataMac(
      key,
      new Map([
        ['a', b('1')],
        ['b', b('2')],
      ]),
    );
    const m2 = secretDataMac(
      key,
      new Map([
        ['b', b('2')],
        ['a', b('1')],
      ]),
    );
    const m3 = secretDataMac(key, { b: b('2'), a: b('1') });
    assert.equal(m1, m2);
    assert.equal(m1, m3);
    assert.match(m1, /^hmac-sha256:v1:[A-Za-z0-9_-]{43}$/);
  });

  it('changes with any key, value or the MAC key', () => {
    const base = secretDataMac(key, { a: b('1') });
    assert.notEqual(secretDataMac(key, { a: b('2') }), base);
    assert.notEqual(secretDataMac(key, { c: b('1') }), base);
    assert.notEqual(secretDataMac(key, { a: b('1'), c: b('') }), base);
    assert.notEqual(secretDataMac(new Sensitive<Uint8Array>(Buffer.from('other')), { a: b('1') }), base);
  });

  it('does not confuse boundaries between keys and values', () => {
    assert.notEqual(secretDataMac(key, { a: b('bc') }), secretDataMac(key, { ab: b('c') }));
    assert.notEqual(secretDataMac(key, {}), secretDataMac(key, { '': b('') }));
  });

  it('never contains the data', () => {
    const mac = secretDataMac(key, { password: b('hunter2') });
    assert.equal(mac.includes('hunter2'), false);
  });
});

describe('macEqual', () => {
  it('compares equal and different MACs', () => {
    const m = secretDataMac(key, { a: b('1') });
    assert.equal(macEqual(m, m.slice()), true);
    assert.equal(macEqual(m, secretDataMac(key, { a: b('2') })), false);
    assert.equal(macEqual(m, 'short'), false);
    assert.equal(macEqual('', ''), true);
  });
});
