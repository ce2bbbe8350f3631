// The informer against a real kube-apiserver: list + watch, add/update/delete, label
// filtering, recovery from a broken watch and a failed list, and real bookmarks.
import assert from 'node:assert/strict';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import {
  Informer,
  type KubeClient,
  type ListWatchSource,
  type WatchEventType,
  builtinResources,
  createKubeClient,
  createObject,
  createRestClient,
  deleteObject,
  kubeListWatch,
  mergePatch,
} from '../../src/kube/index.ts';
import { testbed } from '../support/testbed.ts';
import { eventually, freshNamespace } from './helpers.ts';

type Obj = KubernetesObject & { data?: Record<string, string> };

/** Wraps the real source so a test can break the current watch or the next list. */
function breakable(inner: ListWatchSource<Obj>) {
  const seen: WatchEventType[] = [];
  let failNextList = false;
  let breakWatch: ((err: unknown) => void) | undefined;
  const source: ListWatchSource<Obj> = {
    async list(signal) {
      if (failNextList) {
        failNextList = false;
        throw Object.assign(new Error('injected list failure'), { code: 'ECONNRESET' });
      }
      return inner.list(signal);
    },
    async watch(params, onEvent, onDone) {
      const handle = await inner.watch(
        params,
        (e) => {
          seen.push(e.type);
          onEvent(e);
        },
        onDone,
      );
      breakWatch = (err) => {
        handle.abort();
        onDone(err);
      };
      return handle;
    },
  };
  return {
    source,
    seen,
    failList: () => (failNextList = true),
    failWatch: (err: unknown) => breakWatch?.(err),
  };
}

describe('kube runtime: informer (real API server)', function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  let client: KubeClient;
  let ns: { name: string; cleanup: () => Promise<unknown> };
  const informers: Informer<Obj>[] = [];

  before(async function () {
    this.timeout(300_000);
    kc = (await testbed()).kubeConfig();
    client = createKubeClient(kc);
    ns = await freshNamespace(client, 'informer');
  });

  after(async () => {
    await Promise.all(informers.map((i) => i.stop()));
    await ns?.cleanup();
  });

  function informerFor(opts: { labelSelector?: string; watchTimeoutSeconds?: number } = {}) {
    const real = kubeListWatch<Obj>(kc, createRestClient(kc), {
      resource: builtinResources.ConfigMap,
      namespace: ns.name,
      labelSelector: opts.labelSelector,
    });
    const b = breakable(real);
    const events: string[] = [];
    const informer = new Informer<Obj>({
      resource: builtinResources.ConfigMap,
      source: b.source,
      backoff: { baseMs: 200, capMs: 1000 },
      watchTimeoutSeconds: opts.watchTimeoutSeconds,
    });
    informer.addHandlers({
      add: (o) => events.push(`add ${o.metadata?.name}`),
      update: (_old, o) => events.push(`update ${o.metadata?.name} ${o.data?.v}`),
      delete: (o) => events.push(`delete ${o.metadata?.name}`),
    });
    informers.push(informer);
    return { informer, events, ...b };
  }

  const cm = (name: string, labels: Record<string, string>, v = '1') => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns.name, labels },
    data: { v },
  });
  const ref = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace: ns.name });

  it('lists existing objects, then sees adds, updates and deletes; the label selector filters', async () => {
    await createObject(client, cm('pre-existing', { app: 'mine' }));
    await createObject(client, cm('not-mine', { app: 'other' }));
    const t = informerFor({ labelSelector: 'app=mine' });
    t.informer.start();
    await t.informer.waitForSync();
    assert.deepEqual(t.informer.keys(), [`${ns.name}/pre-existing`]);
    assert.equal(t.informer.get(`${ns.name}/pre-existing`)?.kind, 'ConfigMap', 'list items get their kind');

    await createObject(client, cm('c1', { app: 'mine' }));
    await createObject(client, cm('c2', { app: 'other' }));
    await eventually('add c1', () => t.informer.get(`${ns.name}/c1`));
    await mergePatch(client, ref('c1'), { data: { v: '2' } });
    await eventually('update c1', () =>
      t.informer.get(`${ns.name}/c1`)?.data?.v === '2' ? true : undefined,
    );
    await deleteObject(client, ref('c1'));
    await eventually('delete c1', () => (t.informer.has(`${ns.name}/c1`) ? undefined : true));

    assert.deepEqual(t.events, ['add pre-existing', 'add c1', 'update c1 2', 'delete c1']);
    assert.equal(t.informer.get(`${ns.name}/c2`), undefined, 'filtered out by label');
    assert.equal(t.informer.healthy(), true);
    assert.equal(t.informer.status().watching, true);
  });

  it('recovers from a broken watch and a failed list without losing changes made meanwhile', async () => {
    const t = informerFor({ labelSelector: 'app=recover' });
    t.informer.start();
    await t.informer.waitForSync();
    await eventually('watching', () => (t.informer.status().watching ? true : undefined));

    t.failWatch(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await createObject(client, cm('while-down', { app: 'recover' }));
    await eventually('add after watch failure', () => t.informer.get(`${ns.name}/while-down`));

    // A 410 makes it relist; make that list fail once too.
    t.failList();
    t.failWatch({ statusCode: 410 });
    await createObject(client, cm('after-gone', { app: 'recover' }));
    await eventually('add after relist failure', () => t.informer.get(`${ns.name}/after-gone`));
    assert.equal(t.informer.status().consecutiveFailures, 0);
    assert.deepEqual(t.events.sort(), ['add after-gone', 'add while-down']);
  });

  it('gets a bookmark at the end of a quiet watch once the server has moved on, and resumes from it', async function () {
    this.timeout(40_000);
    const t = informerFor({ labelSelector: 'app=quiet', watchTimeoutSeconds: 3 });
    t.informer.start();
    await t.informer.waitForSync();
    // A change this informer filters out still moves the watch cache past our version; the
    // server then sends a bookmark shortly before the watch's timeoutSeconds runs out.
    await createObject(client, cm('noise', { app: 'noise' }));
    await eventually('a BOOKMARK event', () => (t.seen.includes('BOOKMARK') ? true : undefined), 30_000);
    assert.equal(t.informer.healthy(), true);
    assert.deepEqual(t.events, [], 'no object events for filtered-out changes');
    await createObject(client, cm('late', { app: 'quiet' }));
    await eventually('add after several watch timeouts', () => t.informer.get(`${ns.name}/late`));
    assert.equal(t.informer.status().consecutiveFailures, 0);
  });
});
