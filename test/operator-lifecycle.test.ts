// The operator as a long-running process: a restart writes nothing, and of two replicas only
// the leader writes while the other takes over when the leader dies.
import assert from 'node:assert/strict';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject, getObject } from '../src/kube/index.ts';
import { installCrds } from './support/crds.ts';
import { OPERATOR_NAMESPACE, ensureNamespace, startTestOperator } from './support/operator.ts';
import { OperatorProcess, leaseHolder, writeShippedOperatorFiles } from './support/operator-process.ts';
import { readyVaultSecrets } from './support/ready.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { delay, eventually } from './support/wait.ts';

const API = 'vaultsync.io/v1alpha1';

async function listItems<T>(client: KubeClient, path: string): Promise<T[]> {
  return (await client.rest.request<{ items: T[] }>({ method: 'GET', path })).items;
}

const versions = (items: { metadata?: { name?: string; resourceVersion?: string } }[]) =>
  Object.fromEntries(items.map((o) => [o.metadata?.name, o.metadata?.resourceVersion]));

describe('operator lifecycle', function () {
  this.timeout(300_000);
  let bed: Testbed;
  let client: KubeClient;

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    client = createKubeClient(bed.kubeConfig());
    await installCrds(bed.kubeConfig());
    await baoApi({ addr: bed.baoAddr, token: bed.baoToken })('POST', 'secret/data/shared/app', {
      data: { a: '1', b: '2' },
    });
  });

  it('restarted with 200 VaultSecrets in sync: zero Secret writes, zero status writes, zero backend reads', async () => {
    const ns = 'team-restart';
    const count = 200;
    await ensureNamespace(bed.kubeConfig(), ns);
    // A backend of its own, so reads made for other suites' leftovers are not counted here.
    const config = `
backends:
  - name: vault-restart
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ["${ns}"]
`;
    const first = await startTestOperator(bed, { config });
    try {
      for (let i = 0; i < count; i++) {
        await createObject<VaultSecret>(client, {
          apiVersion: API,
          kind: 'VaultSecret',
          metadata: { name: `app-${i}`, namespace: ns },
          spec: {
            backend: 'vault-restart',
            data: [{ secretKey: 'a', remoteRef: { path: 'shared/app', property: 'a' } }],
          },
        });
      }
      await eventually(
        `${count} Ready`,
        async () => ((await readyVaultSecrets(client, ns)) === count ? true : undefined),
        120_000,
        500,
      );
    } finally {
      await first.stop();
    }
    const secretsBefore = versions(await listItems<V1Secret>(client, `/api/v1/namespaces/${ns}/secrets`));
    const resourcesBefore = versions(
      await listItems<VaultSecret>(client, `/apis/${API}/namespaces/${ns}/vaultsecrets`),
    );

    const second = await startTestOperator(bed, { config });
    try {
      await eventually('informers synced', async () =>
        (await fetch(`http://${second.healthAddress}/readyz`)).ok ? true : undefined,
      );
      await delay(5000); // every key has been reconciled by now (2 workers, cache-only decisions)
      const metrics = await (await fetch(`http://${second.healthAddress}/metrics`)).text();
      const reconciles = metrics.match(
        /controller_runtime_reconcile_total\{controller="vaultsecret",result="requeue_after"\} (\d+)/,
      );
      assert.ok(
        Number(reconciles?.[1]) >= count,
        `every VaultSecret reconciled after the restart (${reconciles?.[1]})`,
      );
      assert.doesNotMatch(
        metrics,
        /vaultsync_backend_requests_total\{backend="vault-restart",operation="read"[^}]*\} [1-9]/,
      );
      assert.match(
        metrics,
        /vaultsync_resource_ready\{kind="VaultSecret",namespace="team-restart",name="app-0"\} 1/,
      );
    } finally {
      await second.stop();
    }
    const secretsAfter = versions(await listItems<V1Secret>(client, `/api/v1/namespaces/${ns}/secrets`));
    const resourcesAfter = versions(
      await listItems<VaultSecret>(client, `/apis/${API}/namespaces/${ns}/vaultsecrets`),
    );
    assert.equal(Object.keys(secretsAfter).length, count);
    assert.deepEqual(secretsAfter, secretsBefore, 'no Secret was written');
    assert.deepEqual(resourcesAfter, resourcesBefore, 'no status was written');
  });

  describe('two operator processes', () => {
    const replicas: OperatorProcess[] = [];

    after(() => {
      for (const r of replicas) r.kill();
    });

    function startProcess(identity: string, files: { configFile: string; kubeconfigFile: string }) {
      const replica = new OperatorProcess({ identity, ...files });
      replicas.push(replica);
      return replica;
    }

    it('only the leader writes; the standby takes over within the lease time when the leader dies', async () => {
      const ns = 'team-ha';
      await ensureNamespace(bed.kubeConfig(), ns);
      await ensureNamespace(bed.kubeConfig(), OPERATOR_NAMESPACE);
      // Both replicas as shipped: the chart's identity and RBAC, least-privilege OpenBao.
      const files = await writeShippedOperatorFiles(bed, { name: 'ha' });
      const a = startProcess('replica-a', files);
      await eventually(
        'replica-a leads',
        async () => ((await leaseHolder(client)) === 'replica-a' ? true : undefined),
        30_000,
      );
      const b = startProcess('replica-b', files);
      await eventually(
        'replica-b started',
        () => (b.logText().includes('Started vaultsync') ? true : undefined),
        30_000,
      );

      const create = (name: string) =>
        createObject<VaultSecret>(client, {
          apiVersion: API,
          kind: 'VaultSecret',
          metadata: { name, namespace: ns },
          spec: {
            backend: 'vault',
            data: [{ secretKey: 'b', remoteRef: { path: 'shared/app', property: 'b' } }],
          },
        });
      const synced = (name: string) => async () =>
        (await getObject<V1Secret>(client, { apiVersion: 'v1', kind: 'Secret', namespace: ns, name }))
          ? true
          : undefined;

      await create('before-failover');
      await eventually('synced by the leader', synced('before-failover'), 20_000);
      // The Secret is visible before the leader's log line crosses its stdout pipe.
      await eventually(
        'the leader logs its write',
        () => (/Created Secret/.test(a.logText()) ? true : undefined),
        5_000,
      );
      assert.doesNotMatch(b.logText(), /(Created|Updated) Secret/, 'the standby wrote nothing');

      const killedAt = Date.now();
      a.kill();
      await eventually(
        'replica-b leads',
        async () => ((await leaseHolder(client)) === 'replica-b' ? true : undefined),
        20_000,
        100,
      );
      const takeoverMs = Date.now() - killedAt;
      console.log(`      takeover after the leader was killed: ${takeoverMs} ms (lease 4 s)`);
      assert.ok(takeoverMs < 4000 + 2000, `took over in ${takeoverMs} ms`);
      await create('after-failover');
      await eventually('synced by the new leader', synced('after-failover'), 20_000);
      await eventually(
        'the new leader logs its write',
        () => (/Created Secret/.test(b.logText()) ? true : undefined),
        5_000,
      );
    });
  });
});
