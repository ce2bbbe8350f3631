import assert from 'node:assert/strict';
import { createCsr } from './csr.ts';
import { readCsr } from './csr-policy.ts';
import { generatePrivateKey } from './keys.ts';
import { MAX_KEPT, rememberBuiltCsr, takeBuiltCsr } from './own-csrs.ts';
import type { x509 } from './x509.ts';

const request = {
  dnsNames: ['api.shop.svc'],
  ipAddresses: [],
  uris: [],
  emailAddresses: [],
  usages: ['digital signature', 'key encipherment', 'server auth'],
  isCA: false,
};

describe('CSRs this process built', () => {
  it('are taken once, by their exact PEM text only', () => {
    const csr = {} as x509.Pkcs10CertificateRequest;
    rememberBuiltCsr('pem-a', csr);
    assert.equal(takeBuiltCsr('pem-a\n'), undefined);
    assert.equal(takeBuiltCsr('pem-a'), csr);
    assert.equal(takeBuiltCsr('pem-a'), undefined);
  });

  it('are kept at most MAX_KEPT, the oldest forgotten first', () => {
    const csr = {} as x509.Pkcs10CertificateRequest;
    for (let i = 0; i <= MAX_KEPT; i++) rememberBuiltCsr(`pem-${i}`, csr);
    assert.equal(takeBuiltCsr('pem-0'), undefined);
    assert.equal(takeBuiltCsr('pem-1'), csr);
    for (let i = 2; i <= MAX_KEPT; i++) takeBuiltCsr(`pem-${i}`);
  });

  it('read the same as a parsed and verified CSR, and a second read parses again', async () => {
    const key = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
    const pem = await createCsr(request, key);
    const built = takeBuiltCsr(pem);
    assert.ok(built, 'createCsr remembers what it built');
    rememberBuiltCsr(pem, built);
    const first = await readCsr(pem);
    const second = await readCsr(pem);
    assert.equal(first.csr, built);
    assert.notEqual(second.csr, built);
    assert.deepEqual(first.request, second.request);
    assert.deepEqual(first.request.dnsNames, ['api.shop.svc']);
    assert.ok(Buffer.from(first.csr.rawData).equals(Buffer.from(second.csr.rawData)));
  });

  it('do not cover a CSR with the same content but another signature', async () => {
    const key = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
    const pem = await createCsr(request, key);
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5]! ^= 0x01; // inside the signature value
    const body = der.toString('base64').replace(/(.{64})/g, '$1\n');
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(readCsr(tampered), /does not verify|cannot be parsed/);
  });
});
