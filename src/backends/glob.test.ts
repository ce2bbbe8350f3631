import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { MAX_GLOB_SEGMENTS, pathGlobProblem, roleGlobProblem } from '../config/paths.ts';
import { compileNamespaceGlob, compilePathGlob, compileRoleGlob } from './glob.ts';

// --- Reference matchers: the documented semantics, written as plainly (and slowly) as possible.

/** `*` matches any run of characters, including none. */
function refStar(glob: string, s: string): boolean {
  if (glob === '') return s === '';
  if (glob[0] === '*') return refStar(glob.slice(1), s) || (s !== '' && refStar(glob, s.slice(1)));
  return s !== '' && glob[0] === s[0] && refStar(glob.slice(1), s.slice(1));
}

/** `**` matches one or more segments at the end of the glob, zero or more elsewhere. */
function refPath(glob: readonly string[], path: readonly string[], namespace: string): boolean {
  const [g, ...rest] = glob;
  if (g === undefined) return path.length === 0;
  if (g === '**') {
    if (rest.length === 0) return path.length >= 1;
    for (let k = 0; k <= path.length; k++) if (refPath(rest, path.slice(k), namespace)) return true;
    return false;
  }
  const [s, ...more] = path;
  if (s === undefined) return false;
  const ok = g === '{namespace}' ? s === namespace : refStar(g, s);
  return ok && refPath(rest, more, namespace);
}

function refRole(glob: string, role: string, namespace: string): boolean {
  return !role.includes('/') && refStar(glob.replaceAll('{namespace}', namespace), role);
}

/** The fastest of three runs of `fn`, in ms: one slow run is the machine, not the matcher. */
function bestOfThree(fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    fn();
    best = Math.min(best, performance.now() - started);
    if (best < 1) break;
  }
  return best;
}

