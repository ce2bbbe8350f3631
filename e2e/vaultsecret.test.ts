// End to end on any cluster: CRDs install, a VaultSecret reading the embedded kubernetes
// and memory backends produces its Secret, and deleting it leaves a Retain Secret in place.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { V1Secret } from '@kubernetes/client-node';
import winston from 'winston';
import { loadConfig } from '../src/config/index.ts';
import {
  type KubeClient,
  createKubeClient,
  createObject,
  deleteObject,
  getObject,
} from '../src/kube/index.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startOperator, type RunningOperator } from '../src/operator.ts';
import { installCrds } from '../test/support/crds.ts';
import { eventually } from '../test/support/wait.ts';
import { e2eCluster } from './cluster.ts';

const suffix = randomBytes(3).toString('hex');
const appNs = `e2e-app-${suffix}`;
const sourceNs = `e2e-source-${suffix}`;
const operatorNs = `e2e-vaultsync-${suffix}`;

describe('e2e: VaultSecret with the embedded backends', function () {
  this.timeout(120_000);
  let client: KubeClient;
  let operator: RunningOperator;

  before(async function () {
    this.timeout(180_000);
    const cluster = await e2eCluster();
    console.log(`      cluster: ${cluster.description}`);
    client = createKubeClient(cluster.kubeConfig);
    await installCrds(cluster.kubeConfig);
    for (const name of [appNs, sourceNs, operatorNs]) {
      await createObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
    await createObject(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'api-credentials', namespace: sourceNs },
      stringData: { token: 'e2e-token' },
    });
    const config = await loadConfig(
      {
        text: `
operator: {namespace: ${operatorNs}, healthAddress: "127.0.0.1:0", metricsAddress: "0", leaderElection: {enabled: false}}
backends:
  - {name: dev, type: kubernetes, namespace: ${sourceNs}, allowedNamespaces: ["${appNs}"]}
  - {name: memory, type: memory, allowedNamespaces: ["${appNs}"], data: {app/config: {mode: e2e}}}
`,
      },
      { env: {} },
    );
    const quiet = new Writable({ write: (_c, _e, done) => done() });
    const logger = createLogger({ transports: [new winston.transports.Stream({ stream: quiet })] });
    operator = await startOperator({ config, kubeConfig: cluster.kubeConfig, logger });
  });

  after(async () => {
    await operator?.stop();
    for (const name of [appNs, sourceNs, operatorNs]) {
      await deleteObject(client, { apiVersion: 'v1', kind: 'Namespace', name }).catch(() => false);
    }
  });

  it('syncs values from both embedded backends into one Secret', async () => {
    await createObject(client, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultSecret',
      metadata: { name: 'app', namespace: appNs },
      spec: {
        backend: 'dev',
        data: [{ secretKey: 'token', remoteRef: { path: 'api-credentials', property: 'token' } }],
      },
    });
    await createObject(client, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultSecret',
      metadata: { name: 'config', namespace: appNs },
      spec: { backend: 'memory', dataFrom: [{ extract: { path: 'app/config' } }] },
    });
    const read = (name: string) =>
      getObject<V1Secret>(client, { apiVersion: 'v1', kind: 'Secret', namespace: appNs, name });
    const app = await eventually('Secret app', () => read('app'), 30_000);
    const config = await eventually('Secret config', () => read('config'), 30_000);
    assert.equal(Buffer.from(app.data?.token ?? '', 'base64').toString(), 'e2e-token');
    assert.equal(Buffer.from(config.data?.mode ?? '', 'base64').toString(), 'e2e');
  });

  it('keeps a Retain Secret when its VaultSecret is deleted', async () => {
    await deleteObject(client, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultSecret',
      namespace: appNs,
      name: 'app',
    });
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(
      await getObject<V1Secret>(client, { apiVersion: 'v1', kind: 'Secret', namespace: appNs, name: 'app' }),
    );
  });
});
