import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { secretDataMac } from './hmac.ts';
import { MacKeyError, MacKeyring, MacUse } from './mac-keyring.ts';
import { Sensitive } from './sensitive.ts';

const key = (fill: number, length = 32) => new Sensitive<Uint8Array>(Buffer.alloc(length, fill));
const b = (s: string) => Buffer.from(s, 'utf8');
const secret = (namespace: string, name = 'db') => ({ namespace, kind: 'Secret', name });
const data = { password: b('hunter2') };

describe('MacKeyring', () => {
  const keys = new MacKeyring(key(1));

  it('writes hmac-sha256:v2 MACs, stable over key order and map type', () => {
    const a = keys.mac(MacUse.VaultSecret, secret('team-a'), { a: b('1'), b: b('2') });
    const c = keys.mac(
      MacUse.VaultSecret,
      secret('team-a'),
      new Map([
        ['b', b('2')],
        ['a', b('1')],
      ]),
    );
    assert.equal(a, c);
    assert.match(a, /^hmac-sha256:v2:[A-Za-z0-9_-]{43}$/);
    assert.equal(a.includes('hunter2'), false);
  });

  it('binds the MAC to namespace, kind, name and use: equal values give unrelated MACs', () => {
    const macs = [
      keys.mac(MacUse.VaultSecret, secret('team-a'), data),
      keys.mac(MacUse.VaultSecret, secret('team-b'), data),
      keys.mac(MacUse.VaultSecret, secret('team-a', 'db2'), data),
      keys.mac(MacUse.VaultSecret, { namespace: 'team-a', kind: 'ConfigMap', name: 'db' }, data),
      keys.mac(MacUse.VaultCertificate, secret('team-a'), data),
      keys.mac(MacUse.PodTemplate, secret('team-a'), data),
      // Boundaries between the fields are unambiguous.
      keys.mac(MacUse.VaultSecret, { namespace: 'team-a', kind: 'Secretdb', name: '' }, data),
      secretDataMac(key(1), data),
    ];
    assert.equal(new Set(macs.map((m) => m.slice(-43))).size, macs.length);
  });

  it('says current for its own MAC, mismatch for other data or another object', () => {
    const mac = keys.mac(MacUse.VaultSecret, secret('team-a'), data);
    assert.equal(keys.verdict(MacUse.VaultSecret, secret('team-a'), data, mac), 'current');
    assert.equal(keys.verdict(MacUse.VaultSecret, secret('team-a'), { password: b('x') }, mac), 'mismatch');
    // A MAC copied from another namespace or use does not verify here.
    assert.equal(keys.verdict(MacUse.VaultSecret, secret('team-b'), data, mac), 'mismatch');
    assert.equal(keys.verdict(MacUse.VaultCertificate, secret('team-a'), data, mac), 'mismatch');
    assert.equal(keys.verdict(MacUse.VaultSecret, secret('team-a'), data, 'garbage'), 'mismatch');
    assert.equal(keys.verdict(MacUse.VaultSecret, secret('team-a'), data, ''), 'mismatch');
  });

  it('accepts a v1 MAC of the same data (written before the upgrade), never of other data', () => {
    const v1 = secretDataMac(key(1), data);
    assert.equal(keys.verdict(MacUse.VaultSecret, secret('team-a'), data, v1), 'accepted');
    assert.equal(keys.accepts(MacUse.VaultSecret, secret('team-a'), { password: b('y') }, v1), false);
    assert.equal(new MacKeyring(key(2)).accepts(MacUse.VaultSecret, secret('team-a'), data, v1), false);
  });

  it('rotates: the new key makes MACs, the previous one still verifies, then is gone', () => {
    const old = new MacKeyring(key(1));
    const oldMac = old.mac(MacUse.VaultSecret, secret('team-a'), data);
    const rotating = new MacKeyring(key(2), [key(1)]);
    const newMac = rotating.mac(MacUse.VaultSecret, secret('team-a'), data);
    assert.notEqual(newMac, oldMac);
    assert.equal(rotating.verdict(MacUse.VaultSecret, secret('team-a'), data, oldMac), 'accepted');
    assert.equal(rotating.verdict(MacUse.VaultSecret, secret('team-a'), data, newMac), 'current');
    assert.equal(
      rotating.verdict(MacUse.VaultSecret, secret('team-a'), data, secretDataMac(key(1), data)),
      'accepted',
    );
    const rotated = new MacKeyring(key(2));
    assert.equal(rotated.verdict(MacUse.VaultSecret, secret('team-a'), data, oldMac), 'mismatch');
    assert.notEqual(rotating.keyId, old.keyId);
    assert.equal(rotated.keyId, rotating.keyId);
    assert.match(rotated.keyId, /^[A-Za-z0-9_-]{4}$/);
  });

  it('refuses keys shorter than 32 bytes, naming where they came from and never the value', () => {
    const short = new Sensitive<Uint8Array>(Buffer.from('short-secret-key'));
    assert.throws(
      () => new MacKeyring(short, [], { current: 'Secret vaultsync/vaultsync-hmac-key key "key"' }),
      (err: unknown) =>
        err instanceof MacKeyError &&
        /^Secret vaultsync\/vaultsync-hmac-key key "key" holds 16 bytes; a MAC key needs at least 32/.test(
          err.message,
        ) &&
        !err.message.includes('short-secret-key'),
    );
    assert.throws(
      () => new MacKeyring(key(1), [key(2, 31)], { previous: ['key "previous"'] }),
      /key "previous" holds 31 bytes/,
    );
  });

  it('never prints a key', () => {
    const k = new MacKeyring(new Sensitive<Uint8Array>(Buffer.from('k'.repeat(40))));
    for (const text of [String(k), JSON.stringify({ k }), inspect(k), inspect({ k }, { depth: 5 })]) {
      assert.equal(text.includes('kkkk'), false, text);
    }
  });

  it('binds a use and an object', () => {
    const bound = keys.bind(MacUse.VaultSecret, secret('team-a'));
    const mac = bound.mac(data);
    assert.equal(mac, keys.mac(MacUse.VaultSecret, secret('team-a'), data));
    assert.equal(bound.verdict(data, mac), 'current');
    assert.equal(bound.verdict({}, mac), 'mismatch');
  });
});
