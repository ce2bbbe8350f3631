import assert from 'node:assert/strict';
import { keyringFromSecret } from './hmac-key.ts';
import { MacKeyError, MacKeyring, MacUse } from './secrets/mac-keyring.ts';
import { Sensitive } from './secrets/sensitive.ts';

const b64 = (fill: number, length = 32) => Buffer.alloc(length, fill).toString('base64');
const secret = (data: Record<string, string>) => ({ data });
const subject = { namespace: 'shop', kind: 'Secret', name: 'db' };
const data = { password: Buffer.from('hunter2') };

describe('MAC key Secret', () => {
  it('has no keyring before the Secret holds a key', () => {
    assert.equal(keyringFromSecret(undefined, 'vaultsync'), undefined);
    assert.equal(keyringFromSecret(secret({}), 'vaultsync'), undefined);
  });

  it('reads key, and previous while a key is rotated out', () => {
    const old = new MacKeyring(new Sensitive<Uint8Array>(Buffer.alloc(32, 1)));
    const oldMac = old.mac(MacUse.VaultSecret, subject, data);
    const rotating = keyringFromSecret(secret({ key: b64(2), previous: b64(1) }), 'vaultsync')!;
    assert.equal(rotating.verdict(MacUse.VaultSecret, subject, data, oldMac), 'accepted');
    const rotated = keyringFromSecret(secret({ key: b64(2) }), 'vaultsync')!;
    assert.equal(rotated.verdict(MacUse.VaultSecret, subject, data, oldMac), 'mismatch');
    assert.equal(
      rotated.mac(MacUse.VaultSecret, subject, data),
      rotating.mac(MacUse.VaultSecret, subject, data),
    );
  });

  it('refuses a key shorter than 32 bytes, naming the Secret and its key', () => {
    assert.throws(
      () => keyringFromSecret(secret({ key: b64(1, 16) }), 'vaultsync'),
      (err: unknown) =>
        err instanceof MacKeyError &&
        err.message.startsWith('Secret vaultsync/vaultsync-hmac-key key "key" holds 16 bytes'),
    );
    assert.throws(
      () => keyringFromSecret(secret({ key: b64(1), previous: b64(2, 8) }), 'vaultsync'),
      /Secret vaultsync\/vaultsync-hmac-key key "previous" holds 8 bytes/,
    );
  });
});
