// Hostile tenant vs. the issuers (issue 12, "issuance from policy, not from the CSR"): a tenant
// holding `edit` in its namespace (plus the chart's API caller role, bound as a platform admin
// would) asks the shipped operator for a CA certificate or for names outside its namespace —
// through a VaultCertificate and through the API's certificates:sign with a CSR made by
// openssl — against the local CA and against OpenBao PKI (least-privilege auth: the operator
// may only sign, issue and revoke with role svc). Every attempt is refused with a reason that
// names what was asked, and `openssl x509 -text` over every tls Secret of the tenants and every
// certificate the API returned shows no CA and no foreign name.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import type { VaultCertificate, VaultCertificateSpec } from '../../src/apis/v1alpha1/index.ts';
import { createObject, deleteObject, getObject } from '../../src/kube/index.ts';
import { testbed, type Testbed } from '../support/testbed.ts';
import { baoApi, pkiRole } from '../support/testbed/openbao.ts';
import { eventually } from '../support/wait.ts';
import {
  type ShippedOperator,
  type Tenant,
  adminApply,
  createTenant,
  forbiddenLines,
  operatorVaultAuth,
  releaseName,
  startShippedOperator,
} from './harness.ts';

const run = promisify(execFile);
const NAME = 'sec-pki';
const API = 'vaultsync.io/v1alpha1';
/** Certificates the API returned, for the final openssl sweep. */
const apiCertificates: { what: string; pem: string }[] = [];

interface Reply {
  status: number;
  body: { code?: string; message?: string; certificate?: string } | undefined;
}

