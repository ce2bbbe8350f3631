import assert from 'node:assert/strict';
import { type CertificateRequestSpec, createCsr } from './csr.ts';
import { CsrError, type CsrRequest, assertCsrWithinRequest, csrExcess, readCsr } from './csr-policy.ts';
import { generatePrivateKey, type PrivateKey } from './keys.ts';
import { type X509KeyPair, type X509SigningAlgorithm, x509 } from './x509.ts';

const request = (over: Partial<CertificateRequestSpec> = {}): CertificateRequestSpec => ({
  commonName: 'api.team-a.svc',
  dnsNames: ['api.team-a.svc', 'api.team-a.svc.cluster.local'],
  ipAddresses: ['10.0.0.1', 'fd00::1'],
  uris: ['spiffe://cluster.local/ns/team-a/sa/api'],
  emailAddresses: ['ops@team-a.svc'],
  subject: { organizations: ['Team A'] },
  usages: ['digital signature', 'key encipherment', 'server auth'],
  isCA: false,
  ...over,
});

const asked = (over: Partial<CsrRequest> = {}): CsrRequest => ({
  subject: [],
  dnsNames: [],
  ipAddresses: [],
  uris: [],
  emailAddresses: [],
  otherNames: [],
  keyUsage: 0,
  extendedKeyUsages: [],
  isCA: false,
  ...over,
});

/** A CSR with exactly these extensions and attributes: what a hostile caller would send. */
async function craftedCsr(
  key: PrivateKey,
  opts: { name?: x509.JsonName; extensions?: x509.Extension[]; attributes?: x509.Attribute[] },
): Promise<string> {
  const { keys, algorithm } = key.signingKeys();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: opts.name ?? [],
    keys: keys as X509KeyPair,
    signingAlgorithm: algorithm as X509SigningAlgorithm,
    ...(opts.extensions ? { extensions: opts.extensions } : {}),
    ...(opts.attributes ? { attributes: opts.attributes } : {}),
  });
  return csr.toString('pem');
}

