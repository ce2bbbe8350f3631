// The kubernetes backend against the test bed's real kube-apiserver: Secrets in a source
// namespace created for this run (and deleted after it).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { BackendError } from '../../src/resilience/errors.ts';
import { kubeSecretsApi } from '../../src/backends/kube-client.ts';
import { GuardedBackend } from '../../src/backends/guard.ts';
import { KubernetesBackend } from '../../src/backends/kubernetes.ts';
import { createBackends } from '../../src/backends/registry.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { BackendConfig } from '../../src/config/schema.ts';
import { systemClock } from '../../src/kube/clock.ts';
import { testbed } from '../support/testbed.ts';
import { countingMetrics, runBackendContract } from './contract.ts';

/** A kubeconfig for a new ServiceAccount in `namespace` with these verbs on its Secrets, and nothing else. */
async function serviceAccountWith(
  admin: k8s.KubeConfig,
  namespace: string,
  verbs: string[],
): Promise<k8s.KubeConfig> {
  const name = `kube-backend-${verbs.join('-')}`;
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({
    namespace,
    body: { metadata: { name }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs }] },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const answer = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = answer.status?.token;
  const kc = new k8s.KubeConfig();
  kc.loadFromClusterAndUser(admin.getCurrentCluster()!, { name, token });
  return kc;
}

