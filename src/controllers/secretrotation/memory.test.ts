import assert from 'node:assert/strict';
import { RotationMemory } from './memory.ts';

describe('RotationMemory', () => {
  it('remembers the workloads asked to restart per version; a new version starts empty', () => {
    const m = new RotationMemory();
    m.requestedFor('shop/db', '2').add('Deployment/shop/api');
    assert.deepEqual([...m.requestedFor('shop/db', '2')], ['Deployment/shop/api']);
    assert.deepEqual([...m.requestedFor('shop/db', '3')], []);
    assert.deepEqual([...m.requestedFor('shop/db', '2')], [], 'the older version is forgotten');
  });

  it('asks readers to refresh at most once per interval', () => {
    const m = new RotationMemory();
    assert.equal(m.refreshDue('shop/db', 100_000, 10_000), true);
    assert.equal(m.refreshDue('shop/db', 105_000, 10_000), false);
    assert.equal(m.refreshDue('shop/db', 110_000, 10_000), true);
  });

  it('a hold lasts the delay, unless the spec or the rotate-now token changed', () => {
    const m = new RotationMemory();
    m.held.set('shop/db', { at: 0, generation: 1, token: undefined });
    assert.equal(m.holdLeft('shop/db', { generation: 1, token: undefined }, 1000, 5000), 4000);
    assert.equal(m.holdLeft('shop/db', { generation: 2, token: undefined }, 1000, 5000), 0);
    assert.equal(m.holdLeft('shop/db', { generation: 1, token: 'now' }, 1000, 5000), 0);
    m.forget('shop/db');
    assert.equal(m.holdLeft('shop/db', { generation: 1, token: undefined }, 1000, 5000), 0);
  });
});
