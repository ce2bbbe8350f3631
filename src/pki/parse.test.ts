import assert from 'node:assert/strict';
import { X509Certificate as NodeX509, webcrypto } from 'node:crypto';
import { certificateInfo, normalizeIp } from './parse.ts';
import { x509 } from './x509.ts';

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

async function certificate(
  name: string,
  names: x509.JsonGeneralName[] | null,
): Promise<x509.X509Certificate> {
  const keys = (await webcrypto.subtle.generateKey(algorithm, false, ['sign', 'verify'])) as never;
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '00a1',
    name,
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2027-01-01T00:00:00Z'),
    keys,
    signingAlgorithm: algorithm,
    extensions: names ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
}

describe('certificateInfo names', () => {
  // Node prints these names as `DNS:"b, DNS:evil.example"` and the like: a reader of that display
  // string must undo its quoting to tell one name from two. The decoded extension has no such step.
  const tricky: x509.JsonGeneralName[] = [
    { type: 'dns', value: 'a.example' },
    { type: 'dns', value: 'b, DNS:evil.example' },
    { type: 'dns', value: 'q"uote\\back' },
    { type: 'ip', value: '10.0.0.1' },
    { type: 'ip', value: 'fd00:0:0:0:0:0:0:1' },
    { type: 'url', value: 'spiffe://cluster.local/ns/shop/sa/a,b' },
    { type: 'url', value: 'https://h.example/p?q="x", URI:y' },
    { type: 'email', value: '"a, b"@shop.example' },
    { type: 'dn', value: 'CN=directory, O=name' },
  ];

  it('reads every DNS, IP, URI and email name exactly, however node would escape it', async () => {
    const cert = await certificate('CN=db\\, primary \\"eu\\", O=Shop', tricky);
    assert.match(new NodeX509(Buffer.from(cert.rawData)).subjectAltName ?? '', /"/, 'node quotes them');
    for (const input of [cert, cert.toString('pem'), Buffer.from(cert.toString('pem'))]) {
      const info = certificateInfo(input);
      assert.deepEqual(info.dnsNames, ['a.example', 'b, DNS:evil.example', 'q"uote\\back']);
      assert.deepEqual(info.ipAddresses, ['10.0.0.1', 'fd00::1']);
      assert.deepEqual(info.uris, [
        'spiffe://cluster.local/ns/shop/sa/a,b',
        'https://h.example/p?q="x", URI:y',
      ]);
      assert.deepEqual(info.emailAddresses, ['"a, b"@shop.example']);
      assert.equal(info.commonName, 'db, primary "eu"');
      assert.equal(info.serialNumber, 'a1');
    }
  });

  it('gives no names and no common name when the certificate has none', async () => {
    const info = certificateInfo(await certificate('O=Shop', null));
    assert.deepEqual([info.dnsNames, info.ipAddresses, info.uris, info.emailAddresses], [[], [], [], []]);
    assert.equal(info.commonName, undefined);
  });

  it('refuses what is not a certificate without quoting it', () => {
    assert.throws(
      () => certificateInfo('-----BEGIN CERTIFICATE-----\nc2VjcmV0\n-----END CERTIFICATE-----\n'),
      {
        name: 'CertificateFormatError',
        message: 'not a valid PEM certificate',
      },
    );
  });

  it('writes IP addresses in canonical text', () => {
    assert.equal(normalizeIp('FD00:0:0:0:0:0:0:1'), 'fd00::1');
    assert.equal(normalizeIp('10.0.0.1'), '10.0.0.1');
  });
});
