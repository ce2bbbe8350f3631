import assert from 'node:assert/strict';
import { BackendError } from '../../resilience/errors.ts';
import { requireCurrent } from './check-and-set.ts';

describe('requireCurrent', () => {
  it('passes without cas or when cas is the current version', () => {
    requireCurrent('a/b', undefined, '3', 'none', 'b');
    requireCurrent('a/b', '3', '3', 'none', 'b');
  });

  it('throws Conflict naming what it found, or that there is none', () => {
    const conflict = (found: RegExp) => (err: unknown) =>
      err instanceof BackendError &&
      err.code === 'Conflict' &&
      found.test(err.message) &&
      err.backend === 'b';
    assert.throws(
      () => requireCurrent('a/b', '2', '3', 'none', 'b'),
      conflict(/expected version 2, found 3/),
    );
    assert.throws(
      () => requireCurrent('a/b', '2', undefined, 'no version exists', 'b'),
      conflict(/no version exists/),
    );
  });
});
