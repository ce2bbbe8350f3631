import assert from 'node:assert/strict';
import fc from 'fast-check';
import { flatPrefix, hasEveryTag, listedPaths, pathOfFlatName, tagRecord } from './listing.ts';
import { flatName, type NameRules } from './value.ts';

const AZURE: NameRules = { segmentChars: 'a-z0-9-', maxLength: 127, what: 'Key Vault secret name' };
const GOOGLE: NameRules = { segmentChars: 'A-Za-z0-9_-', maxLength: 255, what: 'secret ID' };

describe('cloud listing', () => {
  it('hasEveryTag: every wanted pair, exactly; none wanted matches anything', () => {
    assert.equal(hasEveryTag({ env: 'prod', team: 'a' }, { env: 'prod' }), true);
    assert.equal(hasEveryTag({ env: 'prod', team: 'a' }, { env: 'prod', team: 'a' }), true);
    assert.equal(hasEveryTag({ env: 'prod' }, { env: 'prod', team: 'a' }), false);
    assert.equal(hasEveryTag({ env: 'production' }, { env: 'prod' }), false); // AWS filters by prefix
    assert.equal(hasEveryTag({ env: 'Prod' }, { env: 'prod' }), false);
    assert.equal(hasEveryTag({}, { constructor: '' }), false); // no prototype lookups
    assert.equal(hasEveryTag(undefined, { env: 'prod' }), false);
    assert.equal(hasEveryTag(undefined, undefined), true);
    assert.equal(hasEveryTag({ env: '' }, { env: '' }), true);
  });

  it('tagRecord: AWS [{Key, Value}] as a record', () => {
    assert.deepEqual(tagRecord([{ Key: 'a', Value: '1' }, { Key: 'b' }, { Value: 'x' }]), { a: '1', b: '' });
    assert.deepEqual(tagRecord(undefined), {});
  });

  it('pathOfFlatName: only names flatName makes map back to a path', () => {
    assert.equal(pathOfFlatName('team-a--db', AZURE), 'team-a/db');
    assert.equal(pathOfFlatName('db', AZURE), 'db');
    assert.equal(pathOfFlatName('team-a---db', AZURE), undefined);
    assert.equal(pathOfFlatName('team-a----db', AZURE), undefined);
    assert.equal(pathOfFlatName('Team-a--db', AZURE), undefined); // Azure paths are lower case
    assert.equal(pathOfFlatName('Team_a--db', GOOGLE), 'Team_a/db');
    assert.equal(pathOfFlatName('-db', GOOGLE), undefined);
  });

  it('pathOfFlatName inverts flatName for every valid path', () => {
    const segment = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,8}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (segments) => {
        const path = segments.join('/');
        if (segments.some((s) => s.endsWith('-') || s.includes('--'))) return;
        assert.equal(pathOfFlatName(flatName(path, AZURE, 'b'), AZURE), path);
      }),
    );
  });

  it('flatPrefix: folders and partial names', () => {
    assert.equal(flatPrefix(''), '');
    assert.equal(flatPrefix('team-a/'), 'team-a--');
    assert.equal(flatPrefix('team-a/d'), 'team-a--d');
  });

  it('listedPaths: mapped, under the prefix, every tag, sorted', () => {
    const items: { n: string | undefined; t: Record<string, string> }[] = [
      { n: 'team-a/z', t: { env: 'prod' } },
      { n: 'team-a/b', t: { env: 'prod', x: '1' } },
      { n: 'team-ab/c', t: { env: 'prod' } },
      { n: 'team-a/c', t: { env: 'dev' } },
      { n: undefined, t: { env: 'prod' } },
    ];
    const paths = listedPaths(
      items,
      (i) => i.n,
      (i) => i.t,
      { prefix: 'team-a/', tags: { env: 'prod' } },
    );
    assert.deepEqual(paths, ['team-a/b', 'team-a/z']);
    const all = listedPaths(
      items,
      (i) => i.n,
      (i) => i.t,
      { prefix: '' },
    );
    assert.deepEqual(all, ['team-a/b', 'team-a/c', 'team-a/z', 'team-ab/c']);
  });
});