/** A key and CSR made by openssl, as a caller outside the cluster would (`-addext` per extension). */
async function opensslCsr(subject: string, extensions: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sec-pki-csr-'));
  try {
    await run('openssl', [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-subj',
      subject,
      ...extensions.flatMap((e) => ['-addext', e]),
      '-out',
      join(dir, 'csr.pem'),
    ]);
    return readFileSync(join(dir, 'csr.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl x509 -noout -text` of one PEM certificate. */
async function x509Text(pem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', ['x509', '-noout', '-text'], (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
    child.stdin?.end(pem);
  });
}

/** The facts the sweep checks, as openssl prints them. */
function opensslFacts(text: string): { ca: boolean; names: string[] } {
  const ca = /CA:TRUE/.test(text);
  const san = /X509v3 Subject Alternative Name:[^\n]*\n\s*([^\n]*)/.exec(text)?.[1] ?? '';
  const names = san
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const cn = /Subject:.*?CN\s*=\s*([^,\n]+)/.exec(text)?.[1];
  if (cn) names.push(`CN:${cn.trim()}`);
  return { ca, names };
}

describe('security: issuance from policy — no CA and no foreign name reaches a tenant', function () {
  this.timeout(180_000);
  let bed: Testbed;
  let op: ShippedOperator;
  let a: Tenant;
  let b: Tenant;
  let bao: ReturnType<typeof baoApi>;
  let apiTokenA: string;
  let issuedBefore: number;

  const vc = (t: Tenant) => ({
    /** Created as the tenant (a rerun on a kept bed replaces its own earlier object). */
    create: async (name: string, spec: VaultCertificateSpec) => {
      const ref = { apiVersion: API, kind: 'VaultCertificate', namespace: t.namespace, name };
      await deleteObject(t.client, ref);
      await eventually(`${name} gone`, async () => ((await getObject(t.client, ref)) ? undefined : true));
      return createObject<VaultCertificate>(t.client, {
        apiVersion: API,
        kind: 'VaultCertificate',
        metadata: { name, namespace: t.namespace },
        spec,
      });
    },
    /** Ready once it answered this generation, with status and reason. */
    ready: (name: string) =>
      eventually(
        `VaultCertificate ${t.namespace}/${name} answered`,
        async () => {
          const got = await getObject<VaultCertificate>(t.client, {
            apiVersion: API,
            kind: 'VaultCertificate',
            namespace: t.namespace,
            name,
          });
          const c = got?.status?.conditions?.find((x) => x.type === 'Ready');
          return c && got?.status?.observedGeneration === got?.metadata?.generation ? c : undefined;
        },
        30_000,
        200,
      ),
    secret: (name: string) =>
      getObject(t.client, { apiVersion: 'v1', kind: 'Secret', namespace: t.namespace, name }),
  });

  function call(path: string, token: string, body: unknown): Promise<Reply> {
    const [host, port] = op.apiAddress!.split(':');
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host,
          port: Number(port),
          path,
          method: 'POST',
          ca: op.apiCaPem,
          servername: 'localhost',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let parsed: Reply['body'];
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Reply['body'];
            } catch {
              parsed = undefined;
            }
            if (parsed?.certificate) apiCertificates.push({ what: path, pem: parsed.certificate });
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
  const sign = (t: Tenant, issuer: string, token: string, body: object) =>
    call(`/v1/namespaces/${t.namespace}/issuers/${issuer}/certificates:sign`, token, body);

  /** Serial numbers OpenBao's PKI has issued, for "nothing was signed" checks. */
  const issuedCount = async () => {
    const res = (await bao('LIST', `${pkiRole.mount}/certs`)) as { data?: { keys?: string[] } } | undefined;
    return res?.data?.keys?.length ?? 0;
  };

  before(async function () {
    bed = await testbed();
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    // Least privilege: sign, issue and revoke with the bed's role svc, which itself allows any
    // name under svc.cluster.local — kubernetes.default.svc.cluster.local included. Only
    // vaultsync's name policy keeps tenants inside their namespace there.
    const auth = await operatorVaultAuth(
      bed,
      NAME,
      [
        `path "${pkiRole.mount}/sign/${pkiRole.role}" { capabilities = ["update"] }`,
        `path "${pkiRole.mount}/issue/${pkiRole.role}" { capabilities = ["update"] }`,
        `path "${pkiRole.mount}/revoke" { capabilities = ["update"] }`,
      ].join('\n'),
    );
    op = await startShippedOperator(bed, {
      name: NAME,
      config: `
backends:
  - name: local-ca
    type: local-ca
    allowedNamespaces: ["sec-pki-*"]
  - name: vault-pki
    type: vault-pki
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: ${auth}
    allowedNamespaces: ["sec-pki-*"]
    allowedRoles: [${pkiRole.role}]
`,
    });
    a = await createTenant(bed, 'sec-pki-a');
    b = await createTenant(bed, 'sec-pki-b');
    // The platform admin lets tenant a call certificates:issue / :sign (the chart's caller role).
    await adminApply(bed, [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'tenant-api-certificates', namespace: a.namespace },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: `${releaseName(NAME)}-api-certificates`,
        },
        subjects: [{ kind: 'ServiceAccount', name: a.serviceAccount, namespace: a.namespace }],
      },
    ]);
    apiTokenA = await a.tokenFor('vaultsync');
    issuedBefore = await issuedCount();
  });

  after(async () => {
    await op?.stop();
  });

  it('control: a tenant gets a CA:FALSE certificate for its own service from both issuers', async () => {
    const own = `web.${a.namespace}.svc`;
    await vc(a).create('own-local', {
      issuer: { backend: 'local-ca' },
      dnsNames: [own],
      secretName: 'own-local-tls',
    });
    await vc(a).create('own-vault', {
      issuer: { backend: 'vault-pki', role: pkiRole.role },
      dnsNames: [`web.${a.namespace}.svc.cluster.local`],
      duration: '1h',
      secretName: 'own-vault-tls',
    });
    for (const name of ['own-local', 'own-vault']) {
      const c = await vc(a).ready(name);
      assert.equal(c.status, 'True', `${name}: ${c.reason} ${c.message}`);
    }
    const signed = await sign(a, 'local-ca', apiTokenA, {
      csr: await opensslCsr(`/CN=${own}`, [`subjectAltName=DNS:${own}`]),
      commonName: own,
      dnsNames: [own],
    });
    assert.equal(signed.status, 200, JSON.stringify(signed.body));
    const facts = opensslFacts(await x509Text(signed.body!.certificate!));
    assert.equal(facts.ca, false);
    assert.deepEqual(facts.names, [`DNS:${own}`, `CN:${own}`]);
    issuedBefore = await issuedCount();
  });

  it('VaultCertificate isCA: true against local-ca: refused (TenancyDenied, names the CA), no Secret', async () => {
    await vc(a).create('intermediate', {
      issuer: { backend: 'local-ca' },
      commonName: `ca.${a.namespace}.svc`,
      dnsNames: [`ca.${a.namespace}.svc`],
      isCA: true,
      usages: ['cert sign', 'crl sign', 'digital signature'],
      secretName: 'intermediate-tls',
    });
    const c = await vc(a).ready('intermediate');
    console.log(`      refused: ${c.reason}: ${c.message}`);
    assert.equal(c.status, 'False');
    assert.equal(c.reason, 'TenancyDenied');
    assert.match(c.message ?? '', /a CA certificate \(isCA: true; allowCA: false\)/);
    assert.match(c.message ?? '', /usage "cert sign" \(only for a CA certificate\)/);
    assert.equal(await vc(a).secret('intermediate-tls'), undefined);
  });

  it('VaultCertificate for kubernetes.default.svc against local-ca: refused, names the name, no Secret', async () => {
    await vc(a).create('apiserver', {
      issuer: { backend: 'local-ca' },
      commonName: 'kubernetes.default.svc',
      dnsNames: ['kubernetes.default.svc', 'kubernetes', `x.${a.namespace}.svc`],
      secretName: 'apiserver-tls',
    });
    const c = await vc(a).ready('apiserver');
    console.log(`      refused: ${c.reason}: ${c.message}`);
    assert.equal(c.status, 'False');
    assert.equal(c.reason, 'TenancyDenied');
    assert.match(c.message ?? '', /DNS name "kubernetes\.default\.svc"/);
    assert.match(c.message ?? '', /DNS name "kubernetes"/);
    assert.match(c.message ?? '', /common name "kubernetes\.default\.svc"/);
    assert.doesNotMatch(c.message ?? '', /x\.sec-pki-a\.svc"/, 'only the refused names are listed');
    assert.equal(await vc(a).secret('apiserver-tls'), undefined);
  });

  it("namespace sec-pki-b cannot have sec-pki-a's service name", async () => {
    await vc(b).create('steal', {
      issuer: { backend: 'local-ca' },
      dnsNames: [`web.${a.namespace}.svc`],
      secretName: 'steal-tls',
    });
    const c = await vc(b).ready('steal');
    console.log(`      refused: ${c.reason}: ${c.message}`);
    assert.equal(c.reason, 'TenancyDenied');
    assert.match(c.message ?? '', /DNS name "web\.sec-pki-a\.svc" \(allowedDomains: \*\*\.sec-pki-b\.svc/);
    assert.equal(await vc(b).secret('steal-tls'), undefined);
  });

  it('API certificates:sign (local-ca), CSR with CA:TRUE and foreign names under an innocent body: 400 naming them', async () => {
    const own = `worker.${a.namespace}.svc`;
    const csr = await opensslCsr('/CN=kubernetes.default.svc/O=system:masters', [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      `subjectAltName=DNS:${own},DNS:kubernetes.default.svc,IP:10.96.0.1`,
    ]);
    const res = await sign(a, 'local-ca', apiTokenA, { csr, commonName: own, dnsNames: [own] });
    console.log(`      ${res.status} ${res.body?.code}: ${res.body?.message}`);
    assert.equal(res.status, 400);
    assert.equal(res.body?.code, 'BadRequest');
    for (const asked of [
      'subject CN=kubernetes.default.svc',
      'subject O=system:masters',
      'DNS name "kubernetes.default.svc"',
      'IP address "10.96.0.1"',
      'key usage "cert sign"',
      'CA:TRUE (basic constraints)',
    ]) {
      assert.ok(res.body?.message?.includes(asked), `names ${asked}`);
    }
    assert.equal(res.body?.certificate, undefined);
  });

  it('API certificates:sign (local-ca) with the foreign names in the body too: 403 naming them', async () => {
    const csr = await opensslCsr('/CN=kubernetes.default.svc', ['subjectAltName=DNS:kubernetes.default.svc']);
    const res = await sign(a, 'local-ca', apiTokenA, {
      csr,
      commonName: 'kubernetes.default.svc',
      dnsNames: ['kubernetes.default.svc'],
    });
    console.log(`      ${res.status} ${res.body?.code}: ${res.body?.message}`);
    assert.equal(res.status, 403);
    assert.match(res.body?.message ?? '', /DNS name "kubernetes\.default\.svc"/);
    assert.equal(res.body?.certificate, undefined);
  });

  it('OpenBao PKI: isCA and kubernetes.default.svc.cluster.local (which role svc itself allows) are refused before OpenBao signs', async () => {
    await vc(a).create('vault-ca', {
      issuer: { backend: 'vault-pki', role: pkiRole.role },
      dnsNames: [`ca.${a.namespace}.svc.cluster.local`],
      isCA: true,
      secretName: 'vault-ca-tls',
    });
    await vc(a).create('vault-apiserver', {
      issuer: { backend: 'vault-pki', role: pkiRole.role },
      dnsNames: ['kubernetes.default.svc.cluster.local'],
      secretName: 'vault-apiserver-tls',
    });
    const ca = await vc(a).ready('vault-ca');
    const apiserver = await vc(a).ready('vault-apiserver');
    console.log(`      refused: ${ca.reason}: ${ca.message}`);
    console.log(`      refused: ${apiserver.reason}: ${apiserver.message}`);
    assert.equal(ca.reason, 'TenancyDenied');
    assert.match(ca.message ?? '', /a CA certificate \(isCA: true; this issuer type makes none\)/);
    assert.equal(apiserver.reason, 'TenancyDenied');
    assert.match(apiserver.message ?? '', /DNS name "kubernetes\.default\.svc\.cluster\.local"/);
    assert.equal(await vc(a).secret('vault-ca-tls'), undefined);
    assert.equal(await vc(a).secret('vault-apiserver-tls'), undefined);

    const own = `worker.${a.namespace}.svc.cluster.local`;
    const hostileCsr = await opensslCsr('/CN=kubernetes.default.svc.cluster.local', [
      'basicConstraints=critical,CA:TRUE',
      `subjectAltName=DNS:${own},DNS:kubernetes.default.svc.cluster.local`,
    ]);
    const viaCsr = await sign(a, 'vault-pki', apiTokenA, {
      csr: hostileCsr,
      role: pkiRole.role,
      commonName: own,
      dnsNames: [own],
    });
    console.log(`      ${viaCsr.status} ${viaCsr.body?.code}: ${viaCsr.body?.message}`);
    assert.equal(viaCsr.status, 400);
    assert.match(viaCsr.body?.message ?? '', /DNS name "kubernetes\.default\.svc\.cluster\.local"/);
    assert.match(viaCsr.body?.message ?? '', /CA:TRUE/);
    const viaBody = await sign(a, 'vault-pki', apiTokenA, {
      csr: await opensslCsr('/CN=kubernetes.default.svc.cluster.local', [
        'subjectAltName=DNS:kubernetes.default.svc.cluster.local',
      ]),
      role: pkiRole.role,
      commonName: 'kubernetes.default.svc.cluster.local',
      dnsNames: ['kubernetes.default.svc.cluster.local'],
    });
    console.log(`      ${viaBody.status} ${viaBody.body?.code}: ${viaBody.body?.message}`);
    assert.equal(viaBody.status, 403);
    // Harmless: OpenBao issued nothing during these attempts.
    const after = await issuedCount();
    console.log(`      OpenBao pki/certs: ${issuedBefore} before, ${after} after`);
    assert.equal(after, issuedBefore);
  });

  it('openssl x509 -text over every tls Secret of both tenants and every API answer: no CA, no foreign name', async () => {
    const pems: { what: string; pem: string }[] = [...apiCertificates];
    for (const t of [a, b]) {
      const list = await t.kubeConfig
        .makeApiClient(CoreV1Api)
        .listNamespacedSecret({ namespace: t.namespace });
      for (const s of list.items) {
        for (const key of ['tls.crt', 'ca.crt']) {
          const data = s.data?.[key];
          if (!data) continue;
          const text = Buffer.from(data, 'base64').toString('utf8');
          const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
          // tls.crt: the leaf first, then intermediates; ca.crt: the trust anchor (the issuer's).
          if (key === 'tls.crt' && blocks[0])
            pems.push({ what: `${t.namespace}/${s.metadata?.name}`, pem: blocks[0] });
        }
      }
    }
    let leaves = 0;
    const allowedSuffix = [`.${a.namespace}.svc`, `.${a.namespace}.svc.cluster.local`];
    for (const { what, pem } of pems) {
      const facts = opensslFacts(await x509Text(pem));
      leaves++;
      assert.equal(facts.ca, false, `${what} is a CA`);
      for (const n of facts.names) {
        const value = n.replace(/^(DNS|CN|IP Address|URI|email):/, '');
        assert.ok(
          allowedSuffix.some((s) => value.endsWith(s)),
          `${what} carries ${n}, outside namespace ${a.namespace}`,
        );
      }
    }
    console.log(
      `      examined ${leaves} certificates (tls Secrets of both tenants + API answers): 0 CA, 0 foreign names`,
    );
    assert.ok(leaves >= 3, 'the control certificates were examined');
    // The operator's log shows no refusal it did not provoke (the refusals above are TenancyDenied / InvalidRequest).
    const unexpected = forbiddenLines(op.logs).filter(
      (l) => !/TenancyDenied|does not certify|asks for more/.test(l),
    );
    assert.deepEqual(unexpected, []);
  });
});
