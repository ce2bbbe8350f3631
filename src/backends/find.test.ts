import assert from 'node:assert/strict';
import { BackendError } from '../resilience/errors.ts';
import { findRequestProblem, foundFor, walkCovers, walkKey, walkListing } from './find.ts';
import type { ListPage } from './types.ts';

/** Pages of `size` over `paths`, counting the calls. */
function pages(paths: readonly string[], size: number) {
  let calls = 0;
  const list = async (page: string | undefined): Promise<ListPage> => {
    calls++;
    const from = Number(page ?? 0);
    const next = from + size < paths.length ? String(from + size) : undefined;
    return { paths: paths.slice(from, from + size), ...(next !== undefined && { next }) };
  };
  return { list, calls: () => calls };
}

const all = () => true;

describe('find: the walk', () => {
  it('walks every page, keeps the name matches under the prefix, sorted', async () => {
    const { list, calls } = pages(['p/c', 'p/a', 'x/evil', 'p/b', 'p/skip'], 2);
    const walk = await walkListing({ prefix: 'p/', maxItems: 10 }, list, (p) => p !== 'p/skip', 'b');
    assert.deepEqual(walk, { matches: ['p/a', 'p/b', 'p/c'], more: false });
    assert.equal(calls(), 3);
  });

  it('stops at the first match past maxItems', async () => {
    const { list, calls } = pages(['p/a', 'p/b', 'p/c', 'p/d', 'p/e'], 1);
    const walk = await walkListing({ prefix: 'p/', maxItems: 2 }, list, all, 'b');
    assert.deepEqual(walk, { matches: ['p/a', 'p/b', 'p/c'], more: true });
    assert.equal(calls(), 3);
  });

  it('refuses a listing past its bounds: paths listed, then pages', async () => {
    const many = pages(
      Array.from({ length: 6 }, (_, i) => `p/${i}`),
      2,
    );
    await assert.rejects(
      walkListing({ prefix: 'p/', maxItems: 9 }, many.list, () => false, 'b', { maxListed: 5, maxPages: 99 }),
      (err: unknown) =>
        err instanceof BackendError &&
        err.code === 'InvalidRequest' &&
        err.backend === 'b' &&
        /went past 5 paths/.test(err.message),
    );
    const endless = async (): Promise<ListPage> => ({ paths: [], next: 'again' });
    await assert.rejects(
      walkListing({ prefix: 'p/', maxItems: 9 }, endless, all, 'b', { maxListed: 5, maxPages: 3 }),
      /went past 3 pages/,
    );
  });

  it('foundFor keeps what the caller may read, counts the rest, and says more for everyone', () => {
    const walk = { matches: ['a/1', 'b/1', 'a/2', 'a/3'], more: true };
    const mine = (p: string) => p.startsWith('a/');
    assert.deepEqual(foundFor(walk, mine, 2), { paths: ['a/1', 'a/2'], truncated: true, refused: 1 });
    assert.deepEqual(foundFor({ matches: ['b/1'], more: false }, mine, 2), {
      paths: [],
      truncated: false,
      refused: 1,
    });
  });

  it('walkKey tells requests apart, whatever the order of tags; walkCovers by prefix', () => {
    const key = walkKey({ prefix: 'team-a/', maxItems: 5, tags: { a: '1', b: '2' } }, 'id');
    assert.equal(key, walkKey({ prefix: 'team-a/', maxItems: 5, tags: { b: '2', a: '1' } }, 'id'));
    for (const other of [
      walkKey({ prefix: 'team-a/', maxItems: 5, tags: { a: '1' } }, 'id'),
      walkKey({ prefix: 'team-a/', maxItems: 5, tags: { a: '1', b: '2' } }, 'id2'),
      walkKey({ prefix: 'team-a/', maxItems: 6, tags: { a: '1', b: '2' } }, 'id'),
      walkKey({ prefix: 'team-a/', maxItems: 5, tags: { a: '1', b: '2' }, name: 'x' }, 'id'),
      walkKey({ prefix: 'team-a/', maxItems: 5, tags: { a: '1', b: '2' }, maxDepth: 1 }, 'id'),
    ]) {
      assert.notEqual(other, key);
    }
    assert.equal(walkCovers(key, 'team-a/db'), true);
    assert.equal(walkCovers(key, 'team-b/db'), false);
    assert.equal(walkCovers(walkKey({ prefix: '', maxItems: 1 }, 'id'), 'any'), true);
  });

  it('findRequestProblem bounds maxItems and maxDepth', () => {
    assert.equal(findRequestProblem({ prefix: '', maxItems: 1000 }), undefined);
    for (const maxItems of [0, 1001, 1.5, NaN]) {
      assert.match(findRequestProblem({ prefix: '', maxItems }) ?? '', /maxItems/);
    }
    for (const maxDepth of [-1, 17, 0.5]) {
      assert.match(findRequestProblem({ prefix: '', maxItems: 1, maxDepth }) ?? '', /maxDepth/);
    }
    assert.equal(findRequestProblem({ prefix: '', maxItems: 1, maxDepth: 16 }), undefined);
  });

  it('findRequestProblem bounds the tags and keeps control characters out', () => {
    assert.equal(
      findRequestProblem({ prefix: '', maxItems: 1, tags: { team: 'pay', 'a.b/c': '' } }),
      undefined,
    );
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`t${i}`, 'x']));
    for (const tags of [
      many,
      { '': 'x' },
      { ['k'.repeat(129)]: 'x' },
      { t: 'v'.repeat(257) },
      { t: 'a\nb' },
      { 'a\u0000': 'x' },
    ]) {
      assert.match(findRequestProblem({ prefix: '', maxItems: 1, tags }) ?? '', /tag/, JSON.stringify(tags));
    }
  });
});
