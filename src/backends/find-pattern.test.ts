import assert from 'node:assert/strict';
import { compileFindPattern, findPatternProblem } from './find-pattern.ts';

describe('find pattern (RE2)', () => {
  it('refuses what RE2 has no syntax for, and patterns past 256 characters', () => {
    for (const pattern of [
      '(a)\\1',
      '(?<n>a)\\k<n>',
      '(?=a)',
      '(?!a)',
      '(?<=a)b',
      '(?<!a)b',
      '(',
      'a'.repeat(257),
    ]) {
      assert.notEqual(findPatternProblem(pattern), undefined, pattern);
    }
    assert.equal(findPatternProblem('team-a/db-[0-9]+'), undefined);
    assert.equal(findPatternProblem('a'.repeat(256)), undefined);
  });

  it('matches the whole path', () => {
    const test = compileFindPattern('team-a/db-[0-9]+');
    assert.equal(test('team-a/db-12'), true);
    assert.equal(test('team-a/db-12x'), false);
    assert.equal(test('x/team-a/db-12'), false);
  });

  it('takes nested quantifiers in linear time (RE2 does not backtrack)', () => {
    const test = compileFindPattern('(a+)+b');
    const started = performance.now();
    assert.equal(test(`${'a'.repeat(5000)}c`), false);
    assert.ok(performance.now() - started < 500);
  });
});
