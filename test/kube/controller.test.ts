// The runtime pieces together against a real API server: an informer's handlers enqueue
// keys, a controller reconciles them (server-side apply of a mirror ConfigMap), retries a
// transient failure, and converges on update and delete.
import assert from 'node:assert/strict';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import {
  Controller,
  Informer,
  type KubeClient,
  builtinResources,
  createKubeClient,
  createObject,
  deleteObject,
  enqueueHandlers,
  getObject,
  mergePatch,
  serverSideApply,
  splitKey,
} from '../../src/kube/index.ts';
import { testbed } from '../support/testbed.ts';
import { eventually, freshNamespace } from './helpers.ts';

type ConfigMap = KubernetesObject & { data?: Record<string, string> };

describe('kube runtime: informer + controller (real API server)', function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  let client: KubeClient;
  let ns: { name: string; cleanup: () => Promise<unknown> };

  before(async function () {
    this.timeout(300_000);
    kc = (await testbed()).kubeConfig();
    client = createKubeClient(kc);
    ns = await freshNamespace(client, 'controller');
  });
  after(() => ns?.cleanup());

  it('mirrors labelled ConfigMaps, retrying a transient failure, and follows updates and deletes', async () => {
    const informer = new Informer<ConfigMap>({
      resource: builtinResources.ConfigMap,
      kubeConfig: kc,
      namespace: ns.name,
      labelSelector: 'role=source',
    });
    const failedOnce = new Set<string>();
    const controller = new Controller({
      name: 'mirror',
      workers: 2,
      reconcile: async (key) => {
        if (!failedOnce.has(key)) {
          failedOnce.add(key);
          throw Object.assign(new Error('backend briefly unavailable'), { retryAfterMs: 200 });
        }
        const { namespace, name } = splitKey(key);
        const mirror = { apiVersion: 'v1', kind: 'ConfigMap', name: `${name}-mirror`, namespace };
        const source = informer.get(key);
        if (!source) {
          await deleteObject(client, mirror);
          return;
        }
        await serverSideApply(
          client,
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: mirror.name, namespace, labels: { role: 'mirror' } },
            data: source.data ?? {},
          } as ConfigMap,
          { fieldManager: 'mirror-test', force: true },
        );
      },
    });
    informer.addHandlers(enqueueHandlers((key) => controller.enqueue(key)));
    informer.start();
    controller.start();
    try {
      await informer.waitForSync();
      const src = { apiVersion: 'v1', kind: 'ConfigMap', name: 'app', namespace: ns.name };
      await createObject(client, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'app', namespace: ns.name, labels: { role: 'source' } },
        data: { v: '1' },
      } as ConfigMap);
      const mirrorRef = { ...src, name: 'app-mirror' };
      const first = await eventually('mirror created', async () => {
        const m = await getObject<ConfigMap>(client, mirrorRef);
        return m?.data?.v === '1' ? m : undefined;
      });
      assert.equal(first.metadata?.labels?.role, 'mirror');

      await mergePatch(client, src, { data: { v: '2' } });
      await eventually('mirror updated', async () =>
        (await getObject<ConfigMap>(client, mirrorRef))?.data?.v === '2' ? true : undefined,
      );

      await deleteObject(client, src);
      await eventually('mirror deleted', async () =>
        (await getObject(client, mirrorRef)) ? undefined : true,
      );
      assert.equal(informer.healthy(), true);
    } finally {
      await controller.stop();
      await informer.stop();
    }
  });
});
