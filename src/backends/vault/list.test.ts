import assert from 'node:assert/strict';
import { BackendError } from '../../resilience/errors.ts';
import { decodeWalk, encodeWalk, nextPending, startFolder, visitFolder } from './list.ts';

describe('KV v2 listing walk', () => {
  it('starts at the prefix folder, or the parent of a partial name', () => {
    assert.equal(startFolder(''), '');
    assert.equal(startFolder('team-a/'), 'team-a/');
    assert.equal(startFolder('team-a/db'), 'team-a/');
    assert.equal(startFolder('team-a/x/db'), 'team-a/x/');
    assert.equal(startFolder('db'), '');
  });

  it('keeps names under the prefix and folders within the depth bound', () => {
    const keys = ['web', 'db', 'dbs/', 'x/', 'db/'];
    assert.deepEqual(visitFolder({ path: 't/', depth: 0 }, keys, 't/db', 2), {
      paths: ['t/db'],
      folders: [
        { path: 't/db/', depth: 1 },
        { path: 't/dbs/', depth: 1 },
      ],
    });
    assert.deepEqual(visitFolder({ path: 't/a/', depth: 2 }, ['s', 'f/'], 't/', 2), {
      paths: ['t/a/s'],
      folders: [],
    });
  });

  it('round-trips the folders still to visit, and visits them depth first in name order', () => {
    const pending = nextPending(
      [{ path: 't/', depth: 0 }],
      [
        { path: 't/a/', depth: 1 },
        { path: 't/b/', depth: 1 },
      ],
    );
    assert.deepEqual(pending.at(-1), { path: 't/a/', depth: 1 });
    const token = encodeWalk(pending.slice(1));
    assert.deepEqual(decodeWalk(token, 't/', 4, 'vault'), pending.slice(1));
    assert.equal(encodeWalk([]), undefined);
    assert.deepEqual(decodeWalk(undefined, 't/d', 4, 'vault'), [{ path: 't/', depth: 0 }]);
  });

  it('refuses a token that is not one the walk gave (another folder, past the depth, garbage)', () => {
    for (const token of [
      '[["u/",1]]',
      '[["t/a/",5]]',
      '[["t/a",1]]',
      '[["t/a/",0]]',
      '{}',
      '[]',
      'x',
      '[[1,1]]',
    ]) {
      assert.throws(
        () => decodeWalk(token, 't/', 4, 'vault'),
        (e: unknown) => e instanceof BackendError && e.code === 'InvalidRequest',
        token,
      );
    }
  });
});
