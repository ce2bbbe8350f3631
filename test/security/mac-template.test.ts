// Hostile tenants against templates and MACs (issue 12, Deliver 8 and 9), with the operator as
// shipped (chart ServiceAccount and RBAC; an OpenBao role that reads only the tenants' paths).
// - The template bomb: 20,000 `{{a}}` over a 16 KB value (327 MB rendered) is refused by the
//   API server; the largest templates the CRD admits are refused by the operator before it
//   renders anything (TemplateFailed), with operator RSS growth under 50 MB and event-loop delay
//   under 100 ms (the operator runs in this process).
// - Equal values in two namespaces give unrelated status.secretMAC and pod-template digests, so
//   a reader of VaultSecrets or Deployments learns nothing about who shares a password.
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../../src/apis/v1alpha1/index.ts';
import {
  KubeError,
  createKubeClient,
  createObject,
  deleteObject,
  getObject,
  mergePatch,
} from '../../src/kube/index.ts';
import { testbed, type Testbed } from '../support/testbed.ts';
import { baoApi } from '../support/testbed/openbao.ts';
import { eventually } from '../support/wait.ts';
import {
  type ShippedOperator,
  type Tenant,
  createTenant,
  forbiddenLines,
  operatorVaultAuth,
  startShippedOperator,
} from './harness.ts';

const NAME = 'sec-mac';
const API = 'vaultsync.io/v1alpha1';
const HMAC_ANNOTATION = 'vaultsync.io/secrets-hmac';
const canary = `canary-${Math.random().toString(36).slice(2)}-mac`;
/** 16 KB, with the canary inside so no refusal message can carry it unnoticed. */
const BIG = `${canary}${'x'.repeat(16 * 1024 - canary.length)}`;
const TOLERATIONS = [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }];
const MB = 1024 * 1024;

