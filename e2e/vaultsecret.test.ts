// End to end on any cluster: CRDs install, a VaultSecret reading the embedded kubernetes
// and memory backends produces its Secret, and deleting it leaves a Retain Secret in place.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { V1Secret } from '@kubernetes/client-node';
import winston from 'winston';
import { stringify } from 'yaml';
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
import { type Manifest, forbiddenLines, installShippedIdentity } from '../test/support/shipped.ts';
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
  let refusals: () => string[] = () => [];
  let clusterScoped: Manifest[] = [];

  before(async function () {
    this.timeout(180_000);
    const cluster = await e2eCluster();
    console.log(`      cluster: ${cluster.description}`);
    client = createKubeClient(cluster.kubeConfig);
    await installCrds(cluster.kubeConfig);
    for (const name of [appNs, sourceNs]) {
      await createObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
    await createObject(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'api-credentials', namespace: sourceNs },
      stringData: { token: 'e2e-token' },
    });
    // As shipped: the chart rendered with these backends, its ServiceAccount and RBAC applied,
    // and the operator run with that ServiceAccount's token only.
    // Its own release name, so a vaultsync already installed in the cluster is left alone.
    const shipped = await installShippedIdentity(
      { kubeconfig: cluster.kubeconfig, kubeConfig: () => cluster.kubeConfig },
      'vaultsync-e2e',
      operatorNs,
      {
        config: {
          operator: { leaderElection: { enabled: false } },
          backends: [
            { name: 'dev', type: 'kubernetes', namespace: sourceNs, allowedNamespaces: [appNs] },
            {
              name: 'memory',
              type: 'memory',
              allowedNamespaces: [appNs],
              data: { 'app/config': { mode: 'e2e' } },
            },
          ],
        },
        api: { enabled: false },
        audit: { sink: 'off' },
      },
    );
    const config = await loadConfig(
      {
        text: stringify({
          ...shipped.config,
          operator: { ...shipped.config.operator, healthAddress: '127.0.0.1:0', metricsAddress: '0' },
        }),
      },
      { env: { POD_NAMESPACE: operatorNs } },
    );
    const logs: string[] = [];
    const sink = new Writable({
      write: (chunk, _e, done) => {
        logs.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ transports: [new winston.transports.Stream({ stream: sink })] });
    operator = await startOperator({ config, kubeConfig: shipped.kubeConfig, logger });
    refusals = () => forbiddenLines(logs);
    clusterScoped = shipped.manifests.filter((m) => !m.metadata.namespace);
  });

  after(async () => {
    await operator?.stop();
    for (const name of [appNs, sourceNs, operatorNs]) {
      await deleteObject(client, { apiVersion: 'v1', kind: 'Namespace', name }).catch(() => false);
    }
    for (const m of clusterScoped) {
      await deleteObject(client, { apiVersion: m.apiVersion, kind: m.kind, name: m.metadata.name }).catch(
        () => false,
      );
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

  it('the operator, with the chart RBAC only, was refused nothing', () => {
    assert.deepEqual(refusals(), []);
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
