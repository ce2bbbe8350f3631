import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ObjectCache, diffSnapshot, matchesLabels } from './object-cache.ts';

const obj = (ns: string, name: string, rv: string, labels?: Record<string, string>): KubernetesObject => ({
  metadata: { namespace: ns, name, resourceVersion: rv, labels },
});

describe('ObjectCache', () => {
  it('diffs a fresh snapshot by resourceVersion: added, updated, deleted, unchanged left out', () => {
    const current = new Map([
      ['a/same', obj('a', 'same', '1')],
      ['a/changed', obj('a', 'changed', '2')],
      ['a/gone', obj('a', 'gone', '3')],
    ]);
    const fresh = new Map([
      ['a/same', obj('a', 'same', '1')],
      ['a/changed', obj('a', 'changed', '5')],
      ['a/new', obj('a', 'new', '6')],
    ]);
    const d = diffSnapshot(current, fresh);
    assert.deepEqual(
      d.added.map((o) => o.metadata?.name),
      ['new'],
    );
    assert.deepEqual(
      d.updated.map(([o, n]) => `${o.metadata?.resourceVersion}->${n.metadata?.resourceVersion}`),
      ['2->5'],
    );
    assert.deepEqual(
      d.deleted.map((o) => o.metadata?.name),
      ['gone'],
    );
  });

  it('reads by key, name, namespace and labels', () => {
    const c = new ObjectCache<KubernetesObject>();
    c.replace([obj('a', 'x', '1', { app: 'web' }), obj('b', 'y', '1', { app: 'web' }), obj('a', 'z', '1')]);
    assert.equal(c.get('a/x')?.metadata?.name, 'x');
    assert.equal(c.getByName('b', 'y')?.metadata?.name, 'y');
    assert.equal(c.list('a').length, 2);
    assert.deepEqual(
      c.listByLabels({ app: 'web' }, 'a').map((o) => o.metadata?.name),
      ['x'],
    );
    assert.equal(matchesLabels(obj('a', 'q', '1', { app: 'web', tier: 'x' }), { app: 'web' }), true);
    assert.equal(matchesLabels(obj('a', 'q', '1'), { app: 'web' }), false);
  });
});
