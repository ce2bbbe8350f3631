// Hostile tenants against the HTTP API of the operator as shipped (chart ServiceAccount, RBAC
// and rendered config; two replicas sharing one release): a token for the API only, one
// certificate every client verifies with the published CA (no -k), health routes off the API
// port, and no flood that turns into TokenReviews or backend checks. Calls go through the real
// curl binary where a client would use it; the counts come from the kube-apiserver's own
// metrics and from a proxy in front of OpenBao.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { VaultSecret } from '../../src/apis/v1alpha1/index.ts';
import { createObject, getObject } from '../../src/kube/index.ts';
import { testbed, type Testbed } from '../support/testbed.ts';
import { baoApi } from '../support/testbed/openbao.ts';
import { binary } from '../support/testbed/paths.ts';
import { eventually } from '../support/wait.ts';
import {
  type ShippedOperator,
  type Tenant,
  createTenant,
  forbiddenLines,
  operatorVaultAuth,
  startShippedOperator,
} from './harness.ts';

const NAME = 'sec-api';
const API = 'vaultsync.io/v1alpha1';
const CA_CONFIGMAP = 'vaultsync-api-ca';
const canary = `canary-${Math.random().toString(36).slice(2)}-api`;
/** OpenBao's health endpoint: what a backend readiness check calls. */
const HEALTH_PATH = '/v1/sys/health';

/** A TCP proxy to OpenBao that counts the requests for one path (request lines seen client → server). */
async function countingProxy(
  target: URL,
  path: string,
): Promise<{ server: Server; url: string; count(): number }> {
  let seen = 0;
  const needle = ` ${path}`;
  const server = createServer((client: Socket) => {
    const upstream = connect(Number(target.port), target.hostname);
    client.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1').split(needle).length - 1;
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => seen };
}

function run(
  cmd: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: env ?? process.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs `count` calls of `fn`, `concurrency` at a time. */
async function flood<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await fn(i);
      }
    }),
  );
  return results;
}

const tally = (codes: readonly number[]) =>
  [...codes.reduce((m, c) => m.set(c, (m.get(c) ?? 0) + 1), new Map<number, number>())]
    .sort(([a], [b]) => a - b)
    .map(([c, n]) => `${c}×${n}`)
    .join(', ');

