import assert from 'node:assert/strict';
import { createPublicKey, X509Certificate as NodeX509 } from 'node:crypto';
import { inspect } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createCsr } from './csr.ts';
import {
  KeyFormatError,
  type KeySpec,
  generatePrivateKey,
  normalizeKeySpec,
  parsePrivateKeyPem,
} from './keys.ts';
import { createSelfSignedCa, signCsr } from './local-ca.ts';
import { certificateInfo, parseCertificate } from './parse.ts';
import { RsaWorkerPool } from './rsa-pool.ts';
import { x509 } from './x509.ts';

describe('pki keys', function () {
  this.timeout(60_000);
  const rsa = new RsaWorkerPool({ size: 1, idleMs: 1000 });
  after(() => rsa.close());

  const specs: KeySpec[] = [
    { algorithm: 'ECDSA', size: 256 },
    { algorithm: 'ECDSA', size: 384 },
    { algorithm: 'Ed25519' },
    { algorithm: 'RSA', size: 2048 },
  ];

  it('normalizes key specs with the defaults of each algorithm', () => {
    assert.deepEqual(normalizeKeySpec(), { algorithm: 'ECDSA', size: 256 });
    assert.deepEqual(normalizeKeySpec({ algorithm: 'RSA' }), { algorithm: 'RSA', size: 2048 });
    assert.deepEqual(normalizeKeySpec({ algorithm: 'Ed25519' }), { algorithm: 'Ed25519' });
    assert.throws(() => normalizeKeySpec({ algorithm: 'RSA', size: 1024 }), RangeError);
    assert.throws(() => normalizeKeySpec({ algorithm: 'ECDSA', size: 521 }), RangeError);
  });

  for (const spec of specs) {
    it(`generates ${spec.algorithm}${spec.size ? ` ${spec.size}` : ''} keys that survive PKCS#8 PEM and sign a CSR`, async () => {
      const key = await generatePrivateKey(spec, { rsa });
      assert.deepEqual(key.spec, spec);
      const pem = key.pem().reveal();
      assert.match(pem, /^-----BEGIN PRIVATE KEY-----/);
      const again = parsePrivateKeyPem(pem);
      assert.deepEqual(again.spec, spec);
      assert.ok(again.spki().equals(key.spki()));
      assert.equal(key.der().reveal()[0], 0x30);

      const { pem: csrPem } = await createCsr(
        {
          commonName: 'api.shop.svc',
          dnsNames: ['api.shop.svc'],
          ipAddresses: [],
          uris: [],
          emailAddresses: [],
          usages: ['digital signature', 'server auth'],
          isCA: false,
        },
        key,
      );
      const csr = new x509.Pkcs10CertificateRequest(csrPem);
      assert.ok(await csr.verify());
      assert.ok(Buffer.from(csr.publicKey.rawData).equals(key.spki()));
    });
  }

  it('never prints key material', async () => {
    const key = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
    assert.equal(String(key), '[REDACTED]');
    assert.equal(JSON.stringify({ key }), '{"key":"[REDACTED]"}');
    assert.match(inspect(key), /^PrivateKey\(ECDSA 256\) \[REDACTED\]$/);
    assert.equal(String(key.pem()), '[REDACTED]');
  });

  it('rejects what is not a private key without quoting it', () => {
    assert.throws(
      () => parsePrivateKeyPem('-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXZhbHVl\n-----END PRIVATE KEY-----\n'),
      (err: unknown) => err instanceof KeyFormatError && !String(err.message).includes('c2Vj'),
    );
  });

  it('makes RSA keys in worker threads without blocking the event loop', async () => {
    const pool = new RsaWorkerPool({ size: 1, idleMs: 200 });
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const keys = await Promise.all([3072, 3072, 2048].map((bits) => pool.generate(bits)));
    delay.disable();
    assert.equal(keys.length, 3);
    for (const der of keys) assert.equal(der[0], 0x30);
    assert.ok(pool.threads <= 1);
    // The loop kept turning: no pause near the cost of one 3072-bit key (hundreds of ms).
    assert.ok(delay.max / 1e6 < 100, `event loop delay max ${(delay.max / 1e6).toFixed(1)} ms`);
    await pool.close();
    await assert.rejects(pool.generate(2048), /closed/);
  });

  it('cancels a queued RSA key when its signal aborts', async () => {
    const pool = new RsaWorkerPool({ size: 1 });
    const first = pool.generate(2048);
    const abort = new AbortController();
    const second = pool.generate(2048, abort.signal);
    abort.abort(new Error('stop'));
    await assert.rejects(second, /stop/);
    await first;
    await pool.close();
  });
});

describe('pki local CA signing', () => {
  it('signs a CSR into a certificate that chains to the CA and carries the requested names', async () => {
    const caKey = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
    const now = Date.now();
    const caPem = await createSelfSignedCa({
      commonName: 'test CA',
      key: caKey,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 86_400_000),
    });
    const leafKey = await generatePrivateKey({ algorithm: 'Ed25519' });
    const request = {
      dnsNames: ['api.shop.svc', 'api.shop.svc.cluster.local'],
      ipAddresses: ['10.0.0.1', 'fd00::1'],
      uris: ['spiffe://cluster.local/ns/shop/sa/api'],
      emailAddresses: ['ops@shop.example'],
      subject: { organizations: ['Shop'], countries: ['DE'] },
      usages: ['digital signature', 'server auth', 'client auth'],
      isCA: false,
    };
    const csr = await createCsr(request, leafKey);
    const leafPem = await signCsr({ certificate: parseCertificate(caPem), key: caKey }, csr, request, {
      notBefore: new Date(now),
      notAfter: new Date(now + 3_600_000),
    });
    const leaf = new NodeX509(leafPem);
    const ca = new NodeX509(caPem);
    assert.ok(leaf.checkIssued(ca));
    assert.ok(leaf.verify(ca.publicKey));
    assert.ok(ca.ca);
    assert.equal(leaf.ca, false);
    assert.ok(leaf.publicKey.equals(createPublicKey(leafKey.pem().reveal())));

    const info = certificateInfo(parseCertificate(leafPem));
    assert.deepEqual(info.dnsNames, ['api.shop.svc', 'api.shop.svc.cluster.local']);
    assert.deepEqual(info.ipAddresses, ['10.0.0.1', 'fd00::1']);
    assert.deepEqual(info.uris, ['spiffe://cluster.local/ns/shop/sa/api']);
    assert.deepEqual(info.emailAddresses, ['ops@shop.example']);
    assert.equal(info.isCA, false);
    assert.equal(info.notAfter.getTime(), Math.floor((now + 3_600_000) / 1000) * 1000);
    assert.match(info.serialNumber, /^[0-9a-f]+$/);
    assert.match(leaf.subject, /O=Shop/);
    assert.match(leaf.keyUsage?.join(',') ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.2/);
  });
});

describe('pki certificate parsing', () => {
  it('normalizes serials to lower-case hex of whole bytes', async () => {
    const { normalizeSerial } = await import('./parse.ts');
    assert.equal(normalizeSerial('4081B4A2'), '4081b4a2');
    assert.equal(normalizeSerial('4081B4A'), '04081b4a');
    assert.equal(normalizeSerial('00A1'), 'a1');
  });
});
