import assert from 'node:assert/strict';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultCertificate } from '../apis/v1alpha1/index.ts';
import {
  createCsr,
  createSelfSignedCa,
  generatePrivateKey,
  parseCertificate,
  signCsr,
} from '../pki/index.ts';
import { certificateReport, formatCertificateReport } from './inspect.ts';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const DAY = 86_400_000;
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function tlsSecret(): Promise<{ secret: V1Secret; keyPem: string }> {
  const caKey = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
  const caPem = await createSelfSignedCa({
    commonName: 'unit CA',
    key: caKey,
    notBefore: new Date(NOW - DAY),
    notAfter: new Date(NOW + 365 * DAY),
  });
  const key = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
  const request = {
    commonName: 'api.team-a.svc',
    dnsNames: ['api.team-a.svc'],
    ipAddresses: ['127.0.0.1'],
    uris: [],
    emailAddresses: [],
    usages: ['digital signature', 'server auth'],
    isCA: false,
  };
  const certPem = await signCsr(
    { certificate: parseCertificate(caPem), key: caKey },
    await createCsr(request, key),
    request,
    { notBefore: new Date(NOW - DAY), notAfter: new Date(NOW + 30 * DAY) },
  );
  const keyPem = key.pem().reveal();
  return {
    keyPem,
    secret: {
      metadata: { name: 'api-tls', namespace: 'team-a' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': b64(certPem), 'tls.key': b64(keyPem), 'ca.crt': b64(caPem) },
    },
  };
}

const vc = {
  apiVersion: 'vaultsync.io/v1alpha1',
  kind: 'VaultCertificate',
  metadata: { name: 'api', namespace: 'team-a' },
  spec: { secretName: 'api-tls' },
  status: { issuer: 'local-ca', revision: 2, renewalTime: '2026-01-21T12:00:00Z' },
} as unknown as VaultCertificate;

describe('kubectl vaultsync: inspect certificate', () => {
  it('reads the chain, names, validity and CA of the Secret, and never the key', async () => {
    const { secret, keyPem } = await tlsSecret();
    const report = certificateReport(secret, vc);
    assert.equal(report.chain.length, 1);
    assert.equal(report.ca.length, 1);
    const leaf = report.chain[0]!;
    assert.deepEqual(leaf.dnsNames, ['api.team-a.svc']);
    assert.deepEqual(leaf.ipAddresses, ['127.0.0.1']);
    assert.match(leaf.subject, /CN=api.team-a.svc/);
    assert.match(leaf.issuer, /CN=unit CA/);
    assert.equal(leaf.notAfter, new Date(NOW + 30 * DAY).toISOString());
    assert.equal(report.ca[0]!.isCA, true);
    assert.equal(report.hasKey, true);
    assert.equal(report.issuedBy, 'local-ca');

    const keyBody = keyPem.split('\n')[1]!;
    for (const format of ['table', 'json', 'yaml'] as const) {
      const text = formatCertificateReport(report, format, NOW);
      assert.ok(!text.includes(keyBody), `${format} output must not contain the key`);
      assert.ok(!text.includes(secret.data!['tls.key']!), `${format} output must not contain the key`);
    }
    const text = formatCertificateReport(report, 'table', NOW);
    assert.match(text, /^VaultCertificate team-a\/api, Secret api-tls\n/);
    assert.match(text, /Issued by:\s+local-ca \(revision 2\)/);
    assert.match(text, /Names:\s+api.team-a.svc, 127.0.0.1/);
    assert.match(text, /expires in 30d/);
    assert.match(text, /Private key:\s+present in tls.key \(not shown\)/);
  });

  it('says which block cannot be read', () => {
    const secret: V1Secret = {
      metadata: { name: 'x', namespace: 'team-a' },
      data: { 'tls.crt': b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n') },
    };
    const report = certificateReport(secret, undefined);
    assert.deepEqual(report.errors, ['tls.crt: certificate 1 cannot be read']);
    assert.equal(report.hasKey, false);
    assert.match(formatCertificateReport(report, 'table', NOW), /Private key:\s+missing/);
  });
});
