// The sidecar end to end (issue 18, deliver 2): `vaultsync sidecar` started as its own process
// with a tenant ServiceAccount's projected-style token (TokenRequest, audience vault), logging in
// to the bed's OpenBao through Kubernetes auth with a least-privilege role for that tenant. It
// serves the tenant's paths on a Unix socket and is refused another tenant's; OpenBao's own audit
// log counts the reads that reached it (the cache); SIGTERM ends it with 0 and no socket left; no
// value reaches its log. The chart-rendered and kustomize-rendered workloads with the native
// sidecar pass a server-side dry run.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { createKubeClient } from '../src/kube/index.ts';
import { startPrivateBed, stopPrivateBed } from './faults/private-bed.ts';
import { serviceAccountToken } from './support/api-callers.ts';
import { ensureNamespace } from './support/operator.ts';
import type { Testbed } from './support/testbed.ts';
import { baoApi, kubernetesAuth, openbaoAuditLogFile } from './support/testbed/openbao.ts';
import { binary, repoRoot } from './support/testbed/paths.ts';
import { eventually } from './support/wait.ts';

const tenant = 'sidecar-a';
const other = 'sidecar-b';
const canary = `canary-${Math.random().toString(36).slice(2)}-sidecar`;
const otherCanary = `canary-${Math.random().toString(36).slice(2)}-other`;
const SIGTERM_BOUND_MS = 3000;
const run = promisify(execFile);

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** OpenBao's reads of one KV path by anyone but the test's root token (audit request entries). */
function readsAt(auditFile: string, path: string): number {
  let n = 0;
  for (const line of readFileSync(auditFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as {
      type: string;
      auth?: { policies?: string[] };
      request?: { path?: string; operation?: string };
    };
    if (e.type !== 'request' || e.auth?.policies?.includes('root')) continue;
    if (e.request?.path === path && e.request.operation === 'read') n++;
  }
  return n;
}

describe('sidecar: one pod, its own ServiceAccount, the real OpenBao', function () {
  this.timeout(120_000);
  let bed: Testbed;
  let kc: KubeConfig;
  let work: string;
  let socket: string;
  let auditFile: string;
  let sidecar: ChildProcess;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let token: string;
  const logs: string[] = [];
  /** The bodies of every answer ≥ 400. */
  const refusals: string[] = [];

  function call(method: string, path: string, body?: unknown): Promise<Reply> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: socket,
          path,
          method,
          headers: payload === undefined ? {} : { 'content-type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 0) >= 400) refusals.push(text);
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
  const secretUrl = (backend: string, path: string, ns = tenant) =>
    `/v1/namespaces/${ns}/backends/${backend}/secrets/${path}`;

  before(async function () {
    this.timeout(180_000);
    bed = await startPrivateBed('sidecar', { workloads: false, openbaoAudit: true });
    kc = bed.kubeConfig();
    auditFile = openbaoAuditLogFile(bed.dir);
    const client = createKubeClient(kc);
    const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    for (const ns of [tenant, other, 'team-a']) await ensureNamespace(kc, ns);
    // Least privilege: the tenant's role reads the tenant's KV paths and nothing else.
    await bao('PUT', `sys/policies/acl/${tenant}`, {
      policy: `path "secret/data/${tenant}/*" { capabilities = ["read"] }`,
    });
    await bao('POST', `auth/${kubernetesAuth.mountPath}/role/${tenant}`, {
      bound_service_account_names: ['app'],
      bound_service_account_namespaces: [tenant],
      audience: 'vault',
      token_policies: [tenant],
      token_ttl: '1h',
    });
    await bao('POST', `secret/data/${tenant}/db`, { data: { password: canary, user: 'app' } });
    await bao('POST', `secret/data/${tenant}/api`, { data: { key: `${canary}-api` } });
    await bao('POST', `secret/data/${other}/db`, { data: { password: otherCanary } });

    // What the kubelet projects into the pod: a token of the pod's ServiceAccount for audience vault.
    token = await serviceAccountToken(client, tenant, 'app', ['vault']);
    work = mkdtempSync(join(tmpdir(), 'vaultsync-sidecar-'));
    writeFileSync(join(work, 'token'), `${token}\n`, { mode: 0o600 });
    socket = join(work, 'vaultsync.sock');
    const backend = (name: string, paths: string) => `
  - name: ${name}
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    allowedPaths: ${paths}
    auth: {kubernetes: {role: ${tenant}}}`;
    // "vault" leaves the tenancy to OpenBao's policy; "scoped" refuses other paths itself.
    writeFileSync(
      join(work, 'config.yaml'),
      `sidecar:
  listen: {socket: ${socket}}
  serviceAccountToken: {path: ${join(work, 'token')}}
  cache: {maxAge: 30s}
  logLevel: debug
backends:${backend('vault', '["**"]')}${backend('scoped', '["{namespace}/*"]')}
`,
    );
    sidecar = spawn(process.execPath, ['src/main.ts', 'sidecar', '--config', join(work, 'config.yaml')], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    sidecar.stdout!.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
    sidecar.stderr!.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
    exited = new Promise((resolve) => sidecar.once('exit', (code, signal) => resolve({ code, signal })));
    await eventually('the sidecar answers on its socket', async () => {
      if (sidecar.exitCode !== null) return `exited: ${logs.join('')}`;
      return (await call('GET', '/healthz')).status === 200 ? 'up' : undefined;
    }).then((state) => assert.equal(state, 'up', state));
  });

  after(async function () {
    this.timeout(60_000);
    if (sidecar && sidecar.exitCode === null) sidecar.kill('SIGKILL');
    await stopPrivateBed(bed);
  });

  it('listens on a Unix socket only its own user may open (0600)', () => {
    assert.equal(statSync(socket).mode & 0o777, 0o600);
    assert.ok(statSync(socket).isSocket());
  });

  it("serves the tenant's paths, as the HTTPS API shapes them", async () => {
    const one = await call('GET', secretUrl('vault', `${tenant}/db`));
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, {
      path: `${tenant}/db`,
      version: '1',
      data: { password: canary, user: 'app' },
    });
    const batch = await call('POST', `/v1/namespaces/${tenant}/backends/scoped/secrets:batchGet`, {
      paths: [`${tenant}/db`, `${other}/db`],
    });
    assert.equal(batch.status, 200);
    assert.equal(batch.body.succeeded, 1);
    assert.equal(batch.body.items[0].data.user, 'app');
    assert.equal(batch.body.items[1].error.code, 'Forbidden');
  });

  it("is refused another tenant's path by OpenBao (403, nothing cached) and by its own rules", async () => {
    const path = `secret/data/${other}/db`;
    const before = readsAt(auditFile, path);
    for (let i = 0; i < 2; i++) {
      const refused = await call('GET', secretUrl('vault', `${other}/db`));
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, 'Forbidden');
      assert.match(refused.body.message, /permission denied|denied/i);
    }
    // Each refusal went to OpenBao again: a failure is never kept.
    assert.equal(readsAt(auditFile, path), before + 2);

    const scoped = await call('GET', secretUrl('scoped', `${other}/db`));
    assert.equal(scoped.status, 403);
    assert.equal(readsAt(auditFile, path), before + 2, 'the sidecar refused it before asking OpenBao');

    const otherNamespace = await call('GET', secretUrl('vault', `${other}/db`, other));
    assert.equal(otherNamespace.status, 403);
    assert.match(otherNamespace.body.message, new RegExp(`serves namespace "${tenant}" only`));
    const write = await call('PUT', secretUrl('vault', `${tenant}/db`), { data: { password: 'x' } });
    assert.equal(write.status, 404);
    assert.equal(write.body.code, 'Disabled');
  });

  it('reads a path from OpenBao once for many requests within the cache age', async () => {
    const path = `secret/data/${tenant}/api`;
    const before = readsAt(auditFile, path);
    const url = secretUrl('vault', `${tenant}/api`);
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => call('GET', url)));
    const sequential: Reply[] = [];
    for (let i = 0; i < 15; i++) sequential.push(await call('GET', url));
    for (const r of [...concurrent, ...sequential]) assert.equal(r.body.data.key, `${canary}-api`);
    assert.equal(readsAt(auditFile, path) - before, 1, '20 requests, one read at OpenBao');
  });

  it('exits 0 on SIGTERM within the bound, its socket removed', async () => {
    const started = Date.now();
    sidecar.kill('SIGTERM');
    const result = await exited;
    const took = Date.now() - started;
    assert.deepEqual(result, { code: 0, signal: null }, logs.join(''));
    assert.ok(took < SIGTERM_BOUND_MS, `exited after ${took} ms`);
    assert.equal(existsSync(socket), false);
  });

  it('no value and no token in its log (at debug level) or in any refusal', () => {
    const log = logs.join('');
    assert.match(log, /Sidecar serving/);
    for (const secret of [canary, otherCanary, token]) assert.ok(!log.includes(secret));
    assert.ok(refusals.length >= 4);
    for (const r of refusals)
      for (const secret of [canary, otherCanary, token]) assert.ok(!r.includes(secret));
  });

  describe('manifests with the native sidecar pass a server-side dry run', () => {
    /** The chart's sidecar container: the kustomize components must give the same one. */
    let chartSidecar: Container | undefined;
    const dryRun = async (text: string, what: string, native = true) => {
      const api = KubernetesObjectApi.makeApiClient(kc);
      const objects = parseAllDocuments(text)
        .map((d) => d.toJS() as KubernetesObject | null)
        .filter((o): o is KubernetesObject => o !== null);
      const created: KubernetesObject[] = [];
      for (const o of objects) created.push(await api.create(o, undefined, 'All'));
      const pods = created.flatMap(podSpecs);
      assert.ok(pods.length > 0, `${what}: a workload`);
      for (const spec of pods) {
        const sidecar = (native ? spec.initContainers : spec.containers)?.find(
          (c) => c.name === 'vaultsync-sidecar',
        );
        assert.ok(sidecar, `${what}: the sidecar container`);
        const { restartPolicy, ...rest } = sidecar;
        // The apiserver kept the native sidecar's restartPolicy (1.28+), the legacy one has none.
        assert.equal(restartPolicy, native ? 'Always' : undefined, what);
        chartSidecar ??= rest;
        assert.deepEqual(rest, chartSidecar, `${what}: the same container as the chart's`);
      }
      return created;
    };

    it('helm template: the ConfigMap and the example Job', async () => {
      const env = {
        ...process.env,
        HELM_CACHE_HOME: join(work, 'helm/cache'),
        HELM_CONFIG_HOME: join(work, 'helm/config'),
        HELM_DATA_HOME: join(work, 'helm/data'),
      };
      const values = join(work, 'values.yaml');
      writeFileSync(
        values,
        JSON.stringify({
          sidecar: {
            enabled: true,
            namespace: tenant,
            backends: [
              {
                name: 'vault',
                type: 'vault',
                address: 'https://vault:8200',
                allowedPaths: ['{namespace}/*'],
                auth: { kubernetes: { role: tenant } },
              },
            ],
            exampleJob: { enabled: true, serviceAccountName: 'app', path: `${tenant}/db` },
          },
        }),
      );
      const args = [
        'template',
        'vaultsync',
        join(repoRoot, 'charts/vaultsync'),
        '-n',
        'vaultsync',
        '-f',
        values,
      ];
      const rendered = await run(binary('helm', 'helm'), [...args, '--show-only', 'templates/sidecar.yaml'], {
        env,
      });
      const created = await dryRun(rendered.stdout, 'chart');
      assert.deepEqual(
        created.map((o) => o.kind),
        ['ConfigMap', 'Job'],
      );
    });

    for (const example of ['job', 'cronjob', 'deployment', 'legacy-deployment']) {
      it(`kustomize: config/components/sidecar/examples/${example}`, async () => {
        const dir = join(repoRoot, 'config/components/sidecar/examples', example);
        const built = await run(binary('kubernetes', 'kubectl'), ['kustomize', dir]);
        await dryRun(built.stdout, example, !example.startsWith('legacy'));
      });
    }
  });
});

type Container = Record<string, unknown> & { name: string; restartPolicy?: string };
interface PodSpecLike {
  initContainers?: Container[];
  containers?: Container[];
}

/** The pod template specs of a workload (Job, CronJob, Deployment), none for anything else. */
function podSpecs(o: KubernetesObject): PodSpecLike[] {
  const spec = (o as { spec?: Record<string, any> }).spec; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (o.kind === 'CronJob') return [spec?.jobTemplate?.spec?.template?.spec];
  if (o.kind === 'Job' || o.kind === 'Deployment') return [spec?.template?.spec];
  return [];
}
