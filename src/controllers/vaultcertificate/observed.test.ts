import assert from 'node:assert/strict';
import type { V1Secret } from '@kubernetes/client-node';
import { secretDataMac } from '../../secrets/hmac.ts';
import { MacKeyring } from '../../secrets/mac-keyring.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import { observeSecret } from './observed.ts';
import { secretEdited } from './policies.ts';
import { materialMacOf } from './material.ts';
import { MAC_KEYS } from './secret.ts';

const master = new Sensitive<Uint8Array>(Buffer.alloc(32, 9));
const macKeys = new MacKeyring(master);
const b64 = (s: string) => Buffer.from(s).toString('base64');
const tlsSecret = (namespace: string, crt = 'crt', name = 'api-tls'): V1Secret => ({
  metadata: { namespace, name },
  type: 'kubernetes.io/tls',
  data: { 'tls.crt': b64(crt), 'tls.key': b64('key'), 'ca.crt': b64('ca') },
});
const material = (crt: string) =>
  new Map<string, Buffer>([
    [MAC_KEYS[0], Buffer.from(crt)],
    [MAC_KEYS[1], Buffer.from('key')],
    [MAC_KEYS[2], Buffer.from('ca')],
  ]);
/** Only what secretEdited reads. */
const edited = (secret: V1Secret, expectedMac: string) =>
  secretEdited({ observed: observeSecret(secret, macKeys), expectedMac } as never);

describe('VaultCertificate MAC (certificateMAC)', () => {
  it('is bound to the Secret: equal material in two namespaces or Secrets gives unrelated MACs', () => {
    const a = observeSecret(tlsSecret('team-a'), macKeys).mac!;
    assert.match(a, /^hmac-sha256:v2:/);
    assert.notEqual(observeSecret(tlsSecret('team-b'), macKeys).mac, a);
    assert.notEqual(observeSecret(tlsSecret('team-a', 'crt', 'other-tls'), macKeys).mac, a);
    // The MAC of what is applied equals the MAC of what is then read back.
    assert.equal(materialMacOf(macKeys, tlsSecret('team-a')), a);
  });

  it('takes a status MAC from before the upgrade (v1) as the same material, not as an edit', () => {
    const v1 = secretDataMac(master, material('crt'));
    const observed = observeSecret(tlsSecret('team-a'), macKeys);
    assert.equal(observed.macVerdict?.(v1), 'accepted');
    assert.equal(edited(tlsSecret('team-a'), v1), undefined);
    assert.equal(observed.macVerdict?.(observed.mac!), 'current');
  });

  it('still sees an edit: other material, or a MAC copied from another namespace', () => {
    const v1 = secretDataMac(master, material('crt'));
    assert.equal(edited(tlsSecret('team-a', 'forged'), v1)?.reason, 'SecretEdited');
    const fromTeamB = observeSecret(tlsSecret('team-b'), macKeys).mac!;
    assert.equal(edited(tlsSecret('team-a'), fromTeamB)?.reason, 'SecretEdited');
  });
});
