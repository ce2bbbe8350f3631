import assert from 'node:assert/strict';
import { observeSecret } from './observed.ts';
import { appliedObservation, heldMaterial, materialMacOf, secretFor } from './material.ts';
import { desiredCertificate } from './spec.ts';
import { certificate, issuedSecret, macKeys, testCa } from './testing.ts';

const T0 = Date.UTC(2030, 0, 1);

describe('VaultCertificate: the material a Secret is written from', function () {
  this.timeout(10_000);

  it('rewrites what a Secret holds into the same data (a CA missing from it: the chain’s last, else the leaf)', async () => {
    const vc = certificate({ additionalOutputFormats: [{ type: 'CombinedPEM' }] });
    const ca = await testCa(T0);
    const { secret } = await issuedSecret(certificate(), ca, { notBefore: T0, notAfter: T0 + 86_400_000 });
    const observed = observeSecret(secret, macKeys);
    const desired = desiredCertificate(vc);
    const want = secretFor(vc, desired, heldMaterial(desired, observed), 1);
    for (const k of ['tls.crt', 'tls.key', 'ca.crt']) assert.equal(want.data?.[k], secret.data?.[k], k);
    assert.ok(want.data?.['tls-combined.pem'], 'the extra output the spec asks for');
    const noCa = observeSecret({ ...secret, data: { ...secret.data, 'ca.crt': '' } }, macKeys);
    assert.equal(heldMaterial(desired, noCa).caPem, noCa.certPem);
  });

  it('the Secret just applied parses as observeSecret would parse it', async () => {
    const vc = certificate();
    const ca = await testCa(T0);
    const { secret, key } = await issuedSecret(vc, ca, { notBefore: T0, notAfter: T0 + 86_400_000 });
    const observed = observeSecret(secret, macKeys);
    const desired = desiredCertificate(vc);
    const mac = materialMacOf(macKeys, secret);
    assert.equal(mac, observed.mac);
    const applied = appliedObservation({
      vc,
      desired,
      material: heldMaterial(desired, observed),
      cert: observed.cert!,
      key,
      mac,
      revision: 1,
      resourceVersion: '1',
    });
    for (const k of [
      'exists',
      'hasData',
      'certPem',
      'chainPem',
      'caPem',
      'mac',
      'issuer',
      'requestHash',
      'revision',
      'resourceVersion',
    ] as const)
      assert.deepEqual(applied[k], observed[k], k);
    assert.equal(applied.verified, '1/1');
  });
});
