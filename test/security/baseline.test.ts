// The baseline of the hostile-tenant suite: the operator as shipped (chart ServiceAccount and
// RBAC, OpenBao Kubernetes auth with a policy for tenant paths only) gives a tenant that holds
// `edit` in its namespace what it was granted — and no more: not another tenant's path, not the
// operator's own Secrets, and no refusal in the operator's log that the test did not provoke.
import assert from 'node:assert/strict';
import { CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../../src/apis/v1alpha1/index.ts';
import { createKubeClient, createObject, deleteObject, getObject } from '../../src/kube/index.ts';
import { testbed, type Testbed } from '../support/testbed.ts';
import { baoApi } from '../support/testbed/openbao.ts';
import { eventually } from '../support/wait.ts';
import { secretWriteLines } from '../support/log-lines.ts';
import {
  type ShippedOperator,
  type Tenant,
  createTenant,
  forbiddenLines,
  operatorVaultAuth,
  startShippedOperator,
} from './harness.ts';

const NAME = 'sec-base';
const API = 'vaultsync.io/v1alpha1';
const canary = `canary-${Math.random().toString(36).slice(2)}-base`;

describe('security: the shipped operator gives a tenant what it was granted, no more', function () {
  this.timeout(120_000);
  let bed: Testbed;
  let op: ShippedOperator;
  let a: Tenant;
  let b: Tenant;

  const vaultSecret = (t: Tenant, name: string, path: string) =>
    createObject<VaultSecret>(t.client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name, namespace: t.namespace },
      spec: {
        backend: 'vault',
        data: [{ secretKey: 'password', remoteRef: { path, property: 'password' } }],
      },
    });
  const readyCondition = async (t: Tenant, name: string) => {
    const vs = await getObject<VaultSecret>(t.client, {
      apiVersion: API,
      kind: 'VaultSecret',
      namespace: t.namespace,
      name,
    });
    const c = vs?.status?.conditions?.find((x) => x.type === 'Ready');
    return c && vs?.status?.observedGeneration === vs?.metadata?.generation ? c : undefined;
  };

  before(async function () {
    bed = await testbed();
    const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    // Two layers: OpenBao's policy allows the tenant namespaces' paths only; vaultsync's
    // tenancy rules narrow each namespace to its own.
    const auth = await operatorVaultAuth(
      bed,
      NAME,
      'path "secret/data/sec-base-*" { capabilities = ["read"] }\npath "secret/metadata/sec-base-*" { capabilities = ["read"] }',
    );
    op = await startShippedOperator(bed, {
      name: NAME,
      config: `
backends:
  - name: vault
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: ${auth}
    allowedNamespaces: ["sec-base-*"]
    allowedPaths: ["{namespace}/**"]
`,
    });
    a = await createTenant(bed, 'sec-base-a');
    b = await createTenant(bed, 'sec-base-b');
    await bao('POST', `secret/data/${a.namespace}/db`, { data: { password: canary } });
  });

  after(async () => {
    // So that a rerun on a shared bed (VAULTSYNC_TESTBED_DIR) starts clean.
    const admin = createKubeClient(bed.kubeConfig());
    for (const [t, name] of [
      [a, 'db'],
      [b, 'steal'],
    ] as const) {
      if (t)
        await deleteObject(admin, { apiVersion: API, kind: 'VaultSecret', namespace: t.namespace, name });
    }
    await op?.stop();
  });

  it('a tenant syncs its own path, with the chart identity and a least-privilege OpenBao policy', async () => {
    await vaultSecret(a, 'db', `${a.namespace}/db`);
    const c = await eventually(
      'Ready',
      async () => ((await readyCondition(a, 'db'))?.status === 'True' ? true : undefined),
      30_000,
    );
    assert.ok(c);
    const secret = await getObject<V1Secret>(a.client, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: a.namespace,
      name: 'db',
    });
    assert.equal(Buffer.from(secret!.data!.password!, 'base64').toString(), canary);
  });

  it("another tenant's path is refused before any backend call, and its value goes nowhere", async () => {
    await vaultSecret(b, 'steal', `${a.namespace}/db`);
    const c = await eventually(
      'Ready=False',
      async () => {
        const r = await readyCondition(b, 'steal');
        return r?.status === 'False' ? r : undefined;
      },
      30_000,
    );
    assert.equal(c.reason, 'TenancyDenied');
    const secret = await getObject<V1Secret>(b.client, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: b.namespace,
      name: 'steal',
    });
    assert.equal(secret, undefined);
  });

  it("a tenant cannot read the operator's Secrets (HMAC key, config) with edit", async () => {
    await assert.rejects(
      a.kubeConfig.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: op.namespace }),
      (err: unknown) => /403|forbidden/i.test(String((err as { code?: number }).code ?? err)),
    );
  });

  it('the operator logged no refusal and no value, and named the Secret it wrote', () => {
    assert.deepEqual(forbiddenLines(op.logs), []);
    assert.equal(op.logs.filter((l) => l.includes(canary)).length, 0);
    assert.equal(
      secretWriteLines(op.logs, a.namespace, 'db').length,
      1,
      `"Created Secret" for ${a.namespace}/db`,
    );
  });
});
