import assert from 'node:assert/strict';
import { compileRewrites } from './rewrite.ts';

const rule = (source: string, target: string) => ({ regexp: { source, target } });

describe('dataFrom rewrite', () => {
  it('leaves keys alone without rules, and keys no rule matches', () => {
    assert.equal(compileRewrites(undefined)('shop_db'), 'shop_db');
    assert.equal(compileRewrites([rule('^api_', '')])('shop_db'), 'shop_db');
  });

  it('strips a common prefix with a group reference ($1 and ${1})', () => {
    assert.equal(compileRewrites([rule('^shop_(.*)$', '$1')])('shop_db'), 'db');
    assert.equal(compileRewrites([rule('^shop_(.*)$', '${1}_x')])('shop_db'), 'db_x');
  });

  it('follows Go expansion: $1x names a group "1x" (empty), $$ is a dollar, a lone $ stays', () => {
    assert.equal(compileRewrites([rule('^(a)$', '$1x')])('a'), '');
    assert.equal(compileRewrites([rule('^(a)$', '$$1')])('a'), '$1');
    assert.equal(compileRewrites([rule('^(a)$', 'x$-')])('a'), 'x$-');
    assert.equal(compileRewrites([rule('^(a)$', '$9')])('a'), '');
  });

  it('expands named groups, (?P<n>) and (?<n>)', () => {
    assert.equal(compileRewrites([rule('^(?P<env>[a-z]+)_(?<k>.*)$', '${k}.${env}')])('prod_db'), 'db.prod');
  });

  it('replaces every match, and an empty match right after a match is none (as Go)', () => {
    assert.equal(compileRewrites([rule('-', '_')])('a-b-c'), 'a_b_c');
    assert.equal(compileRewrites([rule('a*', 'X')])('baaac'), 'XbXcX');
  });

  it('applies rules in order, each to the output of the one before', () => {
    const rename = compileRewrites([rule('^shop_', ''), rule('^db$', 'database'), rule('database', 'DB_$0')]);
    assert.equal(rename('shop_db'), 'DB_database'); // $0: the whole match
  });

  it('runs nested quantifiers in linear time (RE2), where a backtracking engine would hang', () => {
    const started = performance.now();
    const rename = compileRewrites([rule('^(a+)+$', 'x')]);
    assert.equal(rename(`${'a'.repeat(5000)}!`), `${'a'.repeat(5000)}!`);
    assert.ok(performance.now() - started < 2000, `${performance.now() - started} ms`);
  });

  it('refuses what RE2 does not have: backreferences, lookaround', () => {
    assert.throws(() => compileRewrites([rule('(a)\\1', '')]), /invalid escape/);
    assert.throws(() => compileRewrites([rule('a(?=b)', '')]), /Perl syntax/);
  });
});
