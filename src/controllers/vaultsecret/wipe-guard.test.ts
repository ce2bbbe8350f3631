import assert from 'node:assert/strict';
import { unsafeShrink } from './wipe-guard.ts';

const check = (
  previous: string[],
  next: string[],
  over: { allowEmpty?: boolean; acknowledged?: boolean } = {},
) => unsafeShrink({ previous, next, allowEmpty: false, acknowledged: false, ...over });

describe('VaultSecret: wipe guard', () => {
  it('lets the first write through, whatever it holds', () => {
    assert.equal(check([], []), undefined);
    assert.equal(check([], ['a']), undefined);
  });

  it('refuses a read that leaves no keys, unless allowEmpty or acknowledged', () => {
    assert.match(check(['a'], []) ?? '', /none of its 1 keys.*allowEmpty.*allow-shrink/);
    assert.equal(check(['a', 'b'], [], { allowEmpty: true }), undefined);
    assert.equal(check(['a', 'b'], [], { acknowledged: true }), undefined);
  });

  it('refuses removing more than half of the keys, allows up to half', () => {
    assert.match(check(['a', 'b', 'c'], ['a']) ?? '', /remove 2 of the Secret's 3 keys/);
    assert.equal(check(['a', 'b', 'c', 'd'], ['a', 'b']), undefined, 'exactly half');
    assert.equal(check(['a', 'b'], ['a']), undefined, 'one of two is half');
    assert.ok(check(['a', 'b', 'c', 'd'], ['a']));
    assert.equal(check(['a', 'b', 'c'], ['a'], { acknowledged: true }), undefined);
  });

  it('counts renamed keys as removed, added keys as nothing', () => {
    assert.ok(check(['a', 'b', 'c'], ['x', 'y', 'z']));
    assert.equal(check(['a'], ['a', 'b', 'c']), undefined);
  });

  it('allowEmpty does not cover a partial shrink', () => {
    assert.ok(check(['a', 'b', 'c'], ['a'], { allowEmpty: true }));
  });
});
