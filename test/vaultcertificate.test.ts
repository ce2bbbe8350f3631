// VaultCertificate end to end: the real operator (in this process) against the real apiserver
// and a real OpenBao PKI engine (role `svc`: subdomains of svc.cluster.local and localhost,
// max_ttl 72h), and the embedded local CA. What users care about: the Secret holds a chain that
// verifies and serves TLS, refused requests are reported with the backend's reason without a
// hot loop, drift is repaired, nothing is reissued on restart, key material never leaks.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { VaultCertificate, VaultCertificateSpec } from '../src/apis/v1alpha1/index.ts';
import {
  type KubeClient,
  createKubeClient,
  createObject,
  deleteObject,
  getObject,
  mergePatch,
} from '../src/kube/index.ts';
import { installCrds } from './support/crds.ts';
import {
  OPERATOR_NAMESPACE,
  ensureNamespace,
  startTestOperator,
  type TestOperator,
} from './support/operator.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { delay, eventually } from './support/wait.ts';

const run = promisify(execFile);

function issuersYaml(bed: Testbed, namespaces = '["team-*"]'): string {
  return `
backends:
  - name: vault-pki
    type: vault-pki
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ${namespaces}
    # These tests try the OpenBao role's own refusals (a name it forbids), so vaultsync's name
    # policy leaves the names to the role; they also serve TLS on localhost / 127.0.0.1.
    allowedDomains: ["**"]
    allowedIpRanges: [127.0.0.1]
  - name: local-ca
    type: local-ca
    allowedNamespaces: ${namespaces}
    allowedDomains: ["**.{namespace}.svc", "**.{namespace}.svc.cluster.local", localhost]
`;
}

function certificateApi(client: KubeClient, ns: string) {
  const get = (name: string) =>
    getObject<VaultCertificate>(client, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultCertificate',
      namespace: ns,
      name,
    });
  const secret = (name: string) =>
    getObject<V1Secret>(client, { apiVersion: 'v1', kind: 'Secret', namespace: ns, name });
  return {
    get,
    secret,
    create: (name: string, spec: VaultCertificateSpec) =>
      createObject<VaultCertificate>(client, {
        apiVersion: 'vaultsync.io/v1alpha1',
        kind: 'VaultCertificate',
        metadata: { name, namespace: ns },
        spec,
      }),
    /** The resource once its Ready condition has this status (and reason) for its generation. */
    async ready(name: string, status = 'True', reason?: string) {
      const vc = await get(name);
      const c = vc?.status?.conditions?.find((x) => x.type === 'Ready');
      return c?.status === status &&
        (!reason || c.reason === reason) &&
        vc?.status?.observedGeneration === vc?.metadata?.generation
        ? vc
        : undefined;
    },
    async tls(name: string) {
      const s = await secret(name);
      const text = (k: string) => Buffer.from(s?.data?.[k] ?? '', 'base64').toString('utf8');
      return { secret: s, crt: text('tls.crt'), key: text('tls.key'), ca: text('ca.crt'), text };
    },
  };
}

