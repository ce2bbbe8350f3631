import assert from 'node:assert/strict';
import { type CertificateRequestSpec, createCsr } from './csr.ts';
import { generatePrivateKey, type PrivateKey } from './keys.ts';
import { type CertificateAuthority, createSelfSignedCa, signCsr } from './local-ca.ts';
import { EXTENDED_KEY_USAGES } from './usages.ts';
import { type X509KeyPair, type X509SigningAlgorithm, x509 } from './x509.ts';

const F = x509.KeyUsageFlags;
const HOUR = 3_600_000;

const request = (over: Partial<CertificateRequestSpec> = {}): CertificateRequestSpec => ({
  commonName: 'api.team-a.svc',
  dnsNames: ['api.team-a.svc'],
  ipAddresses: ['10.0.0.7'],
  uris: ['spiffe://cluster.local/ns/team-a/sa/api'],
  emailAddresses: [],
  subject: { organizations: ['Team A'] },
  usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
  isCA: false,
  ...over,
});

/** The facts a relying party reads, read back with @peculiar/x509. */
function readBack(pem: string) {
  const cert = new x509.X509Certificate(pem);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return {
    cert,
    ca: bc?.ca,
    pathLength: bc?.pathLength,
    bcCritical: bc?.critical,
    names: san?.names.items.map((n) => `${n.type}:${n.value}`) ?? [],
    keyUsage: cert.getExtension(x509.KeyUsagesExtension)?.usages ?? 0,
    eku: [...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])].map(String),
    subject: cert.subject,
    extensionTypes: cert.extensions.map((e) => e.type),
  };
}

describe('pki local CA signing: the certificate says what the request says', () => {
  let ca: CertificateAuthority;
  let key: PrivateKey;
  const now = Date.now();
  const validity = { notBefore: new Date(now - 60_000), notAfter: new Date(now + HOUR) };

  before(async () => {
    const caKey = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
    const caPem = await createSelfSignedCa({
      commonName: 'unit CA',
      key: caKey,
      notBefore: new Date(now - HOUR),
      notAfter: new Date(now + 24 * HOUR),
    });
    ca = { certificate: new x509.X509Certificate(caPem), key: caKey };
    key = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
  });

  async function bareCsr(extensions: x509.Extension[] = [], name: x509.JsonName = []): Promise<string> {
    const { keys, algorithm } = key.signingKeys();
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name,
      keys: keys as X509KeyPair,
      signingAlgorithm: algorithm as X509SigningAlgorithm,
      extensions,
    });
    return csr.toString('pem');
  }

  it('builds subject, SANs, key usage and EKU from the request; CA:FALSE, critical', async () => {
    const req = request();
    const got = readBack(await signCsr(ca, await createCsr(req, key), req, validity));
    assert.equal(got.ca, false);
    assert.equal(got.bcCritical, true);
    assert.deepEqual(got.names, [
      'dns:api.team-a.svc',
      'ip:10.0.0.7',
      'url:spiffe://cluster.local/ns/team-a/sa/api',
    ]);
    assert.equal(got.keyUsage, F.digitalSignature | F.keyEncipherment);
    assert.deepEqual(got.eku, [EXTENDED_KEY_USAGES['server auth'], EXTENDED_KEY_USAGES['client auth']]);
    assert.equal(got.subject, 'O=Team A, CN=api.team-a.svc');
    assert.ok(await got.cert.verify({ publicKey: ca.certificate.publicKey, signatureOnly: true }));
  });

  it('takes only the key from a CSR that asks for less: the names are the request’s', async () => {
    const req = request();
    const got = readBack(await signCsr(ca, await bareCsr(), req, validity));
    assert.deepEqual(got.names, [
      'dns:api.team-a.svc',
      'ip:10.0.0.7',
      'url:spiffe://cluster.local/ns/team-a/sa/api',
    ]);
    assert.equal(got.subject, 'O=Team A, CN=api.team-a.svc');
    assert.equal(got.ca, false);
  });

  it('never copies other extensions of the CSR (here: name constraints and a private OID)', async () => {
    const nameConstraints = new x509.Extension('2.5.29.30', true, new Uint8Array([0x30, 0x00]));
    const privateExt = new x509.Extension('1.3.6.1.4.1.99999.1', false, new Uint8Array([0x05, 0x00]));
    const req = request();
    const got = readBack(await signCsr(ca, await bareCsr([nameConstraints, privateExt]), req, validity));
    assert.ok(!got.extensionTypes.includes('2.5.29.30'));
    assert.ok(!got.extensionTypes.includes('1.3.6.1.4.1.99999.1'));
  });

  it('refuses a CSR asking for CA:TRUE, other names or usages, naming them; nothing is signed', async () => {
    const hostile = await bareCsr(
      [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'kubernetes.default.svc' }]),
        new x509.ExtendedKeyUsageExtension([EXTENDED_KEY_USAGES['code signing']!]),
      ],
      [{ CN: ['kubernetes.default.svc'] }],
    );
    await assert.rejects(signCsr(ca, hostile, request(), validity), (err: Error) => {
      assert.equal(err.name, 'CsrError');
      assert.match(err.message, /subject CN=kubernetes\.default\.svc/);
      assert.match(err.message, /DNS name "kubernetes\.default\.svc"/);
      assert.match(err.message, /extended key usage "code signing"/);
      assert.match(err.message, /CA:TRUE/);
      return true;
    });
  });

  it('refuses a CA certificate unless allowCA; with it: CA:TRUE, path length 0, keyCertSign', async () => {
    const req = request({ isCA: true, usages: ['digital signature'] });
    const csr = await createCsr(req, key);
    await assert.rejects(signCsr(ca, csr, req, validity), {
      name: 'CsrError',
      message: 'a CA certificate (isCA) was asked for, and this CA signs none (allowCA: false)',
    });
    await assert.rejects(signCsr(ca, csr, req, { ...validity, allowCA: false }), { name: 'CsrError' });
    const got = readBack(await signCsr(ca, csr, req, { ...validity, allowCA: true }));
    assert.equal(got.ca, true);
    assert.equal(got.pathLength, 0);
    assert.equal(got.bcCritical, true);
    assert.equal(got.keyUsage, F.digitalSignature | F.keyCertSign);
  });

  it('puts no subject and a critical SAN on a certificate whose request has no subject', async () => {
    const req = request({ commonName: undefined, subject: undefined });
    const pem = await signCsr(ca, await createCsr(req, key), req, validity);
    const cert = new x509.X509Certificate(pem);
    assert.equal(cert.subject, '');
    assert.equal(cert.getExtension(x509.SubjectAlternativeNameExtension)?.critical, true);
  });
});
