// The embedded HTTP API end to end: the real operator (in this process) serving HTTPS, callers
// authenticated by real ServiceAccount tokens (TokenReview) and authorised by real RBAC
// (SubjectAccessReview), secrets read from a real OpenBao, certificates from the local CA.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { type AddressInfo, type Server, type Socket, createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import fc from 'fast-check';
import type { VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject, getObject } from '../src/kube/index.ts';
import { createCsr, generatePrivateKey, certificateInfo } from '../src/pki/index.ts';
import {
  type HttpsReply,
  apiKeyRotation,
  grantApiUser,
  httpsCall,
  serviceAccountToken as callerToken,
} from './support/api-callers.ts';
import { installCrds } from './support/crds.ts';
import { ensureNamespace, startTestOperator, type TestOperator } from './support/operator.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { eventually } from './support/wait.ts';

const ns = 'team-api';
const otherNs = 'team-api-other';
const canary = `canary-${Math.random().toString(36).slice(2)}-api`;
const READ_LATENCY_MS = 100;

type Reply = HttpsReply;

/** Delays every chunk from client to server: a backend whose every read takes ~100 ms. */
function slowProxy(target: URL, delayMs: number): Promise<Server> {
  const server = createServer((client: Socket) => {
    const upstream = connect(Number(target.port), target.hostname);
    client.on('data', (chunk) => setTimeout(() => upstream.write(chunk), delayMs));
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('HTTP API against the real apiserver and OpenBao', function () {
  this.timeout(120_000);
  let bed: Testbed;
  let kc: KubeConfig;
  let client: KubeClient;
  let operator: TestOperator;
  let proxy: Server;
  let auditFile: string;
  let bao: ReturnType<typeof baoApi>;
  const tokens: Record<'allowed' | 'wrongNamespace' | 'noRbac' | 'apiserverAudience', string> = {
    allowed: '',
    wrongNamespace: '',
    noRbac: '',
    apiserverAudience: '',
  };
  const responses: string[] = [];

  const kv = (path: string, data: Record<string, string>) => bao('POST', `secret/data/${path}`, { data });

  async function call(method: string, path: string, token?: string, body?: unknown): Promise<Reply> {
    const api = { address: operator.apiAddress!, caPem: operator.apiCaPem };
    const reply = await httpsCall(api, method, path, token, body);
    if (reply.status >= 400) responses.push(reply.text);
    return reply;
  }

  const serviceAccountToken = (namespace: string, name: string, audiences?: string[]) =>
    callerToken(client, namespace, name, audiences);
  const grant = (namespace: string, subject: { namespace: string; name: string }) =>
    grantApiUser(client, namespace, subject);

  const auditLines = () =>
    readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    kc = bed.kubeConfig();
    client = createKubeClient(kc);
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await installCrds(kc);
    await ensureNamespace(kc, ns);
    await ensureNamespace(kc, otherNs);
    tokens.allowed = await serviceAccountToken(ns, 'allowed');
    tokens.wrongNamespace = await serviceAccountToken(otherNs, 'elsewhere');
    tokens.noRbac = await serviceAccountToken(ns, 'no-rbac');
    tokens.apiserverAudience = await serviceAccountToken(ns, 'allowed', []);
    await grant(ns, { namespace: ns, name: 'allowed' });
    // Allowed in its own namespace only: calls about team-api must be refused.
    await grant(otherNs, { namespace: otherNs, name: 'elsewhere' });
    await kv(`${ns}/db`, { password: canary, user: 'app' });
    proxy = await slowProxy(new URL(bed.baoAddr), READ_LATENCY_MS);
    auditFile = join(mkdtempSync(join(tmpdir(), 'vaultsync-audit-')), 'audit.log');
    // Writes: the PUT test's path and the SecretRotation's, nothing else.
    const vault = (name: string, addr: string) => `
  - name: ${name}
    type: vault
    address: ${addr}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
    allowedWritePaths: ["{namespace}/written", "{namespace}/rotated"]
    rateLimit: {qps: 1000, burst: 1000}`;
    operator = await startTestOperator(bed, {
      config: `
api:
  address: "127.0.0.1:0"
  secretReads: true
  secretWrites: true
  rateLimit: {max: 5000, window: 1m, unauthenticated: {max: 1000, window: 1m}}
  authCacheTtl: 5s
audit: {sink: file, path: ${auditFile}}
backends:${vault('vault', bed.baoAddr)}${vault('vault-slow', `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`)}
  - name: local-ca
    type: local-ca
    allowedNamespaces: ["team-*"]
`,
    });
  });

  after(async () => {
    await operator?.stop();
    proxy?.close();
  });

  it('allowed ServiceAccount 200, wrong namespace 403, no RBAC 403, no token 401 — each in the audit log', async () => {
    const path = `/v1/namespaces/${ns}/backends/vault/secrets/${ns}/db`;
    const allowed = await call('GET', path, tokens.allowed);
    assert.equal(allowed.status, 200, allowed.text);
    assert.deepEqual(allowed.body.data, { password: canary, user: 'app' });
    const wrongNs = await call('GET', path, tokens.wrongNamespace);
    assert.equal(wrongNs.status, 403);
    assert.match(
      wrongNs.body.message,
      /system:serviceaccount:team-api-other:elsewhere may not get backends\/secrets/,
    );
    const noRbac = await call('GET', path, tokens.noRbac);
    assert.equal(noRbac.status, 403);
    const none = await call('GET', path);
    assert.equal(none.status, 401);
    const garbage = await call('GET', path, 'not-a-token');
    assert.equal(garbage.status, 401);
    // The same ServiceAccount, with a token for the kube-apiserver instead of the API's audience.
    const otherAudience = await call('GET', path, tokens.apiserverAudience);
    assert.equal(otherAudience.status, 401, otherAudience.text);
    assert.match(otherAudience.body.message, /not valid for audience "vaultsync"/);

    const lines = await eventually('audit lines', () => {
      const l = auditLines().filter((e) => e.action === 'secrets.get');
      return l.length >= 6 ? l : undefined;
    });
    assert.deepEqual(
      lines.slice(0, 6).map((e) => [e.outcome, e.status, e.caller?.serviceAccount?.name ?? null]),
      [
        ['allowed', 200, 'allowed'],
        ['denied', 403, 'elsewhere'],
        ['denied', 403, 'no-rbac'],
        ['unauthenticated', 401, null],
        ['unauthenticated', 401, null],
        ['unauthenticated', 401, null],
      ],
    );
    assert.equal(lines[0]!.namespace, ns);
    assert.deepEqual(lines[0]!.paths, [`${ns}/db`]);
    assert.equal(lines[0]!.caller.serviceAccount.namespace, ns);
    assert.ok(lines[0]!.timestamp, 'each line has a time');
  });

  it('a trigger makes the Secret follow a backend change within a second', async () => {
    await kv(`${ns}/trigger`, { token: 'v1' });
    await createObject<VaultSecret>(client, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultSecret',
      metadata: { name: 'triggered', namespace: ns, labels: { app: 'shop' } },
      spec: {
        backend: 'vault',
        refreshInterval: '1h',
        data: [{ secretKey: 'token', remoteRef: { path: `${ns}/trigger`, property: 'token' } }],
      },
    });
    const value = async () => {
      const s = await getObject<V1Secret>(client, {
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: ns,
        name: 'triggered',
      });
      return s?.data?.token ? Buffer.from(s.data.token, 'base64').toString() : undefined;
    };
    await eventually('first sync', async () => ((await value()) === 'v1' ? true : undefined));

    const latencies: number[] = [];
    for (const [i, via] of (['name', 'selector', 'name'] as const).entries()) {
      const next = `v${i + 2}`;
      await kv(`${ns}/trigger`, { token: next });
      const start = performance.now();
      const res =
        via === 'name'
          ? await call('POST', `/v1/namespaces/${ns}/vaultsecrets/triggered/sync`, tokens.allowed, {
              waitSeconds: 5,
            })
          : await call('POST', `/v1/namespaces/${ns}/vaultsecrets:sync`, tokens.allowed, {
              labelSelector: 'app=shop',
              waitSeconds: 5,
            });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.results[0].state, 'Done');
      await eventually('Secret changed', async () => ((await value()) === next ? true : undefined), 2000, 10);
      latencies.push(performance.now() - start);
    }
    console.log(`      trigger → Secret changed: ${latencies.map((l) => `${l.toFixed(0)} ms`).join(', ')}`);
    for (const l of latencies) assert.ok(l < 1000, `took ${l} ms`);

    const refused = await call(
      'POST',
      `/v1/namespaces/${ns}/vaultsecrets/triggered/sync`,
      tokens.wrongNamespace,
      {},
    );
    assert.equal(refused.status, 403);
    const missing = await call('POST', `/v1/namespaces/${ns}/vaultsecrets/nope/sync`, tokens.allowed, {});
    assert.equal(missing.status, 404);
    const badSelector = await call('POST', `/v1/namespaces/${ns}/vaultsecrets:sync`, tokens.allowed, {
      labelSelector: 'app in (',
    });
    assert.equal(badSelector.status, 400);
  });

  it('a rotation trigger writes a new backend version and answers with the outcome', async () => {
    await createObject(client, apiKeyRotation(ns));
    const version = async () =>
      (
        (await bao('GET', `secret/metadata/${ns}/rotated`).catch(() => undefined)) as
          { data?: { current_version?: number } } | undefined
      )?.data?.current_version ?? 0;
    // The first rotation writes the missing value; wait for it before asking for another.
    await eventually('first rotation', async () => ((await version()) >= 1 ? true : undefined));
    const before = await version();
    const res = await call('POST', `/v1/namespaces/${ns}/secretrotations/api-key/rotate`, tokens.allowed, {
      waitSeconds: 20,
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.results[0].state, 'Done', res.text);
    assert.equal(await version(), before + 1);
    const denied = await call(
      'POST',
      `/v1/namespaces/${ns}/secretrotations/api-key/rotate`,
      tokens.noRbac,
      {},
    );
    assert.equal(denied.status, 403);
  });

  it('batchGet of 50 paths takes about as long as the slowest read, not their sum, with per-item errors', async () => {
    const paths = Array.from({ length: 50 }, (_, i) => `${ns}/batch/item-${i}`);
    for (const p of paths.slice(0, 45)) await kv(p, { value: `v-${p}` });
    // Each read through the slow backend takes ~READ_LATENCY_MS; read them one by one first.
    const singleStart = performance.now();
    const singles: number[] = [];
    for (const p of paths.slice(0, 10)) {
      const t = performance.now();
      const r = await call('GET', `/v1/namespaces/${ns}/backends/vault-slow/secrets/${p}`, tokens.allowed);
      assert.equal(r.status, 200, r.text);
      singles.push(performance.now() - t);
    }
    const sequential10 = performance.now() - singleStart;
    const start = performance.now();
    const res = await call(
      'POST',
      `/v1/namespaces/${ns}/backends/vault-slow/secrets:batchGet`,
      tokens.allowed,
      {
        paths,
      },
    );
    const batchMs = performance.now() - start;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.succeeded, 45);
    assert.equal(res.body.failed, 5);
    for (const item of res.body.items.slice(45)) assert.equal(item.error.code, 'NotFound');
    assert.equal(res.body.items[3].data.value, `v-${paths[3]}`);
    const slowest = Math.max(...singles);
    const estimatedSum = (sequential10 / 10) * 50;
    console.log(
      `      single read: max ${slowest.toFixed(0)} ms; 50 one by one ≈ ${estimatedSum.toFixed(0)} ms; ` +
        `batchGet of 50: ${batchMs.toFixed(0)} ms (${(estimatedSum / batchMs).toFixed(1)}x faster)`,
    );
    assert.ok(batchMs < estimatedSum / 5, `batchGet ${batchMs} ms vs ${estimatedSum} ms one by one`);
    assert.ok(batchMs < slowest * 4, `batchGet ${batchMs} ms vs slowest single read ${slowest} ms`);
  });

  it('writes a new version where the backend allows it; a stale check-and-set is a 409', async () => {
    const path = `/v1/namespaces/${ns}/backends/vault/secrets/${ns}/written`;
    const first = await call('PUT', path, tokens.allowed, { data: { key: 'one' }, cas: '0' });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.version, '1');
    const read = await call('GET', path, tokens.allowed);
    assert.deepEqual(read.body.data, { key: 'one' });
    const stale = await call('PUT', path, tokens.allowed, { data: { key: 'two' }, cas: '0' });
    assert.equal(stale.status, 409, stale.text);
    const otherTenant = await call(
      'PUT',
      `/v1/namespaces/${ns}/backends/vault/secrets/${otherNs}/x`,
      tokens.allowed,
      {
        data: { key: 'x' },
      },
    );
    assert.equal(otherTenant.status, 403);
    // Readable is not writable: the path is outside allowedWritePaths, and stays as it was.
    const readOnly = await call(
      'PUT',
      `/v1/namespaces/${ns}/backends/vault/secrets/${ns}/db`,
      tokens.allowed,
      {
        data: { password: 'overwritten' },
      },
    );
    assert.equal(readOnly.status, 403, readOnly.text);
    assert.match(readOnly.body.message, /is not writable for namespace "team-api" .*allowedWritePaths/);
    const db = await call('GET', `/v1/namespaces/${ns}/backends/vault/secrets/${ns}/db`, tokens.allowed);
    assert.deepEqual(db.body.data, { password: canary, user: 'app' });
  });

  it('issues a certificate and signs a CSR through the local CA, with the VaultCertificate rules', async () => {
    const issued = await call(
      'POST',
      `/v1/namespaces/${ns}/issuers/local-ca/certificates:issue`,
      tokens.allowed,
      {
        dnsNames: ['api.team-api.svc'],
        duration: '24h',
      },
    );
    assert.equal(issued.status, 200, issued.text);
    const info = certificateInfo(issued.body.certificate);
    assert.deepEqual(info.dnsNames, ['api.team-api.svc']);
    assert.match(issued.body.privateKey, /BEGIN PRIVATE KEY/);
    const hours = (info.notAfter.getTime() - Date.now()) / 3_600_000;
    assert.ok(hours > 23 && hours <= 24.1, `${hours} h`);

    const key = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
    // The CSR asks for what the body asks for; the certificate's names come from the body.
    const request = {
      commonName: 'worker.team-api.svc',
      dnsNames: ['worker.team-api.svc'],
      ipAddresses: [],
      uris: [],
      emailAddresses: [],
      usages: ['digital signature', 'client auth'],
      isCA: false,
    };
    const csr = (await createCsr(request, key)).pem;
    const signed = await call(
      'POST',
      `/v1/namespaces/${ns}/issuers/local-ca/certificates:sign`,
      tokens.allowed,
      {
        csr,
        commonName: request.commonName,
        dnsNames: request.dnsNames,
        usages: request.usages,
      },
    );
    assert.equal(signed.status, 200, signed.text);
    assert.ok(
      certificateInfo(signed.body.certificate).spki.equals(key.spki()),
      'the certificate is for our key',
    );
    assert.equal(signed.body.privateKey, undefined);

    const invalid = await call(
      'POST',
      `/v1/namespaces/${ns}/issuers/local-ca/certificates:issue`,
      tokens.allowed,
      {
        dnsNames: ['bad_name!'],
        duration: '1s',
      },
    );
    assert.equal(invalid.status, 400);
    const unknown = await call(
      'POST',
      `/v1/namespaces/${ns}/issuers/nope/certificates:issue`,
      tokens.allowed,
      {
        dnsNames: ['x.example'],
      },
    );
    assert.equal(unknown.status, 404);
    const denied = await call(
      'POST',
      `/v1/namespaces/${ns}/issuers/local-ca/certificates:issue`,
      tokens.noRbac,
      {
        dnsNames: ['x.example'],
      },
    );
    assert.equal(denied.status, 403);
  });

  it('fuzz with a real token: malformed paths and bodies give 4xx, never 5xx', async function () {
    this.timeout(120_000);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT'),
        fc.constantFrom(
          `/v1/namespaces/${ns}/backends/vault/secrets/`,
          `/v1/namespaces/${ns}/backends/vault/secrets:batchGet`,
          `/v1/namespaces/${ns}/vaultsecrets/`,
          `/v1/namespaces/${ns}/issuers/local-ca/certificates:issue`,
        ),
        fc.array(
          fc.oneof(
            fc.constantFrom('..', '%2F', '%2e%2e', '', `${ns}`, 'db', '%00'),
            fc.string({ maxLength: 12 }).map(encodeURIComponent),
          ),
          {
            maxLength: 4,
          },
        ),
        fc.oneof(
          fc.anything(),
          fc.json().map((j) => JSON.parse(j) as unknown),
          fc.record({ paths: fc.array(fc.string(), { maxLength: 3 }) }),
        ),
        async (method, prefix, segments, body) => {
          const r = await call(
            method,
            prefix + segments.join('/'),
            tokens.allowed,
            method === 'GET' ? undefined : body,
          );
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          assert.ok(r.status < 500, `${method} ${prefix}${segments.join('/')} → ${r.status} ${r.text}`);
        },
      ),
      { numRuns: 150 },
    );
    console.log(`      fuzz statuses: ${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')}`);
    const doc = await call('GET', '/openapi.json');
    assert.equal(doc.status, 200, 'the server still answers');
  });

  it('serves /readyz with a timed check per backend on the health port only, and /openapi.json', async () => {
    const ready = (await (await fetch(`http://${operator.healthAddress}/readyz`)).json()) as {
      checks: { name: string; latencyMs: unknown }[];
    };
    const names = ready.checks.map((c) => c.name);
    for (const n of ['informers', 'backends/vault', 'backends/vault-slow', 'backends/local-ca'])
      assert.ok(names.includes(n), n);
    for (const c of ready.checks) assert.equal(typeof c.latencyMs, 'number');
    for (const path of ['/readyz', '/healthz', '/metrics']) {
      assert.equal((await call('GET', path)).status, 404, `${path} on the API port`);
    }
    const doc = await call('GET', '/openapi.json');
    assert.equal(doc.status, 200);
    assert.ok(doc.body.paths['/v1/namespaces/{namespace}/secretrotations/{name}/rotate']);
  });

  it('no canary value in the operator log, the audit log or any error response', () => {
    const everything = [operator.logs.join(''), readFileSync(auditFile, 'utf8'), responses.join('\n')].join(
      '\n',
    );
    assert.ok(auditLines().length > 20);
    assert.ok(!everything.includes(canary), 'canary leaked');
  });
});
