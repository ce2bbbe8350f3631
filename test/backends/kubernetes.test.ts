// The kubernetes backend against the test bed's real kube-apiserver: Secrets in a source
// namespace created for this run (and deleted after it).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { BackendError } from '../../src/resilience/errors.ts';
import { kubeSecretsApi } from '../../src/backends/kube-client.ts';
import { createBackends } from '../../src/backends/registry.ts';
import { loadConfig } from '../../src/config/load.ts';
import { testbed } from '../support/testbed.ts';
import { runBackendContract } from './contract.ts';

describe('kubernetes backend against kube-apiserver', function () {
  this.timeout(300_000);

  runBackendContract('kubernetes', async () => {
    const bed = await testbed();
    const kc = bed.kubeConfig();
    const source = `vaultsync-contract-${randomBytes(3).toString('hex')}`;
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: source } } });
    const config = await loadConfig(
      {
        text: `backends: [{name: kube, type: kubernetes, namespace: ${source}, allowedNamespaces: ["team-*"], allowedWritePaths: ["c*"]}]`,
      },
      { env: {} },
    );
    const registry = createBackends(config, { secrets: kubeSecretsApi(kc) });
    return {
      backend: registry.get('kube')!,
      ctx: { namespace: 'team-a' },
      path: (name) => name,
      readOnlyPath: (name) => `readonly-${name}`,
      keepsOldVersions: false,
      cleanup: async () => {
        await core.deleteNamespace({ name: source }).catch(() => undefined);
      },
    };
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
