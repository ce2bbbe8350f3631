import assert from 'node:assert/strict';
import { BackendError } from '../resilience/errors.ts';
import { labelSelector } from './label-selector.ts';

describe('labelSelector', () => {
  it('joins every pair, in key order', () => {
    assert.equal(labelSelector({}, 'kube'), '');
    assert.equal(
      labelSelector({ tier: 'db', 'example.com/team': 'a', empty: '' }, 'kube'),
      'empty=,example.com/team=a,tier=db',
    );
  });

  it('refuses keys and values that are no labels (they could add selector terms)', () => {
    const bad: Record<string, string>[] = [
      { team: 'a,tier!=db' },
      { team: 'a b' },
      { team: '-a' },
      { team: 'a'.repeat(64) },
      { 'a=b': 'c' },
      { '': 'c' },
      { 'Upper.Case/x': 'c' },
      { 'a/b/c': 'c' },
      { 'x!': 'c' },
    ];
    for (const tags of bad) {
      assert.throws(
        () => labelSelector(tags, 'kube'),
        (e: unknown) => e instanceof BackendError && e.code === 'InvalidRequest' && e.backend === 'kube',
        JSON.stringify(tags),
      );
    }
  });
});
