// The Vault backend against a real OpenBao (dev server, KV v2 at secret/) from the test bed:
// the backend contract with token auth and with Kubernetes auth, then what only Vault does.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { BackendError } from '../../src/resilience/errors.ts';
import { kubeTokenSource } from '../../src/backends/kube-client.ts';
import { createBackends, type BackendDeps, type BackendRegistry } from '../../src/backends/registry.ts';
import type { Backend, FindRequest } from '../../src/backends/types.ts';
import { loadConfig } from '../../src/config/load.ts';
import { testbed, type Testbed } from '../support/testbed.ts';
import { baoApi } from '../support/testbed/openbao.ts';
import { countingMetrics, runBackendContract, secretData, type ListingSubject } from './contract.ts';

interface VaultSetup {
  registry: BackendRegistry;
  backend: Backend;
  logins: () => number;
}

interface SetupOptions {
  readonly auth: string;
  readonly allowedPaths?: string;
  readonly allowedWritePaths?: string;
  readonly extra?: string;
  readonly deps?: BackendDeps;
}

/** The contract's listing hooks: tags as KV custom_metadata set by an admin, list requests counted. */
function vaultListing(
  bed: Pick<Testbed, 'baoAddr' | 'baoToken'>,
  metrics: ReturnType<typeof countingMetrics>,
): ListingSubject {
  const admin = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
  return {
    tag: async (path, tags) => {
      await admin('POST', `secret/metadata/${path}`, { custom_metadata: tags });
    },
    listRequests: () => metrics.count('list'),
    foreignPrefix: 'team-b/',
  };
}

async function vaultBackend(bed: Pick<Testbed, 'baoAddr'>, o: SetupOptions): Promise<VaultSetup> {
  const config = await loadConfig(
    {
      text: `
backends:
  - name: vault
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: ${bed.baoAddr.startsWith('http://')}}
    auth: ${o.auth}
    allowedNamespaces: ["team-*"]
    allowedPaths: ${o.allowedPaths ?? '["{namespace}/**"]'}
    allowedWritePaths: ${o.allowedWritePaths ?? '["{namespace}/**"]'}
${o.extra ?? ''}`,
    },
    { env: {} },
  );
  let logins = 0;
  const registry = createBackends(config, {
    onAuthEvent: (_backend, event) => {
      if (event === 'login') logins++;
    },
    ...o.deps,
  });
  const backend = registry.get('vault');
  assert.ok(backend);
  return { registry, backend, logins: () => logins };
}

/** Makes sure the ServiceAccount the Vault role binds exists (the bed creates it; idempotent). */
async function ensureServiceAccount(kc: k8s.KubeConfig, namespace: string, name: string): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } }).catch(() => undefined);
  await core
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name } } })
    .catch(() => undefined);
}