describe('pki CSR policy: a CSR asks for no more than its request', () => {
  let key: PrivateKey;
  before(async () => {
    key = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
  });

  it('takes a CSR built here as built; the same CSR as a PEM (as the API gets one) is parsed and verified', async () => {
    const built = await createCsr(request(), key);
    const own = await readCsr(built);
    assert.equal(own.csr, built.request, 'no second parse of our own CSR');
    const fromPem = await readCsr(built.pem);
    assert.notEqual(fromPem.csr, built.request);
    assert.deepEqual(fromPem.request, own.request);
    // A look-alike object (JSON cannot make a BuiltCsr) is not taken as built.
    const lookAlike = { pem: built.pem, request: built.request } as unknown as string;
    await assert.rejects(readCsr(lookAlike), { name: 'CsrError' });
  });

  it('accepts a CSR made from the request, and one asking for less', async () => {
    const req = request();
    const same = await readCsr(await createCsr(req, key));
    assert.deepEqual(csrExcess(same.request, req), []);
    assert.deepEqual(same.request.dnsNames, req.dnsNames);
    assert.deepEqual(same.request.subject, ['O=Team A', 'CN=api.team-a.svc']);
    const less = await readCsr(
      await createCsr(request({ commonName: undefined, dnsNames: ['api.team-a.svc'], usages: [] }), key),
    );
    assert.deepEqual(csrExcess(less.request, req), []);
    // Names compare as they mean: DNS case-insensitively, IPs in canonical form.
    assert.deepEqual(
      csrExcess(asked({ dnsNames: ['API.Team-A.svc'], ipAddresses: ['fd00:0:0:0:0:0:0:1'] }), req),
      [],
    );
  });

  it('names every name, subject attribute, usage and the CA flag the request does not hold', () => {
    const excess = csrExcess(
      asked({
        subject: ['CN=kubernetes.default.svc', 'O=system:masters', 'O=Team A'],
        dnsNames: ['api.team-a.svc', 'kubernetes.default.svc'],
        ipAddresses: ['10.96.0.1'],
        uris: ['spiffe://cluster.local/ns/kube-system/sa/admin'],
        emailAddresses: ['root@example.com'],
        otherNames: ['upn:admin@corp'],
        keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign,
        extendedKeyUsages: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.3', '1.2.3.4'],
        isCA: true,
      }),
      request(),
    );
    assert.deepEqual(excess, [
      'subject CN=kubernetes.default.svc',
      'subject O=system:masters',
      'DNS name "kubernetes.default.svc"',
      'IP address "10.96.0.1"',
      'URI "spiffe://cluster.local/ns/kube-system/sa/admin"',
      'email address "root@example.com"',
      'subject alternative name upn:admin@corp',
      'key usage "cert sign"',
      'extended key usage "code signing"',
      'extended key usage "1.2.3.4"',
      'CA:TRUE (basic constraints)',
    ]);
  });

  it('allows CA:TRUE in the CSR only when the request asks for a CA', () => {
    assert.deepEqual(csrExcess(asked({ isCA: true }), request({ isCA: true })), []);
    assert.deepEqual(csrExcess(asked({ isCA: true }), request()), ['CA:TRUE (basic constraints)']);
  });

  it('reads CA:TRUE, foreign names and usages from a crafted CSR and refuses them with a readable message', async () => {
    const pem = await craftedCsr(key, {
      name: [{ CN: ['kubernetes.default.svc'] }],
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'kubernetes.default.svc' },
          { type: 'ip', value: '10.96.0.1' },
        ]),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ],
    });
    const { request: got } = await readCsr(pem);
    assert.equal(got.isCA, true);
    assert.deepEqual(got.dnsNames, ['kubernetes.default.svc']);
    assert.throws(
      () => assertCsrWithinRequest(got, request()),
      (err: unknown) => {
        assert.ok(err instanceof CsrError);
        assert.equal(
          err.message,
          'the CSR asks for more than the request: subject CN=kubernetes.default.svc, DNS name "kubernetes.default.svc", ' +
            'IP address "10.96.0.1", key usage "cert sign", key usage "crl sign", CA:TRUE (basic constraints); ' +
            'put it in the request (the spec or the API body) or leave it out of the CSR',
        );
        assert.doesNotMatch(err.message, /BEGIN|PRIVATE/);
        return true;
      },
    );
  });

  it('reads every extension request attribute, as Vault (Go) does, not only the first', async () => {
    // The generator writes `attributes` first: the harmless set, then the one asking for more.
    const pem = await craftedCsr(key, {
      attributes: [
        new x509.ExtensionsAttribute([
          new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'api.team-a.svc' }]),
        ]),
      ],
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'kubernetes.default.svc' }]),
        new x509.BasicConstraintsExtension(true, undefined, true),
      ],
    });
    const { csr, request: got } = await readCsr(pem);
    assert.equal(csr.extensions.length, 1, 'the library alone sees the first set only');
    assert.deepEqual(got.dnsNames, ['api.team-a.svc', 'kubernetes.default.svc']);
    assert.equal(got.isCA, true);
    assert.deepEqual(csrExcess(got, request()), [
      'DNS name "kubernetes.default.svc"',
      'CA:TRUE (basic constraints)',
    ]);
  });

  it('refuses a CSR that does not parse or whose signature does not verify', async () => {
    await assert.rejects(readCsr('not a csr'), { name: 'CsrError', message: 'the CSR cannot be parsed' });
    const { pem } = await createCsr(request(), key);
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5]! ^= 0xff; // inside the signature
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(readCsr(tampered), { name: 'CsrError' });
  });

  it('caps the message at ten items', () => {
    const many = Array.from({ length: 25 }, (_, i) => `n${i}.example.com`);
    assert.throws(
      () => assertCsrWithinRequest(asked({ dnsNames: many }), request()),
      /"n9\.example\.com", and 15 more; put it/,
    );
  });
});