/** `openssl verify` of tls.crt (leaf, then intermediates) against ca.crt; resolves with its output. */
async function opensslVerify(crt: string, ca: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'vaultsync-verify-'));
  try {
    const blocks = crt.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    writeFileSync(join(dir, 'ca.crt'), ca);
    writeFileSync(join(dir, 'leaf.crt'), `${blocks[0]}\n`);
    const args = ['verify', '-CAfile', join(dir, 'ca.crt')];
    if (blocks.length > 1) {
      writeFileSync(join(dir, 'chain.crt'), blocks.slice(1).join('\n') + '\n');
      args.push('-untrusted', join(dir, 'chain.crt'));
    }
    args.push(join(dir, 'leaf.crt'));
    const { stdout } = await run('openssl', args);
    return stdout.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A node:tls server with the Secret's key and chain, and a client that trusts only ca.crt and
 * checks `servername`: resolves with the client's view of the handshake.
 */
async function tlsHandshake(
  material: { crt: string; key: string; ca: string },
  servername: string,
): Promise<{ authorized: boolean; protocol: string | null; peerSubject: string }> {
  const server = tls.createServer({ key: material.key, cert: material.crt }, (socket) => socket.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    return await new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: material.ca, servername }, () => {
        const peer = socket.getPeerCertificate();
        resolve({
          authorized: socket.authorized,
          protocol: socket.getProtocol(),
          peerSubject: JSON.stringify(peer.subjectaltname ?? ''),
        });
        socket.end();
      });
      socket.on('error', reject);
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Sum of a counter's samples in a Prometheus text exposition whose labels contain all of `match`. */
function metricSum(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(match).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const ns = 'team-vc';
const host = `api.${ns}.svc.cluster.local`;

describe('VaultCertificate against the real apiserver and OpenBao PKI', function () {
  this.timeout(120_000);
  let bed: Testbed;
  let kc: KubeConfig;
  let client: KubeClient;
  let operator: TestOperator;
  let bao: ReturnType<typeof baoApi>;
  let vc: ReturnType<typeof certificateApi>;

  const start = () => startTestOperator(bed, { config: issuersYaml(bed) });
  const metrics = async () => (await fetch(`http://${operator.healthAddress}/metrics`)).text();
  const patch = (name: string, spec: Record<string, unknown>) =>
    mergePatch(
      client,
      { apiVersion: 'vaultsync.io/v1alpha1', kind: 'VaultCertificate', namespace: ns, name },
      { spec },
    );
  const serial = (pem: string) =>
    new X509Certificate(pem).serialNumber.toLowerCase().replace(/^(00)+(?=.)/, '');

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    kc = bed.kubeConfig();
    client = createKubeClient(kc);
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await installCrds(kc);
    await ensureNamespace(kc, ns);
    vc = certificateApi(client, ns);
    operator = await start();
  });

  after(async () => {
    await operator?.stop();
  });

  it('signs CSRs for every key type through Vault PKI: the chain verifies with openssl and serves TLS', async () => {
    const keys = {
      'ecdsa-256': { algorithm: 'ECDSA', size: 256 },
      'ecdsa-384': { algorithm: 'ECDSA', size: 384 },
      'rsa-2048': { algorithm: 'RSA', size: 2048 },
      ed25519: { algorithm: 'Ed25519' },
    } as const;
    for (const [name, privateKey] of Object.entries(keys)) {
      await vc.create(name, {
        issuer: { backend: 'vault-pki', role: 'svc' },
        commonName: host,
        dnsNames: [host, 'localhost'],
        ipAddresses: ['127.0.0.1'],
        duration: '24h',
        privateKey,
        secretName: `${name}-tls`,
      });
    }
    for (const name of Object.keys(keys)) {
      const ready = await eventually(`${name} Ready`, () => vc.ready(name));
      const m = await vc.tls(`${name}-tls`);
      assert.equal(m.secret?.type, 'kubernetes.io/tls');
      assert.match(await opensslVerify(m.crt, m.ca), /: OK$/);
      const hs = await tlsHandshake(m, 'localhost');
      assert.equal(hs.authorized, true, `${name}: client trusting ca.crt accepts the server`);
      assert.match(hs.peerSubject, new RegExp(host.replaceAll('.', '\\.')));
      const cert = new X509Certificate(m.crt);
      assert.equal(ready.status?.serialNumber, serial(m.crt));
      assert.equal(ready.status?.revision, 1);
      assert.equal(Date.parse(ready.status!.notAfter!), Date.parse(cert.validTo));
      assert.ok(cert.checkIssued(new X509Certificate(m.ca)));
    }
    // The key was made here: tls.key is ours, PKCS#8, and only a CSR went to OpenBao.
    const m = await vc.tls('rsa-2048-tls');
    assert.match(m.key, /^-----BEGIN PRIVATE KEY-----/);
    assert.ok(new X509Certificate(m.crt).publicKey.asymmetricKeyDetails?.modulusLength === 2048);
  });

  it('issues with mode issue: OpenBao makes the key, which matches the certificate', async () => {
    await vc.create('issued', {
      issuer: { backend: 'vault-pki', role: 'svc' },
      mode: 'issue',
      dnsNames: [`issued.${ns}.svc.cluster.local`],
      duration: '1h',
      privateKey: { algorithm: 'ECDSA', size: 384 },
      secretName: 'issued-tls',
      additionalOutputFormats: [{ type: 'CombinedPEM' }, { type: 'DER' }],
    });
    await eventually('issued Ready', () => vc.ready('issued'));
    const m = await vc.tls('issued-tls');
    assert.match(await opensslVerify(m.crt, m.ca), /: OK$/);
    const cert = new X509Certificate(m.crt);
    assert.ok(cert.checkPrivateKey(createPrivateKey(m.key)));
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    assert.ok(m.text('tls-combined.pem').startsWith('-----BEGIN PRIVATE KEY-----'));
    assert.ok(m.text('tls-combined.pem').includes(m.crt.trim()));
    assert.ok(m.secret?.data?.['key.der']);
  });

  it('signs with the local CA, which it creates once in its own Secret', async () => {
    await vc.create('local', {
      issuer: { backend: 'local-ca' },
      dnsNames: ['localhost'],
      secretName: 'local-tls',
      secretTemplate: { labels: { team: 'vc' }, annotations: { 'example.com/owner': 'platform' } },
    });
    const ready = await eventually('local Ready', () => vc.ready('local'));
    const m = await vc.tls('local-tls');
    const caSecret = await certificateApi(client, OPERATOR_NAMESPACE).tls('vaultsync-local-ca');
    assert.equal(m.ca.trim(), caSecret.crt.trim());
    assert.match(await opensslVerify(m.crt, m.ca), /: OK$/);
    assert.equal((await tlsHandshake(m, 'localhost')).authorized, true);
    assert.equal(m.secret?.metadata?.labels?.team, 'vc');
    assert.equal(m.secret?.metadata?.annotations?.['example.com/owner'], 'platform');
    // No duration in the spec: the local CA's default, 90 days.
    const lifetime = Date.parse(ready.status!.notAfter!) - Date.parse(ready.status!.notBefore!);
    assert.ok(Math.abs(lifetime - 2160 * 3_600_000) < 60_000, String(lifetime));
  });

  it('reports a name the role forbids and a TTL above its max as Ready=False with the reason, backing off', async () => {
    await vc.create('forbidden', {
      issuer: { backend: 'vault-pki', role: 'svc' },
      dnsNames: ['evil.example.com'],
      secretName: 'forbidden-tls',
    });
    await vc.create('too-long', {
      issuer: { backend: 'vault-pki', role: 'svc' },
      dnsNames: [`long.${ns}.svc.cluster.local`],
      duration: '100h',
      renewBefore: '10h',
      secretName: 'too-long-tls',
    });
    const forbidden = await eventually('forbidden refused', () =>
      vc.ready('forbidden', 'False', 'InvalidRequest'),
    );
    const message = forbidden.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '';
    assert.match(message, /not allowed by this role/);
    const tooLong = await eventually('too-long refused', () =>
      vc.ready('too-long', 'False', 'DurationNotGranted'),
    );
    assert.match(
      tooLong.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '',
      /granted 72h instead of the requested 100h: TTL "100h0m0s" is longer than permitted maxTTL "72h0m0s"/,
    );
    const issuing = forbidden.status?.conditions?.find((c) => c.type === 'Issuing');
    assert.equal(issuing?.status, 'True');
    assert.equal(issuing?.reason, 'DoesNotExist');
    assert.equal(await vc.secret('forbidden-tls'), undefined);

    // Back-off: 5 s, 10 s, 20 s ... In 16 s at most 3 attempts each, not a hot loop.
    const before = metricSum(await metrics(), 'vaultsync_certificate_issuances_total', {
      outcome: 'InvalidRequest',
    });
    await delay(16_000);
    const attempts =
      metricSum(await metrics(), 'vaultsync_certificate_issuances_total', { outcome: 'InvalidRequest' }) -
      before;
    assert.ok(attempts <= 3, `${attempts} attempts in 16 s`);
    const now = await vc.get('forbidden');
    assert.ok(
      (now?.status?.failedIssuanceAttempts ?? 0) >= 2 && (now?.status?.failedIssuanceAttempts ?? 0) <= 4,
    );
    const warnings = (
      await client.rest.request<{ items: { reason: string; involvedObject: { name: string } }[] }>({
        method: 'GET',
        path: `/api/v1/namespaces/${ns}/events`,
      })
    ).items.filter((e) => e.involvedObject.name === 'forbidden' && e.reason === 'InvalidRequest');
    assert.equal(warnings.length, 1, 'one Warning event per distinct failure');

    // Fixing the spec is tried at once, whatever the back-off.
    await patch('too-long', { duration: '48h' });
    const fixed = await eventually('too-long fixed', () => vc.ready('too-long'), 10_000);
    assert.equal(fixed.status?.failedIssuanceAttempts, undefined);
    assert.equal(fixed.status?.revision, 1);
  });

  it('repairs a deleted Secret and an edited key, and reissues only for spec changes that matter', async () => {
    await vc.create('drift', {
      issuer: { backend: 'vault-pki', role: 'svc' },
      dnsNames: [`drift.${ns}.svc.cluster.local`],
      duration: '2h',
      secretName: 'drift-tls',
    });
    await eventually('drift Ready', () => vc.ready('drift'));
    const first = await vc.tls('drift-tls');

    await deleteObject(client, { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'drift-tls' });
    const second = await eventually('Secret recreated', async () => {
      const m = await vc.tls('drift-tls');
      return m.secret && m.crt !== first.crt ? m : undefined;
    });
    const other = (await vc.tls('ecdsa-256-tls')).key;
    await mergePatch(
      client,
      { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'drift-tls' },
      {
        data: { 'tls.key': Buffer.from(other).toString('base64') },
      },
    );
    const third = await eventually('edited key replaced', async () => {
      const m = await vc.tls('drift-tls');
      return m.crt !== second.crt && m.key !== other ? m : undefined;
    });
    assert.ok(new X509Certificate(third.crt).checkPrivateKey(createPrivateKey(third.key)));
    assert.equal(
      (
        await eventually('revision 3', async () => {
          const r = await vc.ready('drift');
          return r?.status?.revision === 3 ? r : undefined;
        })
      ).status?.revision,
      3,
    );

    // A label is not a reason for a new certificate; a new DNS name is.
    await patch('drift', { secretTemplate: { labels: { tier: 'web' } } });
    await eventually('label applied', async () =>
      (await vc.secret('drift-tls'))?.metadata?.labels?.tier === 'web' ? true : undefined,
    );
    assert.equal((await vc.tls('drift-tls')).crt, third.crt);
    await patch('drift', { dnsNames: [`drift.${ns}.svc.cluster.local`, `drift2.${ns}.svc.cluster.local`] });
    const fourth = await eventually('reissued for the new name', async () => {
      const m = await vc.tls('drift-tls');
      return m.crt !== third.crt ? m : undefined;
    });
    assert.match(new X509Certificate(fourth.crt).subjectAltName ?? '', /drift2\./);
  });

  it('revokes the superseded certificate and, on deletion, the current one', async () => {
    await vc.create('revoked', {
      issuer: { backend: 'vault-pki', role: 'svc' },
      dnsNames: [`revoked.${ns}.svc.cluster.local`],
      duration: '1h',
      secretName: 'revoked-tls',
      revokeSuperseded: true,
      revokeOnDelete: true,
    });
    const first = await eventually('revoked Ready', () => vc.ready('revoked'));
    assert.ok(first.metadata?.finalizers?.includes('vaultsync.io/revoke-certificate'));
    const serial1 = first.status!.serialNumber!;
    await patch('revoked', {
      dnsNames: [`revoked.${ns}.svc.cluster.local`, `revoked2.${ns}.svc.cluster.local`],
    });
    const second = await eventually('reissued', async () => {
      const r = await vc.ready('revoked');
      return r && r.status?.serialNumber !== serial1 ? r : undefined;
    });
    const revocation = async (s: string) =>
      ((await bao('GET', `pki/cert/${s.match(/../g)!.join(':')}`)) as { data: { revocation_time: number } })
        .data.revocation_time;
    await eventually('superseded revoked', async () => ((await revocation(serial1)) > 0 ? true : undefined));
    assert.equal(await revocation(second.status!.serialNumber!), 0);
    await deleteObject(client, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultCertificate',
      namespace: ns,
      name: 'revoked',
    });
    await eventually('current revoked', async () =>
      (await revocation(second.status!.serialNumber!)) > 0 ? true : undefined,
    );
    await eventually('resource gone', async () =>
      (await vc.get('revoked')) === undefined ? true : undefined,
    );
  });

  it('exposes expiry and renewal times per certificate at scrape time', async () => {
    const r = (await vc.ready('ecdsa-256')) as VaultCertificate;
    const text = await metrics();
    const labels = `{namespace="${ns}",name="ecdsa-256",issuer="vault-pki"}`;
    const value = (name: string) =>
      Number(new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.equal(
      value('vaultsync_certificate_expiration_timestamp_seconds'),
      Date.parse(r.status!.notAfter!) / 1000,
    );
    assert.equal(
      value('vaultsync_certificate_renewal_timestamp_seconds'),
      Date.parse(r.status!.renewalTime!) / 1000,
    );
    assert.ok(
      metricSum(text, 'vaultsync_certificate_issuance_duration_seconds_count', { issuer: 'vault-pki' }) >= 6,
    );
  });

  it('reissues nothing and writes nothing when the operator restarts', async () => {
    const names = ['ecdsa-256', 'rsa-2048', 'issued', 'local', 'drift'];
    const snapshot = async () =>
      Promise.all(
        names.map(async (n) => [
          (await vc.get(n))?.metadata?.resourceVersion,
          (await vc.secret(`${n}-tls`))?.metadata?.resourceVersion,
        ]),
      );
    const before = await snapshot();
    await operator.stop();
    operator = await start();
    await delay(4000);
    assert.deepEqual(await snapshot(), before);
    // (The refused requests above keep being retried on their back-off schedule.)
    assert.equal(
      metricSum(await metrics(), 'vaultsync_certificate_issuances_total', { outcome: 'success' }),
      0,
    );
  });

  it('never logs key material', () => {
    const logs = operator.logs.join('');
    assert.ok(!logs.includes('PRIVATE KEY'));
    assert.ok(!logs.includes(bed.baoToken === 'root' ? '"root"' : bed.baoToken));
  });
});