describe('vault backend against OpenBao', function () {
  this.timeout(300_000);

  runBackendContract('vault (token auth)', async () => {
    const bed = await testbed();
    const metrics = countingMetrics();
    const { backend } = await vaultBackend(bed, {
      auth: `{token: {value: "${bed.baoToken}"}}`,
      allowedWritePaths: '["{namespace}/c*"]',
      deps: { metrics },
    });
    return {
      backend,
      ctx: { namespace: 'team-a' },
      path: (n) => `team-a/${n}`,
      readOnlyPath: (n) => `team-a/readonly-${n}`,
      keepsOldVersions: true,
      listing: vaultListing(bed, metrics),
    };
  });

  runBackendContract('vault (kubernetes auth)', async () => {
    const bed = await testbed();
    const { mountPath, role, namespace, serviceAccount } = bed.baoKubernetesAuth;
    const kc = bed.kubeConfig();
    await ensureServiceAccount(kc, namespace, serviceAccount);
    const metrics = countingMetrics();
    const { backend } = await vaultBackend(bed, {
      auth: `{kubernetes: {role: ${role}, mountPath: ${mountPath}, serviceAccountName: ${serviceAccount}}}`,
      deps: { tokenSource: kubeTokenSource(kc), metrics },
    });
    return {
      backend,
      ctx: { namespace },
      path: (n) => `${namespace}/${n}`,
      keepsOldVersions: true,
      listing: vaultListing(bed, metrics),
    };
  });

  describe('with Kubernetes auth', function () {
    let bed: Testbed;
    let setup: VaultSetup;
    const run = randomBytes(3).toString('hex');

    before(async function () {
      bed = await testbed();
      const { mountPath, role, namespace, serviceAccount } = bed.baoKubernetesAuth;
      const kc = bed.kubeConfig();
      await ensureServiceAccount(kc, namespace, serviceAccount);
      setup = await vaultBackend(bed, {
        auth: `{kubernetes: {role: ${role}, mountPath: ${mountPath}, serviceAccountName: ${serviceAccount}}}`,
        allowedPaths: '["{namespace}/**", "shared/**"]',
        deps: { tokenSource: kubeTokenSource(kc) },
      });
    });
    after(async () => {
      await setup?.registry.close();
    });

    it('logs in once for many reads of one identity, concurrent or not', async () => {
      const { namespace } = bed.baoKubernetesAuth;
      const ctx = { namespace };
      const path = `${namespace}/${run}-many`;
      const before = setup.logins();
      await setup.backend.write({ path, data: secretData({ a: '1' }) }, ctx);
      await Promise.all(Array.from({ length: 20 }, () => setup.backend.read({ path }, ctx)));
      for (let i = 0; i < 10; i++) await setup.backend.read({ path }, ctx);
      assert.ok(setup.logins() - before <= 1, `logins: ${setup.logins() - before}`);
    });

    it('answers PermissionDenied for a path the policy does not grant, without logging in again', async () => {
      const { namespace } = bed.baoKubernetesAuth;
      const ctx = { namespace };
      await setup.backend.write({ path: `${namespace}/${run}-ok`, data: secretData({ a: '1' }) }, ctx);
      const logins = setup.logins();
      // allowedPaths let shared/** through; the Vault policy (secret/data/team-a/*) does not.
      await assert.rejects(setup.backend.read({ path: `shared/${run}` }, ctx), (err: unknown) => {
        assert.ok(err instanceof BackendError);
        assert.equal(err.code, 'PermissionDenied');
        assert.equal(err.transient, false);
        assert.match(err.message, /permission denied/);
        return true;
      });
      assert.equal(setup.logins(), logins);
    });

    it('refuses another tenant before asking Vault', async () => {
      const { namespace } = bed.baoKubernetesAuth;
      const logins = setup.logins();
      await assert.rejects(
        setup.backend.read({ path: `team-b/${run}` }, { namespace }),
        (err: unknown) =>
          err instanceof BackendError && err.code === 'TenancyDenied' && /allowedPaths/.test(err.message),
      );
      await assert.rejects(
        setup.backend.read({ path: `${namespace}/../x` }, { namespace }),
        (err: unknown) => err instanceof BackendError && err.code === 'InvalidRequest',
      );
      assert.equal(setup.logins(), logins);
    });

    it('replaces a token revoked behind its back with one new login', async () => {
      const { namespace, mountPath } = bed.baoKubernetesAuth;
      const ctx = { namespace };
      const path = `${namespace}/${run}-revoked`;
      await setup.backend.write({ path, data: secretData({ a: '1' }) }, ctx);
      const before = setup.logins();
      const res = await fetch(`${bed.baoAddr}/v1/sys/leases/revoke-prefix/auth/${mountPath}/login`, {
        method: 'PUT',
        headers: { 'X-Vault-Token': bed.baoToken },
      });
      assert.ok(res.ok, `revoke-prefix: HTTP ${res.status}`);
      const secret = await setup.backend.read({ path }, ctx);
      assert.equal(secret.data.reveal().get('a')?.toString(), '1');
      assert.equal(setup.logins() - before, 1);
    });

    it('fails with Unauthenticated when the ServiceAccount does not exist', async () => {
      const { namespace } = bed.baoKubernetesAuth;
      await assert.rejects(
        setup.backend.read(
          { path: `${namespace}/${run}-x` },
          { namespace, serviceAccount: `missing-${run}` },
        ),
        (err: unknown) => {
          assert.ok(err instanceof BackendError);
          assert.equal(err.code, 'Unauthenticated');
          assert.match(err.message, /ServiceAccount team-a\/missing-.* not found/);
          return true;
        },
      );
    });

    it('keeps tokens and JWTs out of every error', async () => {
      const { namespace } = bed.baoKubernetesAuth;
      const other = await vaultBackend(bed, {
        auth: '{kubernetes: {role: no-such-role, serviceAccountName: vaultsync}}',
        deps: { tokenSource: kubeTokenSource(bed.kubeConfig()) },
      });
      try {
        await assert.rejects(
          other.backend.read({ path: `${namespace}/x` }, { namespace }),
          (err: unknown) => {
            assert.ok(err instanceof BackendError);
            assert.equal(err.code, 'Unauthenticated');
            const text = `${err.message} ${JSON.stringify(err)} ${err.stack ?? ''}`;
            assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{10,}/);
            assert.doesNotMatch(text, /\b(hvs|s)\.[A-Za-z0-9]{20,}/);
            return true;
          },
        );
      } finally {
        await other.registry.close();
      }
    });
  });

  describe('find, delete and restore with the least-privilege role', function () {
    let bed: Testbed;
    let setup: VaultSetup;
    let metrics: ReturnType<typeof countingMetrics>;
    let admin: ReturnType<typeof baoApi>;
    const run = randomBytes(3).toString('hex');
    const ns = 'team-a';
    const ctx = { namespace: ns, maxAgeMs: 0 };
    const base = `${ns}/find-${run}/`;
    const canary = `pw-canary-${run}`;

    before(async function () {
      bed = await testbed();
      const { mountPath, role, serviceAccount } = bed.baoKubernetesAuth;
      const kc = bed.kubeConfig();
      await ensureServiceAccount(kc, ns, serviceAccount);
      metrics = countingMetrics();
      setup = await vaultBackend(bed, {
        auth: `{kubernetes: {role: ${role}, mountPath: ${mountPath}, serviceAccountName: ${serviceAccount}}}`,
        deps: { tokenSource: kubeTokenSource(kc), metrics },
      });
      admin = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
      // A tree: two secrets at the top, folders four levels down, a name that is also a folder.
      for (const rel of [
        'db',
        'dbs/main',
        'web',
        'web/extra',
        'f1/a',
        'f1/f2/b',
        'f1/f2/f3/c',
        'f1/f2/f3/f4/d',
      ]) {
        await admin('POST', `secret/data/${base}${rel}`, { data: { password: `${canary}-${rel}` } });
      }
      await admin('POST', `secret/metadata/${base}db`, { custom_metadata: { team: 'pay', tier: 'gold' } });
      await admin('POST', `secret/metadata/${base}dbs/main`, { custom_metadata: { team: 'pay' } });
      await admin('POST', `secret/metadata/${base}f1/f2/b`, {
        custom_metadata: { team: 'pay', tier: 'gold' },
      });
    });
    after(async () => {
      await setup?.registry.close();
    });

    const find = (req: Partial<FindRequest>) => {
      const backend = setup.backend;
      assert.ok(backend.find);
      return backend.find({ prefix: base, maxItems: 100, ...req }, ctx);
    };
    const rel = (paths: readonly string[]) => paths.map((p) => p.slice(base.length));

    it('finds through folders, one list request per folder, up to maxDepth levels', async () => {
      const before = metrics.count('list');
      const all = await find({});
      assert.deepEqual(rel(all.paths), [
        'db',
        'dbs/main',
        'f1/a',
        'f1/f2/b',
        'f1/f2/f3/c',
        'f1/f2/f3/f4/d',
        'web',
        'web/extra',
      ]);
      assert.equal(all.truncated, false);
      // base, dbs/, f1/, f1/f2/, f1/f2/f3/, f1/f2/f3/f4/, web/: a page per folder.
      assert.equal(metrics.count('list') - before, 7);
      assert.deepEqual(rel((await find({ maxDepth: 2 })).paths), [
        'db',
        'dbs/main',
        'f1/a',
        'f1/f2/b',
        'web',
        'web/extra',
      ]);
      assert.deepEqual(rel((await find({ maxDepth: 0 })).paths), ['db', 'web']);
      const text = JSON.stringify(all);
      assert.equal(text.includes(canary), false, 'a find names paths, never values');
    });

    it('lists the parent folder of a prefix that is not one, keeping the names that start with it', async () => {
      assert.deepEqual(rel((await find({ prefix: `${base}db` })).paths), ['db', 'dbs/main']);
      assert.deepEqual(rel((await find({ prefix: `${base}f1/f2/` })).paths), [
        'f1/f2/b',
        'f1/f2/f3/c',
        'f1/f2/f3/f4/d',
      ]);
      assert.deepEqual((await find({ prefix: `${base}nothing-here/` })).paths, []);
    });

    it('finds by custom_metadata: every tag must match', async () => {
      assert.deepEqual(rel((await find({ tags: { team: 'pay' } })).paths), ['db', 'dbs/main', 'f1/f2/b']);
      assert.deepEqual(rel((await find({ tags: { team: 'pay', tier: 'gold' } })).paths), ['db', 'f1/f2/b']);
      assert.deepEqual((await find({ tags: { team: 'PAY' } })).paths, []);
    });

    it("refuses another team's prefix before asking Vault", async () => {
      const before = metrics.count('list');
      await assert.rejects(
        find({ prefix: 'team-b/' }),
        (err: unknown) => err instanceof BackendError && err.code === 'TenancyDenied',
      );
      assert.equal(metrics.count('list'), before);
    });

    it('deletes the newest version: reads, pinned or not, answer NotFound; a restore brings the value back as a new version', async () => {
      const path = `${base}rotating`;
      const v1 = await setup.backend.write({ path, data: secretData({ password: `${canary}-one` }) }, ctx);
      const v2 = await setup.backend.write({ path, data: secretData({ password: `${canary}-two` }) }, ctx);
      assert.ok(setup.backend.delete && setup.backend.restore);
      await setup.backend.delete({ path, scope: 'latest' }, ctx);
      for (const version of [undefined, v2.version]) {
        await assert.rejects(
          setup.backend.read({ path, ...(version ? { version } : {}) }, ctx),
          (err: unknown) => {
            assert.ok(err instanceof BackendError);
            assert.equal(err.code, 'NotFound');
            assert.match(err.message, /version 2 was deleted/);
            assert.equal(err.message.includes(canary), false);
            return true;
          },
        );
      }
      // Deleting a deleted newest version says so.
      await assert.rejects(
        setup.backend.delete({ path, scope: 'latest' }, ctx),
        (err: unknown) =>
          err instanceof BackendError && err.code === 'NotFound' && /deleted already/.test(err.message),
      );
      const restored = await setup.backend.restore({ path, version: v1.version }, ctx);
      assert.equal(restored.version, '3');
      const latest = await setup.backend.read({ path }, ctx);
      assert.equal(latest.version, '3');
      assert.equal(latest.data.reveal().get('password')?.toString(), `${canary}-one`);
    });

    it('answers NotFound for a delete of nothing (KV itself would answer success)', async () => {
      assert.ok(setup.backend.delete);
      await assert.rejects(
        setup.backend.delete({ path: `${base}never-written`, scope: 'latest' }, ctx),
        (err: unknown) => err instanceof BackendError && err.code === 'NotFound',
      );
    });

    it('says PermissionDenied, clearly, for a policy without list or without delete on metadata', async () => {
      // The policy docs/backends/vault.md teaches for reads and writes, without find or metadata delete.
      const policy = `narrow-${run}`;
      await admin('PUT', `sys/policies/acl/${policy}`, {
        policy: `path "secret/data/${ns}/*" { capabilities = ["read", "create", "update", "delete"] }
path "secret/metadata/${ns}/*" { capabilities = ["read"] }`,
      });
      const created = (await admin('POST', 'auth/token/create', { policies: [policy], ttl: '10m' })) as {
        auth: { client_token: string };
      };
      const narrow = await vaultBackend(bed, { auth: `{token: {value: "${created.auth.client_token}"}}` });
      try {
        assert.ok(narrow.backend.find && narrow.backend.delete);
        await assert.rejects(narrow.backend.find({ prefix: base, maxItems: 10 }, ctx), (err: unknown) => {
          assert.ok(err instanceof BackendError);
          assert.equal(err.code, 'PermissionDenied');
          assert.equal(err.message, `vault list "${base}": 1 error occurred: * permission denied (HTTP 403)`);
          assert.equal(err.message.includes(created.auth.client_token), false);
          return true;
        });
        await assert.rejects(
          narrow.backend.delete({ path: `${base}web`, scope: 'all' }, ctx),
          (err: unknown) => err instanceof BackendError && err.code === 'PermissionDenied',
        );
        // Still there, every version.
        const web = await setup.backend.read({ path: `${base}web` }, ctx);
        assert.equal(web.data.reveal().get('password')?.toString(), `${canary}-web`);
      } finally {
        await narrow.registry.close();
      }
    });
  });

  describe('failures', function () {
    it('maps an unreachable Vault to Unavailable and opens the circuit', async () => {
      const { backend, registry } = await vaultBackend(
        { baoAddr: 'http://127.0.0.1:9' },
        {
          auth: '{token: {value: root}}',
          extra: '    circuitBreaker: {failureThreshold: 2, halfOpenAfter: 1m}',
        },
      );
      try {
        const ctx = { namespace: 'team-a' };
        for (let i = 0; i < 2; i++) {
          await assert.rejects(backend.read({ path: 'team-a/x' }, ctx), (err: unknown) => {
            assert.ok(err instanceof BackendError);
            assert.equal(err.code, 'Unavailable');
            assert.equal(err.transient, true);
            assert.match(err.message, /connection refused/);
            return true;
          });
        }
        await assert.rejects(
          backend.read({ path: 'team-a/x' }, ctx),
          (err: unknown) =>
            err instanceof BackendError && err.code === 'CircuitOpen' && (err.retryAfterMs ?? 0) > 0,
        );
        // The readiness check goes through the breaker too (a probe flood cannot reach the
        // backend), so while the circuit is open it reports that, not another connection error.
        const checks = await registry.checkAll();
        assert.equal(checks.get('vault')?.code, 'CircuitOpen');
      } finally {
        await registry.close();
      }
    });

    it('answers Unauthenticated or PermissionDenied for a bad token, without the token in the error', async () => {
      const bed = await testbed();
      const bad = 'hvs.' + 'B'.repeat(24);
      const { backend, registry } = await vaultBackend(bed, { auth: `{token: {value: "${bad}"}}` });
      try {
        await assert.rejects(backend.read({ path: 'team-a/x' }, { namespace: 'team-a' }), (err: unknown) => {
          assert.ok(err instanceof BackendError);
          assert.ok(['PermissionDenied', 'Unauthenticated'].includes(err.code), err.code);
          assert.equal(`${err.message}${JSON.stringify(err)}${err.stack}`.includes('BBBBBBBB'), false);
          return true;
        });
      } finally {
        await registry.close();
      }
    });
  });
});
