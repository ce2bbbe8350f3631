// The API over both transports against the real bed: one table of cases (who calls what →
// ok / 401 / 403 / tenancy refusal / not found) run over HTTPS and over gRPC, which must agree;
// then what only gRPC has: reflection, the health service, batchGet streamed for 1,000 paths
// with per-item errors. No secret value may show in any log, audit line or error.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import type { VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject } from '../src/kube/index.ts';
import { createCsr, generatePrivateKey } from '../src/pki/index.ts';
import {
  apiKeyRotation,
  grantApiUser,
  grpcClients,
  httpsCall,
  serviceAccountToken,
} from './support/api-callers.ts';
import { installCrds } from './support/crds.ts';
import { ensureNamespace, startTestOperator, type TestOperator } from './support/operator.ts';
import { testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';

const ns = 'team-transports';
const otherNs = 'team-transports-other';
const canary = `canary-${Math.random().toString(36).slice(2)}-transports`;

type Who = 'allowed' | 'wrongNamespace' | 'noRbac' | 'none' | 'garbage' | 'apiserverAudience';
type Outcome = 'ok' | 401 | 403 | 'tenancy' | 404;

/** One operation as each transport spells it. */
interface Call {
  https: [method: string, path: string, body?: unknown];
  grpc: [service: 'Triggers' | 'Certificates' | 'Secrets', method: string, request: object];
}

const HTTP_STATUS: Record<Exclude<Outcome, 'ok'>, number> = { 401: 401, 403: 403, tenancy: 403, 404: 404 };
const GRPC_STATUS: Record<Outcome, status> = {
  ok: status.OK,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  tenancy: status.PERMISSION_DENIED,
  404: status.NOT_FOUND,
};

const secretsUrl = (backend: string, path: string) =>
  `/v1/namespaces/${ns}/backends/${backend}/secrets/${path}`;
const get = (path: string, backend = 'vault'): Call => ({
  https: ['GET', secretsUrl(backend, path)],
  grpc: ['Secrets', 'Get', { namespace: ns, backend, path }],
});
const write = (path: string): Call => ({
  https: ['PUT', secretsUrl('vault', path), { data: { key: 'written' } }],
  grpc: ['Secrets', 'Write', { namespace: ns, backend: 'vault', path, data: { key: 'written' } }],
});
const batchGet = (paths: string[]): Call => ({
  https: ['POST', `/v1/namespaces/${ns}/backends/vault/secrets:batchGet`, { paths }],
  grpc: ['Secrets', 'BatchGet', { namespace: ns, backend: 'vault', paths }],
});
const sync = (name: string): Call => ({
  https: ['POST', `/v1/namespaces/${ns}/vaultsecrets/${name}/sync`, {}],
  grpc: ['Triggers', 'SyncVaultSecret', { namespace: ns, name }],
});
const syncSelected: Call = {
  https: ['POST', `/v1/namespaces/${ns}/vaultsecrets:sync`, { labelSelector: 'app=transports' }],
  grpc: ['Triggers', 'SyncVaultSecrets', { namespace: ns, labelSelector: 'app=transports' }],
};
const rotate = (name: string): Call => ({
  https: ['POST', `/v1/namespaces/${ns}/secretrotations/${name}/rotate`, {}],
  grpc: ['Triggers', 'RotateSecret', { namespace: ns, name }],
});
const issueFor = (dnsName: string): Call => ({
  https: ['POST', `/v1/namespaces/${ns}/issuers/local-ca/certificates:issue`, { dnsNames: [dnsName] }],
  grpc: ['Certificates', 'Issue', { namespace: ns, issuer: 'local-ca', dnsNames: [dnsName] }],
});
const issue: Call = {
  https: [
    'POST',
    `/v1/namespaces/${ns}/issuers/local-ca/certificates:issue`,
    { dnsNames: ['api.team-transports.svc'] },
  ],
  grpc: [
    'Certificates',
    'Issue',
    { namespace: ns, issuer: 'local-ca', dnsNames: ['api.team-transports.svc'] },
  ],
};
const signed = { commonName: 'api.team-transports.svc', dnsNames: ['api.team-transports.svc'] };
const sign = (csr: string): Call => ({
  https: ['POST', `/v1/namespaces/${ns}/issuers/local-ca/certificates:sign`, { csr, ...signed }],
  grpc: ['Certificates', 'Sign', { namespace: ns, issuer: 'local-ca', csr, ...signed }],
});

describe('API over HTTPS and gRPC: one table of cases, the same outcomes', function () {
  this.timeout(180_000);
  let client: KubeClient;
  let operator: TestOperator;
  let auditFile: string;
  let grpcApi: ReturnType<typeof grpcClients>;
  let csr = '';
  const tokens = {} as Record<Who, string | undefined>;
  const errors: string[] = [];

  before(async function () {
    this.timeout(240_000);
    const bed = await testbed();
    const kc = bed.kubeConfig();
    client = createKubeClient(kc);
    const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await installCrds(kc);
    await ensureNamespace(kc, ns);
    await ensureNamespace(kc, otherNs);
    tokens.allowed = await serviceAccountToken(client, ns, 'allowed');
    tokens.wrongNamespace = await serviceAccountToken(client, otherNs, 'elsewhere');
    tokens.noRbac = await serviceAccountToken(client, ns, 'no-rbac');
    tokens.apiserverAudience = await serviceAccountToken(client, ns, 'allowed', []);
    tokens.garbage = 'not-a-token';
    tokens.none = undefined;
    await grantApiUser(client, ns, { namespace: ns, name: 'allowed' });
    await grantApiUser(client, otherNs, { namespace: otherNs, name: 'elsewhere' });
    await bao('POST', `secret/data/${ns}/db`, { data: { password: canary, user: 'app' } });
    await bao('POST', `secret/data/${otherNs}/db`, { data: { password: canary } });
    // 1,000 paths for the streamed batchGet: 950 present, 25 missing, 25 of another tenant.
    const present = Array.from({ length: 950 }, (_, i) => `${ns}/many/item-${i}`);
    for (let i = 0; i < present.length; i += 50)
      await Promise.all(
        present.slice(i, i + 50).map((p) => bao('POST', `secret/data/${p}`, { data: { v: p } })),
      );
    const key = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
    csr = await createCsr(
      {
        commonName: 'api.team-transports.svc',
        dnsNames: ['api.team-transports.svc'],
        ipAddresses: [],
        uris: [],
        emailAddresses: [],
        usages: ['digital signature', 'server auth'],
        isCA: false,
      },
      key,
    ).then((built) => built.pem);
    auditFile = join(mkdtempSync(join(tmpdir(), 'vaultsync-audit-')), 'audit.log');
    operator = await startTestOperator(bed, {
      config: `
api:
  address: "127.0.0.1:0"
  grpc: {address: "127.0.0.1:0"}
  secretReads: true
  secretWrites: true
  rateLimit: {max: 5000, window: 1m, unauthenticated: {max: 1000, window: 1m}}
  batchGet: {maxItems: 1000, concurrency: 64}
audit: {sink: file, path: ${auditFile}}
backends:
  - name: vault
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
    allowedWritePaths: ["{namespace}/written", "{namespace}/rotated"]
    rateLimit: {qps: 5000, burst: 5000}
  - name: local-ca
    type: local-ca
    allowedNamespaces: ["team-*"]
`,
    });
    assert.ok(operator.grpcAddress, 'gRPC is on');
    grpcApi = grpcClients(operator.grpcAddress, operator.apiCaPem);
    await createObject<VaultSecret>(client, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultSecret',
      metadata: { name: 'db', namespace: ns, labels: { app: 'transports' } },
      spec: {
        backend: 'vault',
        data: [{ secretKey: 'user', remoteRef: { path: `${ns}/db`, property: 'user' } }],
      },
    });
    await createObject(client, apiKeyRotation(ns));
  });

  after(async () => {
    grpcApi?.close();
    await operator?.stop();
  });

  const cases: [string, Who, () => Call, Outcome][] = [
    ['get: the caller’s own path', 'allowed', () => get(`${ns}/db`), 'ok'],
    ['get: from another namespace', 'wrongNamespace', () => get(`${ns}/db`), 403],
    ['get: without RBAC', 'noRbac', () => get(`${ns}/db`), 403],
    ['get: no token', 'none', () => get(`${ns}/db`), 401],
    ['get: a made-up token', 'garbage', () => get(`${ns}/db`), 401],
    ['get: a kube-apiserver token', 'apiserverAudience', () => get(`${ns}/db`), 401],
    ['get: another tenant’s path', 'allowed', () => get(`${otherNs}/db`), 'tenancy'],
    ['get: a missing path', 'allowed', () => get(`${ns}/nothing-here`), 404],
    ['get: an unknown backend', 'allowed', () => get(`${ns}/db`, 'nope'), 404],
    ['batchGet', 'allowed', () => batchGet([`${ns}/db`, `${otherNs}/db`]), 'ok'],
    ['batchGet: without RBAC', 'noRbac', () => batchGet([`${ns}/db`]), 403],
    ['write: a writable path', 'allowed', () => write(`${ns}/written`), 'ok'],
    ['write: a readable, not writable path', 'allowed', () => write(`${ns}/db`), 'tenancy'],
    ['write: another tenant’s path', 'allowed', () => write(`${otherNs}/written`), 'tenancy'],
    ['write: without RBAC', 'noRbac', () => write(`${ns}/written`), 403],
    ['sync', 'allowed', () => sync('db'), 'ok'],
    ['sync: from another namespace', 'wrongNamespace', () => sync('db'), 403],
    ['sync: a missing VaultSecret', 'allowed', () => sync('nope'), 404],
    ['sync by selector', 'allowed', () => syncSelected, 'ok'],
    ['sync by selector: no token', 'none', () => syncSelected, 401],
    ['rotate', 'allowed', () => rotate('api-key'), 'ok'],
    ['rotate: without RBAC', 'noRbac', () => rotate('api-key'), 403],
    ['rotate: a missing SecretRotation', 'allowed', () => rotate('nope'), 404],
    ['issue', 'allowed', () => issue, 'ok'],
    ['issue: without RBAC', 'noRbac', () => issue, 403],
    ['issue: a name of another tenant', 'allowed', () => issueFor(`api.${otherNs}.svc`), 'tenancy'],
    ['sign', 'allowed', () => sign(csr), 'ok'],
    ['sign: a made-up token', 'garbage', () => sign(csr), 401],
  ];

  for (const [name, who, call, outcome] of cases) {
    it(`${name} (${who}) → ${outcome} over both`, async () => {
      const c = call();
      const overHttps = await httpsCall(
        { address: operator.apiAddress!, caPem: operator.apiCaPem },
        c.https[0],
        c.https[1],
        tokens[who],
        c.https[2],
      );
      const overGrpc = await grpcApi.unary(c.grpc[0], c.grpc[1], c.grpc[2], tokens[who]);
      if (overHttps.status >= 400) errors.push(overHttps.text);
      if (overGrpc.details) errors.push(overGrpc.details);
      if (outcome === 'ok') assert.ok(overHttps.status === 200 || overHttps.status === 202, overHttps.text);
      else assert.equal(overHttps.status, HTTP_STATUS[outcome], overHttps.text);
      assert.equal(overGrpc.code, GRPC_STATUS[outcome], overGrpc.details);
      // The same error code, and the same words, whichever way the call came.
      if (outcome !== 'ok') {
        assert.equal(overGrpc.apiCode, overHttps.body.code);
        assert.equal(overGrpc.details, overHttps.body.message);
      }
      if (outcome === 'tenancy')
        assert.match(
          overHttps.body.message,
          /not (allowed|writable) for namespace|does not certify for namespace/,
        );
    });
  }

  it('gRPC answers carry the same data as HTTPS: values as bytes, certificates as PEM', async () => {
    const read = await grpcApi.unary(
      'Secrets',
      'Get',
      { namespace: ns, backend: 'vault', path: `${ns}/db` },
      tokens.allowed,
    );
    assert.equal(read.code, status.OK);
    assert.equal(Buffer.from(read.body.data.user).toString(), 'app');
    const issued = await grpcApi.unary('Certificates', 'Issue', issue.grpc[2], tokens.allowed);
    assert.match(issued.body.certificate, /BEGIN CERTIFICATE/);
    assert.match(issued.body.privateKey, /BEGIN PRIVATE KEY/);
    const waited = await grpcApi.unary(
      'Triggers',
      'SyncVaultSecret',
      { namespace: ns, name: 'db', waitSeconds: 10 },
      tokens.allowed,
    );
    assert.equal(waited.body.results[0].state, 'Done', JSON.stringify(waited.body));
    const tooLong = await grpcApi.unary(
      'Triggers',
      'SyncVaultSecret',
      { namespace: ns, name: 'db', waitSeconds: 600 },
      tokens.allowed,
    );
    assert.equal(tooLong.code, status.INVALID_ARGUMENT, 'the HTTPS body schema applies');
  });

  it('reflection lists the services (as grpcurl list does); health answers SERVING', async () => {
    assert.deepEqual(await grpcApi.listServices(), [
      'grpc.health.v1.Health',
      'vaultsync.v1.Certificates',
      'vaultsync.v1.History',
      'vaultsync.v1.Secrets',
      'vaultsync.v1.Triggers',
    ]);
    for (const service of ['', 'vaultsync.v1.Secrets']) {
      const health = await grpcApi.unary('Health', 'Check', { service });
      // SERVING (1 in the health proto's enum).
      assert.ok([1, 'SERVING'].includes(health.body?.status), `${service}: ${health.details}`);
    }
  });

  it('batchGet streams 1,000 paths, each failed item with its own error, and agrees with the unary call', async () => {
    const paths = [
      ...Array.from({ length: 950 }, (_, i) => `${ns}/many/item-${i}`),
      ...Array.from({ length: 25 }, (_, i) => `${ns}/many/missing-${i}`),
      ...Array.from({ length: 25 }, (_, i) => `${otherNs}/many/item-${i}`),
    ];
    const request = { namespace: ns, backend: 'vault', paths };
    const start = performance.now();
    const streamed = await grpcApi.stream('Secrets', 'StreamBatchGet', request, tokens.allowed);
    console.log(`      streamed 1,000 paths in ${(performance.now() - start).toFixed(0)} ms`);
    assert.equal(streamed.code, status.OK, streamed.details);
    assert.equal(streamed.items.length, 1000);
    const byPath = new Map(streamed.items.map((i) => [i.path, i]));
    assert.equal(Buffer.from(byPath.get(`${ns}/many/item-7`).data.v).toString(), `${ns}/many/item-7`);
    assert.equal(byPath.get(`${ns}/many/missing-3`).error.code, 'NotFound');
    assert.equal(byPath.get(`${otherNs}/many/item-3`).error.code, 'Forbidden');
    assert.equal(streamed.items.filter((i) => i.error).length, 50);
    const unary = await grpcApi.unary('Secrets', 'BatchGet', request, tokens.allowed);
    assert.equal(unary.body.succeeded, 950);
    assert.equal(unary.body.failed, 50);
    assert.deepEqual(
      unary.body.items.map((i: { path: string }) => i.path),
      paths,
      'the unary answer keeps the order asked for',
    );
    const refused = await grpcApi.stream('Secrets', 'StreamBatchGet', request, tokens.noRbac);
    assert.equal(refused.code, status.PERMISSION_DENIED);
    assert.equal(refused.items.length, 0);
  });

  it('each gRPC call has its audit line; no canary in any log, audit line or error', () => {
    const lines = readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    const overGrpc = lines.filter((l) => l.transport === 'grpc');
    assert.ok(overGrpc.length >= cases.length, `${overGrpc.length} gRPC audit lines`);
    const outcomes = new Set(overGrpc.map((l) => l.outcome));
    for (const o of ['allowed', 'denied', 'unauthenticated', 'failed']) assert.ok(outcomes.has(o), o);
    const stream = overGrpc.find((l) => l.action === 'secrets.batchGet' && l.detail?.failed === 50);
    assert.ok(stream, 'the streamed batchGet is audited with its counts');
    const everything = [operator.logs.join(''), readFileSync(auditFile, 'utf8'), errors.join('\n')].join(
      '\n',
    );
    assert.ok(!everything.includes(canary), 'canary leaked');
  });
});
