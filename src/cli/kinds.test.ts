import assert from 'node:assert/strict';
import { kindNamed, parseKindAndName } from './kinds.ts';

describe('kubectl vaultsync: kinds', () => {
  it('knows each kind by kind, plural, singular, short name and group suffix, in any case', () => {
    for (const name of [
      'VaultSecret',
      'vaultsecrets',
      'vaultsecret',
      'vsecret',
      'vaultsecret.vaultsync.io',
    ]) {
      assert.equal(kindNamed(name)?.kind, 'VaultSecret', name);
    }
    assert.equal(kindNamed('vcert')?.kind, 'VaultCertificate');
    assert.equal(kindNamed('certificate')?.kind, 'VaultCertificate');
    assert.equal(kindNamed('SecretRotations')?.kind, 'SecretRotation');
    assert.equal(kindNamed('srot')?.kind, 'SecretRotation');
    assert.equal(kindNamed('secret'), undefined);
  });

  it('parses <kind>/<name> and says what is wrong otherwise', () => {
    assert.deepEqual(parseKindAndName('vsecret/db'), { kind: 'VaultSecret', name: 'db' });
    assert.throws(() => parseKindAndName('db'), /expected <kind>\/<name>/);
    assert.throws(() => parseKindAndName('vaultsecret/'), /expected <kind>\/<name>/);
    assert.throws(() => parseKindAndName('deployment/web'), /unknown kind "deployment"/);
  });
});