describe('security: API credentials — a token for the API only, one verifiable certificate, limits before work', function () {
  this.timeout(240_000);
  let bed: Testbed;
  let work: string;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let replicas: ShippedOperator[];
  let tenant: Tenant;
  let caFile: string;
  let caPem: string;

  const port = (op: ShippedOperator) => op.apiAddress!.split(':')[1]!;
  const apiUrl = (op: ShippedOperator, path: string) => `https://127.0.0.1:${port(op)}${path}`;
  /** curl as a client would run it: --cacert, the token from a header file (not the command line). */
  async function curl(
    op: ShippedOperator,
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; ca?: boolean } = {},
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON replies, checked field by field
  ): Promise<{ exit: number; status: number; body: any; stderr: string }> {
    const args = ['-sS', '-X', method, '-o', '-', '-w', '\n%{http_code}'];
    if (opts.ca !== false) args.push('--cacert', caFile);
    if (opts.token !== undefined) {
      const headerFile = join(work, `h-${randomBytes(4).toString('hex')}`);
      writeFileSync(headerFile, `Authorization: Bearer ${opts.token}\n`, { mode: 0o600 });
      args.push('-H', `@${headerFile}`);
    }
    if (opts.body !== undefined)
      args.push('-H', 'content-type: application/json', '-d', JSON.stringify(opts.body));
    const r = await run('curl', [...args, apiUrl(op, path)]);
    const lines = r.stdout.split('\n');
    const status = Number(lines.pop());
    let body: unknown;
    try {
      body = JSON.parse(lines.join('\n'));
    } catch {
      body = undefined;
    }
    return { exit: r.code, status, body, stderr: r.stderr };
  }
  /** The kube-apiserver's count of TokenReviews it answered, from its own /metrics (as admin). */
  async function tokenReviews(): Promise<number> {
    const r = await run(binary('kubernetes', 'kubectl'), ['get', '--raw', '/metrics'], {
      ...process.env,
      KUBECONFIG: bed.kubeconfig,
    });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout
      .split('\n')
      .filter((l) => l.startsWith('apiserver_request_total{') && l.includes('resource="tokenreviews"'))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  }
  const vaultSecret = () =>
    getObject<VaultSecret>(tenant.client, {
      apiVersion: API,
      kind: 'VaultSecret',
      namespace: tenant.namespace,
      name: 'db',
    });

  before(async function () {
    bed = await testbed();
    work = mkdtempSync(join(tmpdir(), 'vaultsync-sec-api-'));
    proxy = await countingProxy(new URL(bed.baoAddr), HEALTH_PATH);
    const auth = await operatorVaultAuth(
      bed,
      NAME,
      'path "secret/data/sec-api-*" { capabilities = ["read"] }\npath "secret/metadata/sec-api-*" { capabilities = ["read"] }',
    );
    const config = `
backends:
  - name: vault
    type: vault
    address: ${proxy.url}
    tls: {insecure: true}
    auth: ${auth}
    allowedNamespaces: ["sec-api-*"]
    allowedPaths: ["{namespace}/**"]
`;
    // Two replicas of one release: the chart's RBAC, leader election on, the same namespace.
    replicas = [];
    for (const identity of ['sec-api-replica-a', 'sec-api-replica-b']) {
      replicas.push(await startShippedOperator(bed, { name: NAME, config, identity, leaderElection: true }));
    }
    tenant = await createTenant(bed, 'sec-api-a');
    await baoApi({ addr: bed.baoAddr, token: bed.baoToken })('POST', `secret/data/${tenant.namespace}/db`, {
      data: { password: canary },
    });
    await createObject<VaultSecret>(tenant.client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name: 'db', namespace: tenant.namespace },
      spec: {
        backend: 'vault',
        data: [
          { secretKey: 'password', remoteRef: { path: `${tenant.namespace}/db`, property: 'password' } },
        ],
      },
    });
    await eventually(
      'db Ready',
      async () =>
        (await vaultSecret())?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          ? true
          : undefined,
      30_000,
      200,
    );
  });

  after(async () => {
    for (const op of replicas ?? []) await op.stop();
    proxy?.server.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a tenant copies ca.crt from the ConfigMap; curl --cacert verifies both replicas (each its own certificate, one CA)', async () => {
    const [a, b] = replicas as [ShippedOperator, ShippedOperator];
    // As the tenant: every authenticated identity may read that one ConfigMap, nothing else there.
    const cm = await getObject<V1ConfigMap>(tenant.client, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: a.namespace,
      name: CA_CONFIGMAP,
    });
    caPem = cm?.data?.['ca.crt'] ?? '';
    assert.match(caPem, /BEGIN CERTIFICATE/);
    assert.equal(a.apiCaPem, caPem);
    assert.equal(b.apiCaPem, caPem, 'both replicas serve from the one CA');
    caFile = join(work, 'ca.crt');
    writeFileSync(caFile, caPem);
    const refusedSecret = await getObject(tenant.client, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: a.namespace,
      name: CA_CONFIGMAP,
    }).then(
      () => 'read',
      (err: unknown) => String((err as { status?: number }).status ?? err),
    );
    assert.equal(refusedSecret, '403', "the CA's key Secret is not the tenant's to read");

    const seen: { fingerprint: string; issuer: string; subject: string }[] = [];
    for (const op of replicas) {
      seen.push(
        await new Promise((resolve, reject) => {
          const socket = tlsConnect(
            { host: '127.0.0.1', port: Number(port(op)), ca: caPem, servername: 'localhost' },
            () => {
              const cert = socket.getPeerCertificate();
              assert.ok(socket.authorized, String(socket.authorizationError));
              socket.end();
              resolve({
                fingerprint: cert.fingerprint256,
                issuer: String(cert.issuer.CN ?? ''),
                subject: String(cert.subject.CN ?? ''),
              });
            },
          );
          socket.on('error', reject);
        }),
      );
    }
    console.log(
      `      serving certificates: ${seen.map((s) => `${s.fingerprint.slice(0, 23)}… (CN ${s.subject})`).join(' and ')}, both issued by "${seen[0]!.issuer}"`,
    );
    assert.notEqual(seen[0]!.fingerprint, seen[1]!.fingerprint, 'each replica signs its own');
    assert.equal(seen[0]!.issuer, seen[1]!.issuer);

    const token = await tenant.tokenFor('vaultsync');
    for (const op of replicas) {
      const r = await curl(op, 'POST', `/v1/namespaces/${tenant.namespace}/vaultsecrets/db/sync`, {
        token,
        body: { waitSeconds: 10 },
      });
      assert.equal(r.exit, 0, r.stderr);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.results[0].state, 'Done');
    }
    // Without the CA the certificate is not trusted (curl exit 60): nothing verifies by accident.
    const untrusted = await curl(a, 'GET', '/openapi.json', { ca: false });
    assert.equal(untrusted.exit, 60, untrusted.stderr);
  });

  it("a tenant's kube-apiserver token (the default audience) is 401 at both replicas, and does nothing", async () => {
    const before = (await vaultSecret())?.metadata?.resourceVersion;
    for (const op of replicas) {
      const r = await curl(op, 'POST', `/v1/namespaces/${tenant.namespace}/vaultsecrets/db/sync`, {
        token: tenant.token,
        body: { waitSeconds: 1 },
      });
      assert.equal(r.status, 401, JSON.stringify(r.body));
      assert.equal(r.body.code, 'Unauthenticated');
      assert.match(r.body.message, /not valid for audience "vaultsync"/);
    }
    // A token for another service (here Vault's audience) is no better.
    const vaultToken = await tenant.tokenFor('vault');
    assert.equal(
      (
        await curl(replicas[0]!, 'POST', `/v1/namespaces/${tenant.namespace}/vaultsecrets/db/sync`, {
          token: vaultToken,
          body: {},
        })
      ).status,
      401,
    );
    assert.equal((await vaultSecret())?.metadata?.resourceVersion, before, 'the VaultSecret was not touched');
  });

  it('/readyz, /healthz and /metrics are 404 on the API port; served on the health port only', async () => {
    for (const op of replicas) {
      for (const path of ['/readyz', '/readyz?exclude=backends', '/healthz', '/metrics']) {
        const r = await curl(op, 'GET', path);
        assert.equal(r.status, 404, `${path} on the API port of ${op.apiAddress}`);
        assert.equal(r.body.code, 'NotFound');
      }
      const ready = await fetch(`http://${op.healthAddress}/readyz`);
      const body = (await ready.json()) as { checks: { name: string }[] };
      assert.ok(
        body.checks.some((c) => c.name === 'backends/vault'),
        'the health port has the checks',
      );
    }
  });

  it('a flood of 1,000 /readyz on the health port runs the OpenBao check at most a few times', async () => {
    const [a] = replicas as [ShippedOperator];
    // Past the 10 s a check's answer is reused: the flood's first request really checks OpenBao.
    await new Promise((r) => setTimeout(r, 10_500));
    const before = proxy.count();
    const started = performance.now();
    const codes = await flood(1000, 50, async () => {
      const res = await fetch(`http://${a.healthAddress}/readyz`);
      await res.arrayBuffer();
      return res.status;
    });
    const seconds = (performance.now() - started) / 1000;
    const checks = proxy.count() - before;
    const metrics = await (await fetch(`http://${a.healthAddress}/metrics`)).text();
    const counted = metrics
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('vaultsync_backend_requests_total{') &&
          l.includes('backend="vault"') &&
          l.includes('operation="check"'),
      )
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    console.log(
      `      1,000 /readyz in ${seconds.toFixed(1)} s (${tally(codes)}): ${checks} OpenBao health requests; ` +
        `${counted} backend checks in this replica's lifetime`,
    );
    // One check shared by the flood, then its answer reused: one per 10 s of flood, plus one at the edge.
    assert.ok(checks >= 1, 'the check does reach OpenBao (through the proxy)');
    assert.ok(checks <= Math.ceil(seconds / 10) + 1, `${checks} OpenBao checks in ${seconds} s`);
  });

  it('1,000 unauthenticated requests (no token, made-up tokens) cost at most 100 TokenReviews', async () => {
    const [a, b] = replicas as [ShippedOperator, ShippedOperator];
    const before = await tokenReviews();
    const started = performance.now();
    const agent = new Agent({ keepAlive: true, maxSockets: 20, ca: caPem });
    const statuses = await flood(1000, 20, (i) => {
      const garbage =
        i % 4 === 1
          ? randomBytes(24).toString('base64url')
          : i % 4 === 3
            ? `${randomBytes(12).toString('base64url')}.${Buffer.from(JSON.stringify({ exp: 4_102_444_800, sub: 'x' })).toString('base64url')}.${randomBytes(32).toString('base64url')}`
            : undefined;
      return new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          {
            agent,
            host: '127.0.0.1',
            port: Number(port(a)),
            servername: 'localhost',
            method: 'POST',
            path: `/v1/namespaces/${tenant.namespace}/vaultsecrets/db/sync`,
            headers: {
              'content-type': 'application/json',
              ...(garbage && { authorization: `Bearer ${garbage}` }),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end('{}');
      });
    });
    agent.destroy();
    const seconds = (performance.now() - started) / 1000;
    const after = await tokenReviews();
    const reviews = after - before;
    console.log(
      `      1,000 unauthenticated requests in ${seconds.toFixed(1)} s (${tally(statuses)}): ${reviews} TokenReviews at the kube-apiserver`,
    );
    assert.ok(reviews <= 100, `${reviews} TokenReviews`);
    assert.ok(
      statuses.every((s) => s === 401 || s === 429),
      tally(statuses),
    );
    // The other replica (its own address budget) still serves the tenant; nothing was triggered.
    const ok = await curl(b, 'POST', `/v1/namespaces/${tenant.namespace}/vaultsecrets/db/sync`, {
      token: await tenant.tokenFor('vaultsync'),
      body: {},
    });
    assert.ok([200, 202].includes(ok.status), JSON.stringify(ok.body));
    for (const op of replicas)
      assert.deepEqual(forbiddenLines(op.logs), [], `refusals in ${op.apiAddress}'s log`);
    const logs = replicas.flatMap((op) => op.logs).join('');
    assert.ok(!logs.includes(canary), 'no value in the operator log');
  });
});
