import assert from 'node:assert/strict';
import { gcpListFilter } from './listing.ts';

describe('gcpListFilter', () => {
  it('narrows by the secret ID prefix (a substring filter) and the labels, AND-ed', () => {
    assert.equal(gcpListFilter({ prefix: '' }), '');
    assert.equal(gcpListFilter({ prefix: 'team-a/' }), 'name:"team-a--"');
    assert.equal(
      gcpListFilter({ prefix: 'team-a/d', tags: { team: 'a', env: 'prod' } }),
      'name:"team-a--d" AND labels.env="prod" AND labels.team="a"',
    );
  });

  it('leaves out labels the filter cannot carry safely (checked on the answer instead)', () => {
    assert.equal(
      gcpListFilter({ prefix: '', tags: { 'my-key': 'x', Env: 'prod', ok: 'A', q: 'a"b', e: '' } }),
      '',
    );
  });

  it('answers undefined (nothing can match) for a prefix no secret ID can start with', () => {
    assert.equal(gcpListFilter({ prefix: 'team.a/' }), undefined);
    assert.equal(gcpListFilter({ prefix: 'a" OR name:"b' }), undefined);
  });
});
