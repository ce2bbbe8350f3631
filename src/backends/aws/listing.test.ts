import assert from 'node:assert/strict';
import { awsListFilters } from './listing.ts';

describe('awsListFilters', () => {
  it('sends the prefix as a name filter, and none for ""', () => {
    assert.deepEqual(awsListFilters({ prefix: 'team-a/' }), [{ Key: 'name', Values: ['team-a/'] }]);
    assert.deepEqual(awsListFilters({ prefix: '' }), []);
  });

  it('sends the first tag pair by key as tag-key and tag-value', () => {
    assert.deepEqual(awsListFilters({ prefix: '', tags: { team: 'a', env: 'prod' } }), [
      { Key: 'tag-key', Values: ['env'] },
      { Key: 'tag-value', Values: ['prod'] },
    ]);
  });

  it('skips pairs AWS would not take as filter values (they are checked on the answer)', () => {
    // "!" would negate; "ü" and "," are outside the documented pattern; "" matches everything.
    assert.deepEqual(awsListFilters({ prefix: '', tags: { '!a': 'x', b: 'ü', c: '', d: 'x,y', e: 'ok' } }), [
      { Key: 'tag-key', Values: ['e'] },
      { Key: 'tag-value', Values: ['ok'] },
    ]);
    assert.deepEqual(awsListFilters({ prefix: '', tags: { b: 'ü' } }), []);
  });

  it('answers undefined (nothing can match) for a prefix no secret name can start with', () => {
    assert.equal(awsListFilters({ prefix: '!team' }), undefined);
    assert.equal(awsListFilters({ prefix: 'team a' }), undefined);
    assert.equal(awsListFilters({ prefix: 'x'.repeat(513) }), undefined);
  });
});
