import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import { HandlerSet, enqueueHandlers, isReplay } from './informer-handlers.ts';
import { RecordingLogger } from './testing.ts';

type Obj = KubernetesObject;

const cm = (name: string, rv: string, labels?: Record<string, string>): Obj => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', resourceVersion: rv, labels },
});

describe('informer handlers', () => {
  it('enqueueHandlers sends a replay to onReplay, real changes to enqueue', () => {
    const keys: string[] = [];
    const replayed: string[] = [];
    const h = enqueueHandlers<Obj>(
      (k) => keys.push(k),
      undefined,
      (k) => replayed.push(k),
    );
    const a = cm('a', '1');
    h.update!(a, a);
    h.update!(cm('b', '5'), cm('b', '5'));
    h.update!(cm('c', '1'), cm('c', '2'));
    assert.deepEqual(replayed, ['ns/a', 'ns/b']);
    assert.deepEqual(keys, ['ns/c']);
    const plain: string[] = [];
    enqueueHandlers<Obj>((k) => plain.push(k)).update!(a, a);
    assert.deepEqual(plain, ['ns/a'], 'by default a replay enqueues like any update');
  });

  it('enqueueHandlers maps both sides of an update to keys', () => {
    const keys: string[] = [];
    const h = enqueueHandlers<Obj>(
      (k) => keys.push(k),
      (o) => [String(o.metadata?.labels?.owner)],
    );
    h.update!(cm('s', '1', { owner: 'ns/old' }), cm('s', '2', { owner: 'ns/new' }));
    assert.deepEqual(keys, ['ns/old', 'ns/new']);
  });

  it('isReplay: the same object, or the same resourceVersion', () => {
    const a = cm('a', '1');
    assert.equal(isReplay(a, a), true);
    assert.equal(isReplay(a, cm('a', '1')), true);
    assert.equal(isReplay(a, cm('a', '2')), false);
    assert.equal(isReplay({ metadata: { name: 'x' } }, { metadata: { name: 'x' } }), false);
  });

  it('HandlerSet hands changes to every handler, logs throws and rejections, and removes', async () => {
    const log = new RecordingLogger();
    const set = new HandlerSet<Obj>(log);
    const seen: string[] = [];
    const remove = set.add({
      update: (old, o) => seen.push(`${old.metadata?.resourceVersion}->${o.metadata?.resourceVersion}`),
    });
    set.add({
      add: () => {
        throw new Error('boom');
      },
      delete: () => Promise.reject(new Error('later')),
    });
    set.emit('update', cm('a', '1'), cm('a', '2'));
    set.emit('add', cm('a', '3'));
    set.emit('delete', cm('a', '3'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ['1->2']);
    assert.deepEqual(
      log.records.filter((r) => r.message === 'Informer handler failed').map((r) => r.fields.handler),
      ['add', 'delete'],
    );
    remove();
    set.emit('update', cm('a', '3'), cm('a', '4'));
    assert.deepEqual(seen, ['1->2']);
  });
});