describe('kubernetes backend against kube-apiserver', function () {
  this.timeout(300_000);

  runBackendContract('kubernetes', async () => {
    const bed = await testbed();
    const admin = bed.kubeConfig();
    const source = `vaultsync-contract-${randomBytes(3).toString('hex')}`;
    const core = admin.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: source } } });
    // As shipped: a ServiceAccount with exactly the verbs the backend uses in its source namespace.
    const kc = await serviceAccountWith(admin, source, ['get', 'list', 'create', 'patch', 'delete']);
    const config = await loadConfig(
      {
        text: `backends: [{name: kube, type: kubernetes, namespace: ${source}, allowedNamespaces: ["team-*"], allowedWritePaths: ["c*"]}]`,
      },
      { env: {} },
    );
    const metrics = countingMetrics();
    const adapter = new KubernetesBackend({
      name: 'kube',
      namespace: source,
      secrets: kubeSecretsApi(kc),
      pageSize: 2,
    });
    const backend = new GuardedBackend(adapter, config.backends[0] as BackendConfig, {
      clock: systemClock,
      metrics,
    });
    return {
      backend,
      ctx: { namespace: 'team-a' },
      path: (name) => name,
      readOnlyPath: (name) => `readonly-${name}`,
      keepsOldVersions: false,
      listing: {
        pageSize: 2,
        listRequests: () => metrics.count('list'),
        tag: async (name, tags) => {
          await core.patchNamespacedSecret(
            { namespace: source, name, body: { metadata: { labels: tags } } },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
          );
        },
      },
      cleanup: async () => {
        await core.deleteNamespace({ name: source }).catch(() => undefined);
      },
    };
  });

  describe('find and delete as a ServiceAccount', function () {
    const run = randomBytes(3).toString('hex');
    const source = `vaultsync-find-${run}`;
    const canary = `canary-${run}`;
    let core: k8s.CoreV1Api;
    let admin: k8s.KubeConfig;
    const ctx = { namespace: 'team-a', maxAgeMs: 0 };
    const b64 = (v: string) => Buffer.from(v).toString('base64');

    before(async function () {
      const bed = await testbed();
      admin = bed.kubeConfig();
      core = admin.makeApiClient(k8s.CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: source } } });
      const put = (name: string, labels: Record<string, string>, type = 'Opaque') =>
        core.createNamespacedSecret({
          namespace: source,
          body: { metadata: { name, labels }, type, data: { password: b64(`${canary}-${name}`) } },
        });
      await put('app-db', { team: 'pay', tier: 'gold' });
      await put('app-cache', { team: 'pay' });
      await put('other', { team: 'pay', tier: 'gold' });
      await put('app-registry', { team: 'pay' }, 'kubernetes.io/basic-auth');
      await core.createNamespacedSecret({
        namespace: source,
        body: {
          metadata: { name: 'app-release', labels: { team: 'pay' } },
          type: 'helm.sh/release.v1',
          data: { release: b64(canary) },
        },
      });
    });
    after(async () => {
      await core?.deleteNamespace({ name: source }).catch(() => undefined);
    });

    async function backendAs(verbs: string[]) {
      const kc = await serviceAccountWith(admin, source, verbs);
      const config = await loadConfig(
        {
          text: `backends: [{name: kube, type: kubernetes, namespace: ${source}, allowedNamespaces: ["team-*"], allowedPaths: ["app-*"], allowedWritePaths: ["app-*"]}]`,
        },
        { env: {} },
      );
      return createBackends(config, { secrets: kubeSecretsApi(kc) });
    }

    it('finds by prefix and labels, never system Secrets nor what tenancy leaves out, and names no value', async () => {
      const registry = await backendAs(['get', 'list']);
      try {
        const find = registry.get('kube')!.find!.bind(registry.get('kube'));
        const all = await find({ prefix: 'app-', maxItems: 10 }, ctx);
        assert.deepEqual(all, {
          paths: ['app-cache', 'app-db', 'app-registry'],
          truncated: false,
          refused: 0,
        });
        const gold = await find({ prefix: 'app-', tags: { tier: 'gold' }, maxItems: 10 }, ctx);
        assert.deepEqual(gold.paths, ['app-db']);
        // "" is outside allowedPaths ["app-*"]: refused before any request.
        await assert.rejects(
          find({ prefix: '', maxItems: 10 }, ctx),
          (err: unknown) => err instanceof BackendError && err.code === 'TenancyDenied',
        );
        await assert.rejects(
          find({ prefix: 'app-', tags: { tier: 'gold,team!=pay' }, maxItems: 10 }, ctx),
          (err: unknown) => err instanceof BackendError && err.code === 'InvalidRequest',
        );
        assert.equal(JSON.stringify([all, gold]).includes(canary), false);
        // The list call itself keeps no values: names, types, labels, versions.
        const page = await kubeSecretsApi(admin).list(source, { limit: 50 });
        assert.ok(page.items.length >= 5);
        assert.ok(page.items.every((item) => item.data === undefined));
        assert.equal(JSON.stringify(page).includes(b64(canary).slice(0, 12)), false);
      } finally {
        await registry.close();
      }
    });

    it('says PermissionDenied for a find without list and a delete without delete, and deletes nothing', async () => {
      const registry = await backendAs(['get']);
      try {
        const kube = registry.get('kube')!;
        await assert.rejects(kube.find!({ prefix: 'app-', maxItems: 10 }, ctx), (err: unknown) => {
          assert.ok(err instanceof BackendError);
          assert.equal(err.code, 'PermissionDenied');
          assert.equal(
            err.message,
            `list Secrets in ${source}: forbidden; check the operator's RBAC (HTTP 403)`,
          );
          return true;
        });
        await assert.rejects(
          kube.delete!({ path: 'app-cache', scope: 'latest' }, ctx),
          (err: unknown) => err instanceof BackendError && err.code === 'PermissionDenied',
        );
        assert.ok(await core.readNamespacedSecret({ namespace: source, name: 'app-cache' }));
      } finally {
        await registry.close();
      }
    });

    it('deletes a Secret (NotFound after), refuses a system one, and refuses a restore', async () => {
      const registry = await backendAs(['get', 'delete']);
      try {
        const kube = registry.get('kube')!;
        await kube.delete!({ path: 'app-cache', scope: 'latest' }, ctx);
        await assert.rejects(
          kube.read({ path: 'app-cache' }, ctx),
          (err: unknown) => err instanceof BackendError && err.code === 'NotFound',
        );
        await assert.rejects(
          kube.delete!({ path: 'app-cache', scope: 'all' }, ctx),
          (err: unknown) => err instanceof BackendError && err.code === 'NotFound',
        );
        await assert.rejects(kube.delete!({ path: 'app-release', scope: 'all' }, ctx), (err: unknown) => {
          assert.ok(err instanceof BackendError);
          assert.equal(err.code, 'TenancyDenied');
          assert.match(err.message, /has type helm\.sh\/release\.v1/);
          return true;
        });
        assert.ok(await core.readNamespacedSecret({ namespace: source, name: 'app-release' }));
        await assert.rejects(
          kube.restore!({ path: 'app-db', version: '1' }, ctx),
          (err: unknown) =>
            err instanceof BackendError &&
            err.code === 'InvalidRequest' &&
            /nothing to restore/.test(err.message),
        );
      } finally {
        await registry.close();
      }
    });
  });

  it('passes the abort signal down to the request', async () => {
    const bed = await testbed();
    const secrets = kubeSecretsApi(bed.kubeConfig());
    const ac = new AbortController();
    const reason = new Error('reconcile cancelled');
    const pending = secrets.get(bed.baoKubernetesAuth.namespace, 'anything', ac.signal);
    ac.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
    // A live signal does not get in the way.
    assert.equal(
      await secrets.get(bed.baoKubernetesAuth.namespace, 'nothing-here', new AbortController().signal),
      undefined,
    );
  });

  it('maps a forbidden read to PermissionDenied, without the raw API answer', async () => {
    const bed = await testbed();
    const admin = bed.kubeConfig();
    const core = admin.makeApiClient(k8s.CoreV1Api);
    const { namespace } = bed.baoKubernetesAuth;
    // A ServiceAccount without RBAC: reads of Secrets are forbidden.
    const token = await core.createNamespacedServiceAccountToken({
      namespace,
      name: 'default',
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const kc = new k8s.KubeConfig();
    kc.loadFromClusterAndUser(admin.getCurrentCluster()!, { name: 'sa', token: token.status?.token });
    const config = await loadConfig(
      {
        text: `backends: [{name: kube, type: kubernetes, namespace: ${namespace}, allowedNamespaces: ["*"]}]`,
      },
      { env: {} },
    );
    const registry = createBackends(config, { secrets: kubeSecretsApi(kc) });
    try {
      await assert.rejects(
        registry.get('kube')!.read({ path: 'anything' }, { namespace }),
        (err: unknown) => {
          assert.ok(err instanceof BackendError);
          assert.equal(err.code, 'PermissionDenied');
          assert.equal(
            err.message,
            `read Secret ${namespace}/anything: forbidden; check the operator's RBAC (HTTP 403)`,
          );
          assert.equal(JSON.stringify(err).includes(token.status?.token ?? '-'), false);
          return true;
        },
      );
    } finally {
      await registry.close();
    }
  });

  it('writes by a merge patch carrying the read resourceVersion: a Secret changed since is a check-and-set failure (HTTP 409)', async () => {
    const bed = await testbed();
    const kc = bed.kubeConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const { namespace } = bed.baoKubernetesAuth;
    const name = `vaultsync-cas-${randomBytes(3).toString('hex')}`;
    const secrets = kubeSecretsApi(kc);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    try {
      const created = await secrets.create(namespace, {
        metadata: { name },
        data: { a: b64('1'), old: b64('x') },
      });
      const read = created.metadata.resourceVersion!;
      // Someone else changes it after our read.
      await core.patchNamespacedSecret(
        { namespace, name, body: { data: { a: b64('theirs') } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await assert.rejects(secrets.patchData(namespace, name, read, { a: b64('ours') }), (err: unknown) => {
        assert.ok(err instanceof BackendError);
        assert.equal(err.code, 'Conflict');
        assert.equal(err.transient, true);
        assert.match(
          err.message,
          /check-and-set failed for Secret .*: it changed since version \d+ \(HTTP 409\)/,
        );
        return true;
      });
      const theirs = await secrets.get(namespace, name);
      assert.equal(theirs?.data?.a, b64('theirs'), 'their change is kept');
      // With the current version the patch applies; a key set to null is removed.
      const ours = await secrets.patchData(namespace, name, theirs!.metadata.resourceVersion!, {
        a: b64('ours'),
        old: null,
      });
      assert.deepEqual(ours.data, { a: b64('ours') });
    } finally {
      await core.deleteNamespacedSecret({ namespace, name }).catch(() => undefined);
    }
  });
});
