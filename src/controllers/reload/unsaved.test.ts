import assert from 'node:assert/strict';
import type { PendingAddition } from './annotations.ts';
import { UnsavedChanges, carries } from './unsaved.ts';

const T0 = Date.parse('2030-01-02T14:00:00Z');
const addition = (token: string, at = T0): PendingAddition => ({
  secrets: { db: token },
  at,
  group: 'VaultSecret/db',
  reason: 'Secret db changed',
});

describe('unsaved changes', () => {
  it('consumes only what a look took: a change arriving meanwhile stays', () => {
    const u = new UnsavedChanges();
    u.add('shop/Deployment/api', addition('a'));
    const taken = u.take('shop/Deployment/api');
    u.add('shop/Deployment/api', addition('b', T0 + 1));
    u.consume('shop/Deployment/api', taken);
    assert.deepEqual(
      u.take('shop/Deployment/api').map((a) => a.secrets.db),
      ['b'],
    );
    u.consume('shop/Deployment/api', u.take('shop/Deployment/api'));
    assert.equal(u.has('shop/Deployment/api'), false);
  });

  it('take returns a copy; drop forgets everything', () => {
    const u = new UnsavedChanges();
    u.add('k', addition('a'));
    u.take('k').length = 0;
    assert.equal(u.take('k').length, 1);
    u.drop('k');
    assert.deepEqual(u.take('k'), []);
  });

  it('tells whether a change to the wanted data waits', () => {
    const u = new UnsavedChanges();
    u.add('k', addition('a'));
    assert.equal(u.waitsFor('k', { db: 'a' }), true);
    assert.equal(u.waitsFor('k', { db: 'b' }), false);
    assert.equal(u.waitsFor('other', { db: 'a' }), false);
    assert.equal(carries({ db: 'a', api: 'x' }, { api: 'x' }), true);
    assert.equal(carries({}, { api: 'x' }), false);
  });
});
