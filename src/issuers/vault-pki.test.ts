// vault-pki sign against a recording fake of the raw Vault API (a fake for this unit test of
// what is sent; test/vaultcertificate.test.ts and test/security/pki.test.ts use real OpenBao).
import assert from 'node:assert/strict';
import { systemClock } from '../kube/clock.ts';
import { BackendError } from '../resilience/errors.ts';
import type { VaultApi, VaultRawApi, VaultResponse } from '../backends/vault/api.ts';
import { loadConfig } from '../config/load.ts';
import type { VaultPkiIssuerConfig } from '../config/schema.ts';
import {
  type CertificateRequestSpec,
  type PrivateKey,
  createCsr,
  createSelfSignedCa,
  generatePrivateKey,
  parseCertificate,
  signCsr,
} from '../pki/index.ts';
import { type X509KeyPair, type X509SigningAlgorithm, x509 } from '../pki/x509.ts';
import { VaultPkiIssuer } from './vault-pki.ts';

const request: CertificateRequestSpec = {
  commonName: 'api.team-a.svc',
  dnsNames: ['api.team-a.svc'],
  ipAddresses: ['10.0.0.7'],
  uris: ['spiffe://cluster.local/ns/team-a/sa/api'],
  emailAddresses: [],
  usages: ['digital signature', 'server auth'],
  isCA: false,
};

describe('vault-pki sign: names from the request, a CSR asking for more never sent', () => {
  let cfg: VaultPkiIssuerConfig;
  let key: PrivateKey;
  let answer: VaultResponse;
  const sent: { path: string; body: Readonly<Record<string, unknown>> }[] = [];
  const raw: VaultRawApi = {
    async write(path, body) {
      sent.push({ path, body });
      return answer;
    },
    async read() {
      throw new Error('not used');
    },
    close() {},
  };
  const api = { close() {} } as unknown as VaultApi;
  let issuer: VaultPkiIssuer;

  before(async () => {
    const config = await loadConfig(
      {
        text: `
backends:
  - {name: pki, type: vault-pki, address: "https://vault:8200", auth: {token: {value: t}}, allowedNamespaces: ["*"]}
`,
      },
      { env: {} },
    );
    cfg = config.issuers![0] as VaultPkiIssuerConfig;
    issuer = new VaultPkiIssuer(cfg, {
      clock: systemClock,
      operator: { namespace: 'vaultsync', serviceAccountName: 'vaultsync' },
      api,
      raw,
    });
    key = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
    const caKey = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
    const now = Date.now();
    const caPem = await createSelfSignedCa({
      commonName: 'fake vault root',
      key: caKey,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 86_400_000),
    });
    const leaf = await signCsr(
      { certificate: parseCertificate(caPem), key: caKey },
      await createCsr(request, key),
      request,
      { notBefore: new Date(now), notAfter: new Date(now + 3_600_000) },
    );
    answer = { data: { certificate: leaf, ca_chain: [caPem] }, warnings: [] } as unknown as VaultResponse;
  });
  beforeEach(() => {
    sent.length = 0;
  });

  it('sends common_name, alt_names, ip_sans and uri_sans from the request with a CSR made from it', async () => {
    const csr = await createCsr(request, key);
    await issuer.sign({ ...request, role: 'svc', csr }, { namespace: 'team-a' });
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.path, 'pki/sign/svc');
    const { csr: sentCsr, ...params } = sent[0]!.body;
    assert.equal(sentCsr, csr.pem, 'the PEM of the CSR built here goes to Vault');
    assert.deepEqual(params, {
      common_name: 'api.team-a.svc',
      alt_names: 'api.team-a.svc',
      ip_sans: '10.0.0.7',
      uri_sans: 'spiffe://cluster.local/ns/team-a/sa/api',
      format: 'pem',
    });
  });

  it('refuses a CSR with CA:TRUE and a foreign name before anything is sent, naming them', async () => {
    const { keys, algorithm } = key.signingKeys();
    const hostile = await x509.Pkcs10CertificateRequestGenerator.create({
      name: [{ CN: ['api.team-a.svc'] }],
      keys: keys as X509KeyPair,
      signingAlgorithm: algorithm as X509SigningAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'kubernetes.default.svc' }]),
      ],
    });
    await assert.rejects(
      issuer.sign({ ...request, role: 'svc', csr: hostile.toString('pem') }, { namespace: 'team-a' }),
      (err: unknown) => {
        assert.ok(err instanceof BackendError);
        assert.equal(err.code, 'InvalidRequest');
        assert.match(err.message, /DNS name "kubernetes\.default\.svc", CA:TRUE/);
        return true;
      },
    );
    assert.equal(sent.length, 0);
  });

  it('refuses isCA for sign and issue: Vault’s role endpoints make leaf certificates only', async () => {
    const ca = { ...request, isCA: true, role: 'svc' };
    await assert.rejects(issuer.sign({ ...ca, csr: await createCsr(ca, key) }, { namespace: 'team-a' }), {
      code: 'InvalidRequest',
      message: 'the vault-pki issuer "pki" makes no CA certificates (isCA: true)',
    });
    await assert.rejects(
      issuer.issue({ ...ca, key: { algorithm: 'ECDSA', size: 256 } }, { namespace: 'team-a' }),
      {
        code: 'InvalidRequest',
      },
    );
    assert.equal(sent.length, 0);
  });
});