describe('security: templates are bounded and MACs are bound to their object', function () {
  this.timeout(180_000);
  let bed: Testbed;
  let bao: ReturnType<typeof baoApi>;
  let op: ShippedOperator;
  let a: Tenant;
  let b: Tenant;

  const vaultSecret = (t: Tenant, name: string) =>
    getObject<VaultSecret>(t.client, { apiVersion: API, kind: 'VaultSecret', namespace: t.namespace, name });
  const readyCondition = async (t: Tenant, name: string) => {
    const vs = await vaultSecret(t, name);
    const c = vs?.status?.conditions?.find((x) => x.type === 'Ready');
    return c && vs?.status?.observedGeneration === vs?.metadata?.generation ? { vs, c } : undefined;
  };
  const templated = (t: Tenant, name: string, templates: Record<string, string>) =>
    createObject<VaultSecret>(t.client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name, namespace: t.namespace },
      spec: {
        backend: 'vault',
        data: [{ secretKey: 'a', remoteRef: { path: `${t.namespace}/big`, property: 'a' } }],
        target: { template: { data: templates } },
      },
    } as VaultSecret);

  /** RSS growth and the worst event-loop delay while `attack` runs (the operator is in-process). */
  async function measured<T>(
    attack: () => Promise<T>,
  ): Promise<{ result: T; rssMb: number; delayMs: number }> {
    const loop = monitorEventLoopDelay({ resolution: 10 });
    const rss = process.memoryUsage().rss;
    loop.enable();
    try {
      const result = await attack();
      return { result, rssMb: (process.memoryUsage().rss - rss) / MB, delayMs: loop.max / 1e6 };
    } finally {
      loop.disable();
    }
  }

  before(async function () {
    bed = await testbed();
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    const auth = await operatorVaultAuth(
      bed,
      NAME,
      'path "secret/data/sec-mac-*" { capabilities = ["read"] }\npath "secret/metadata/sec-mac-*" { capabilities = ["read"] }',
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
    allowedNamespaces: ["sec-mac-a", "sec-mac-b"]
    allowedPaths: ["{namespace}/**"]
`,
    });
    a = await createTenant(bed, 'sec-mac-a');
    b = await createTenant(bed, 'sec-mac-b');
    await bao('POST', 'secret/data/sec-mac-a/big', { data: { a: BIG } });
    // One password, in both namespaces.
    for (const t of [a, b])
      await bao('POST', `secret/data/${t.namespace}/db`, { data: { password: canary } });
  });

  after(async () => {
    // So that a rerun on a shared bed (VAULTSYNC_TESTBED_DIR) starts clean.
    const admin = bed && createKubeClient(bed.kubeConfig());
    for (const [t, kind, name] of [
      [a, 'VaultSecret', 'largest'],
      [a, 'VaultSecret', 'wide'],
      [a, 'VaultSecret', 'db'],
      [b, 'VaultSecret', 'db'],
      [a, 'Deployment', 'app'],
      [b, 'Deployment', 'app'],
    ] as const) {
      if (t && admin)
        await deleteObject(admin, {
          apiVersion: kind === 'Deployment' ? 'apps/v1' : API,
          kind,
          namespace: t.namespace,
          name,
        }).catch(() => undefined);
    }
    await op?.stop();
  });

  it('the template bomb (20,000 {{a}} over a 16 KB value) is refused at admission', async () => {
    const {
      result: err,
      rssMb,
      delayMs,
    } = await measured(() =>
      templated(a, 'bomb', { out: '{{a}}'.repeat(20_000) }).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    console.log(
      `      20,000 placeholders: ${err instanceof KubeError ? `HTTP ${err.status} ${err.message.slice(0, 160)}` : 'admitted'}; RSS growth ${rssMb.toFixed(1)} MB, event-loop delay ${delayMs.toFixed(1)} ms`,
    );
    assert.ok(err instanceof KubeError && err.status === 422, 'refused as Invalid');
    assert.match(err.message, /spec\.target\.template\.data/);
    assert.match(err.message, /Too long|longer than 32768/);
    assert.equal(await vaultSecret(a, 'bomb'), undefined);
  });

  it('the largest templates the CRD admits are TemplateFailed before rendering: RSS growth < 50 MB, event-loop delay < 100 ms', async () => {
    const { result, rssMb, delayMs } = await measured(async () => {
      // 6,553 placeholders, the most a 32,768-character template holds: 107 MB if rendered.
      await templated(a, 'largest', { out: '{{a}}'.repeat(6553) });
      // 1,000 placeholders (the count allowed) over the 16 KB value: 16 MB if rendered.
      await templated(a, 'wide', { out: '{{a}}'.repeat(1000) });
      const failed = async (name: string) =>
        eventually(`${name} TemplateFailed`, async () => {
          const r = await readyCondition(a, name);
          return r?.c.status === 'False' ? r.c : undefined;
        });
      return { largest: await failed('largest'), wide: await failed('wide') };
    });
    console.log(`      6,553 placeholders: Ready=False ${result.largest.reason}: ${result.largest.message}`);
    console.log(
      `      1,000 placeholders x 16 KB: Ready=False ${result.wide.reason}: ${result.wide.message}`,
    );
    console.log(
      `      operator RSS growth ${rssMb.toFixed(1)} MB, event-loop delay ${delayMs.toFixed(1)} ms`,
    );
    assert.equal(result.largest.reason, 'TemplateFailed');
    assert.match(result.largest.message ?? '', /more than 1000 placeholders, the limit per Secret/);
    assert.equal(result.wide.reason, 'TemplateFailed');
    assert.match(result.wide.message ?? '', /would render more than 1 MiB, the limit per Secret/);
    assert.ok(rssMb < 50, `RSS grew ${rssMb.toFixed(1)} MB`);
    assert.ok(delayMs < 100, `event loop blocked ${delayMs.toFixed(1)} ms`);
    // Harmless: no Secret was written, and no value reached status or the logs.
    for (const name of ['largest', 'wide']) {
      assert.equal(
        await getObject<V1Secret>(a.client, {
          apiVersion: 'v1',
          kind: 'Secret',
          namespace: a.namespace,
          name,
        }),
        undefined,
      );
      assert.equal(JSON.stringify(await vaultSecret(a, name)).includes(canary), false);
    }
    assert.equal(op.logs.join('').includes(canary), false, 'no value in the logs');
    assert.deepEqual(forbiddenLines(op.logs), []);
  });

  it('identical values in two namespaces give unrelated status.secretMAC and pod-template digests', async () => {
    for (const t of [a, b]) {
      await createObject<VaultSecret>(t.client, {
        apiVersion: API,
        kind: 'VaultSecret',
        metadata: { name: 'db', namespace: t.namespace },
        spec: { backend: 'vault', dataFrom: [{ extract: { path: `${t.namespace}/db` } }] },
      } as VaultSecret);
    }
    const synced = await Promise.all(
      [a, b].map((t) =>
        eventually(`${t.namespace}/db Ready`, async () => {
          const r = await readyCondition(t, 'db');
          return r?.c.status === 'True' ? r.vs : undefined;
        }),
      ),
    );
    const [macA, macB] = synced.map((vs) => vs.status?.secretMAC ?? '');
    console.log(`      status.secretMAC sec-mac-a/db: ${macA}\n      status.secretMAC sec-mac-b/db: ${macB}`);
    assert.match(macA!, /^hmac-sha256:v2:/);
    assert.notEqual(macA, macB);

    // Workloads that reload on the Secret; one new value, equal in both namespaces, restarts both.
    for (const t of [a, b]) {
      await createObject<V1Deployment>(t.client, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'app', namespace: t.namespace, annotations: { 'vaultsync.io/reload': 'true' } },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'app' } },
          template: {
            metadata: { labels: { app: 'app' } },
            spec: {
              containers: [
                { name: 'app', image: 'example.invalid/app:1', envFrom: [{ secretRef: { name: 'db' } }] },
              ],
              tolerations: TOLERATIONS,
            },
          },
        },
      });
      await bao('POST', `secret/data/${t.namespace}/db`, { data: { password: `${canary}-2` } });
      await mergePatch(
        t.client,
        { apiVersion: API, kind: 'VaultSecret', namespace: t.namespace, name: 'db' },
        { metadata: { annotations: { 'vaultsync.io/sync-now': '1' } } },
      );
    }
    const digests = await Promise.all(
      [a, b].map((t) =>
        eventually(
          `${t.namespace}/app restarted`,
          async () => {
            const d = await getObject<V1Deployment>(t.client, {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              namespace: t.namespace,
              name: 'app',
            });
            return d?.spec?.template?.metadata?.annotations?.[HMAC_ANNOTATION];
          },
          60_000,
        ),
      ),
    );
    console.log(
      `      pod-template digest sec-mac-a/app: ${digests[0]}\n      pod-template digest sec-mac-b/app: ${digests[1]}`,
    );
    assert.match(digests[0]!, /^db=[A-Za-z0-9_-]{4}\.[A-Za-z0-9_-]{22}$/);
    assert.notEqual(digests[0], digests[1]);
  });
});