describe('glob', () => {
  describe('namespace globs', () => {
    const table: [string, string, boolean][] = [
      ['shop', 'shop', true],
      ['shop', 'shop-2', false],
      ['team-*', 'team-a', true],
      ['team-*', 'team-', true],
      ['team-*', 'teams', false],
      ['*', 'anything', true],
      ['*-prod', 'shop-prod', true],
      ['*-prod', 'shop-prod-2', false],
      ['a*b*c', 'abc', true],
      ['a*b*c', 'axbxcxc', true],
      ['a*b*c', 'acb', false],
      ['ab*ba', 'aba', false],
      ['**', 'x', true],
    ];
    for (const [glob, ns, allowed] of table) {
      it(`${allowed ? 'matches' : 'does not match'} "${ns}" with "${glob}"`, () => {
        assert.equal(compileNamespaceGlob(glob).test(ns), allowed);
      });
    }

    it('agrees with the reference matcher', () => {
      const word = fc.stringMatching(/^[ab*-]{0,8}$/);
      fc.assert(
        fc.property(word, fc.stringMatching(/^[ab-]{0,10}$/), (glob, ns) => {
          assert.equal(compileNamespaceGlob(glob).test(ns), refStar(glob, ns));
        }),
        { numRuns: 3000 },
      );
    });
  });

  describe('path globs', () => {
    const table: [string, string, boolean][] = [
      ['{namespace}/*', 'team-a/db', true],
      ['{namespace}/*', 'team-a/db/x', false],
      ['{namespace}/*', 'team-a', false],
      ['{namespace}/*', 'team-b/db', false],
      ['{namespace}/**', 'team-a/db/x', true],
      ['{namespace}/**', 'team-a/db', true],
      ['{namespace}/**', 'team-a', false],
      ['apps/{namespace}/*', 'apps/team-a/db', true],
      ['apps/{namespace}/*', 'apps/team-ab/db', false],
      ['apps/{namespace}/*', 'apps/team/db', false],
      ['**', 'a', true],
      ['**', 'a/b/c', true],
      ['**/db', 'db', true],
      ['**/db', 'x/y/db', true],
      ['**/db', 'x/y/dbx', false],
      ['a/**/b', 'a/b', true],
      ['a/**/b', 'a/x/y/b', true],
      ['a/**/b', 'a/x/y/c', false],
      ['a/**/b/**/c', 'a/b/c', true],
      ['a/**/b/**/c', 'a/x/b/y/b/c', true],
      ['a/**/b/**/c', 'a/c/b', false],
      ['shared/db', 'shared/db', true],
      ['shared/db', 'shared/dbx', false],
      ['shared.v1/*', 'sharedXv1/a', false],
      ['db-*', 'db-1', true],
      ['*-*-*', 'a-b', false],
      // Runs of `**` count as one.
      ['**/**/x', 'y/z/x', true],
      ['**/**/x', 'x', true],
      ['a/**/**', 'a', false],
      ['a/**/**', 'a/b/c', true],
      ['a/**/**/b', 'a/b', true],
    ];
    for (const [glob, path, allowed] of table) {
      it(`${allowed ? 'allows' : 'refuses'} "${path}" for team-a with "${glob}"`, () => {
        assert.equal(compilePathGlob(glob).test(path, 'team-a'), allowed);
        assert.equal(refPath(glob.split('/'), path.split('/'), 'team-a'), allowed, 'reference');
      });
    }

    it('substitutes the namespace at match time: one compiled glob serves every namespace', () => {
      const glob = compilePathGlob('{namespace}/**');
      assert.equal(glob.test('team-a/db', 'team-a'), true);
      assert.equal(glob.test('team-a/db', 'team-b'), false);
      assert.equal(glob.test('team-b/db', 'team-b'), true);
    });

    it('refuses a glob that pathGlobProblem refuses', () => {
      assert.throws(() => compilePathGlob('apps/{namespace}-*'), /invalid path glob .*whole segment/);
      assert.throws(() => compilePathGlob('a/../b'), /invalid path glob/);
    });

    it('agrees with the reference matcher on small globs and paths', () => {
      const globSegment = fc.constantFrom('a', 'b', 'ab', '*', 'a*', '*b', 'a*b', '**', '{namespace}');
      const pathSegment = fc.constantFrom('a', 'b', 'ab', 'ba', 'aab', 'n', 'n-x');
      fc.assert(
        fc.property(
          fc.array(globSegment, { minLength: 1, maxLength: 6 }).map((s) => s.join('/')),
          fc.array(pathSegment, { minLength: 1, maxLength: 7 }),
          (glob, path) => {
            fc.pre(pathGlobProblem(glob) === undefined);
            assert.equal(
              compilePathGlob(glob).test(path.join('/'), 'n'),
              refPath(glob.split('/'), path, 'n'),
            );
          },
        ),
        { numRuns: 5000 },
      );
    });

    it('gives a path to at most one namespace (so "team" cannot act as "team-a")', () => {
      const globSegment = fc.constantFrom('a', '*', '**', '{namespace}', 'n*');
      const pathSegment = fc.constantFrom('a', 'n', 'n-a', 'a-n');
      fc.assert(
        fc.property(
          fc.array(globSegment, { minLength: 1, maxLength: 5 }).map((s) => s.join('/')),
          fc.array(pathSegment, { minLength: 1, maxLength: 6 }).map((s) => s.join('/')),
          (source, path) => {
            fc.pre(pathGlobProblem(source) === undefined);
            const glob = compilePathGlob(source);
            const owners = ['n', 'n-a', 'a', 'a-n'].filter((ns) => glob.test(path, ns));
            // Globs without {namespace} match every namespace alike: nothing to steal there.
            if (source.includes('{namespace}'))
              assert.ok(owners.length <= 1, `${path}: ${owners.join(', ')}`);
          },
        ),
        { numRuns: 3000 },
      );
    });

    it('matches 1 KB paths against random globs full of * and ** in under 1 ms each', () => {
      const globSegment = fc.oneof(
        { weight: 3, arbitrary: fc.constant('**') },
        { weight: 3, arbitrary: fc.stringMatching(/^[ab*]{1,12}$/).filter((s) => !s.includes('**')) },
        { weight: 1, arbitrary: fc.constantFrom('a', 'b', '*') },
      );
      const path = fc
        .array(fc.stringMatching(/^[ab]{1,6}$/), { minLength: 180, maxLength: 400 })
        .map((segments) => segments.join('/').slice(0, 1024).replace(/\/+$/, ''));
      let slowest = 0;
      fc.assert(
        fc.property(
          fc.array(globSegment, { minLength: 1, maxLength: MAX_GLOB_SEGMENTS }),
          path,
          (segments, p) => {
            const glob = compilePathGlob(segments.join('/'));
            slowest = Math.max(
              slowest,
              bestOfThree(() => glob.test(p, 'n')),
            );
          },
        ),
        { numRuns: 500 },
      );
      assert.ok(slowest < 1, `slowest match took ${slowest.toFixed(3)} ms`);
    });

    it('stays linear on globs built to make a backtracking matcher blow up', () => {
      const oneKb = Array.from({ length: 512 }, () => 'a').join('/'); // 1,023 characters
      const longSegment = 'a'.repeat(1024);
      const cases: [string, string][] = [
        [`${Array.from({ length: 15 }, () => '**').join('/a/')}/b`, oneKb],
        [`**/${Array.from({ length: 29 }, () => 'a').join('/')}/b/**`, oneKb],
        [`**/${Array.from({ length: 29 }, () => '*').join('/')}/b/**`, oneKb],
        [Array.from({ length: 15 }, () => '**/*a*').join('/') + '/b', oneKb],
        [`${'*a'.repeat(200)}*b`, longSegment],
        [`**/${'*a'.repeat(200)}*b/**`, `${longSegment}/${longSegment}/x`],
      ];
      for (const [source, path] of cases) {
        const glob = compilePathGlob(source);
        const ms = bestOfThree(() => assert.equal(glob.test(path, 'n'), false));
        assert.ok(ms < 1, `"${source.slice(0, 40)}…" took ${ms.toFixed(3)} ms`);
      }
    });
  });

  describe('role globs', () => {
    const table: [string, string, boolean][] = [
      ['*', 'web', true],
      ['*', 'a/b', false],
      ['web', 'web', true],
      ['web', 'web2', false],
      ['{namespace}', 'team-a', true],
      ['{namespace}', 'team', false],
      ['{namespace}.*', 'team-a.web', true],
      ['{namespace}.*', 'team-a-web', false],
      ['{namespace}.*', 'team-ab.web', false],
      ['web_{namespace}', 'web_team-a', true],
      ['web.{namespace}.*', 'web.team-a.x.y', true],
      ['web.{namespace}.*', 'web.team-a-b.x', false],
    ];
    for (const [glob, role, allowed] of table) {
      it(`${allowed ? 'allows' : 'refuses'} role "${role}" for team-a with "${glob}"`, () => {
        assert.equal(compileRoleGlob(glob).test(role, 'team-a'), allowed);
      });
    }

    it('refuses a glob that roleGlobProblem refuses', () => {
      assert.throws(() => compileRoleGlob('{namespace}-*'), /invalid role glob/);
    });

    it('gives a role to at most one namespace', () => {
      const glob = fc
        .array(fc.constantFrom('a', '.', '_', '*', '-', '{namespace}'), { minLength: 1, maxLength: 6 })
        .map((p) => p.join(''));
      const role = fc
        .array(fc.constantFrom('a', 'n', 'n-a', '.', '_', '-'), { maxLength: 8 })
        .map((p) => p.join(''));
      fc.assert(
        fc.property(glob, role, (g, r) => {
          fc.pre(roleGlobProblem(g) === undefined && g.includes('{namespace}'));
          const matcher = compileRoleGlob(g);
          const owners = ['n', 'n-a', 'a', 'a-n'].filter((ns) => matcher.test(r, ns));
          assert.ok(owners.length <= 1, `${g} ${r}: ${owners.join(', ')}`);
        }),
        { numRuns: 3000 },
      );
    });

    it('agrees with the reference matcher', () => {
      const glob = fc
        .array(fc.constantFrom('a', 'b', '.', '*', '{namespace}'), { minLength: 1, maxLength: 6 })
        .map((p) => p.join(''));
      fc.assert(
        fc.property(glob, fc.stringMatching(/^[abn./-]{0,10}$/), (g, role) => {
          fc.pre(roleGlobProblem(g) === undefined);
          assert.equal(compileRoleGlob(g).test(role, 'n'), refRole(g, role, 'n'));
        }),
        { numRuns: 3000 },
      );
    });
  });
});
