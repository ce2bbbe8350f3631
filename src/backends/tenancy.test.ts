import assert from 'node:assert/strict';
import { compileTenancy, namespaceGlobRegExp, pathGlobRegExp } from './tenancy.ts';

describe('tenancy', () => {
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
    ];
    for (const [glob, ns, allowed] of table) {
      it(`${allowed ? 'matches' : 'does not match'} "${ns}" with "${glob}"`, () => {
        assert.equal(namespaceGlobRegExp(glob).test(ns), allowed);
      });
    }
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
      ['apps/{namespace}-*', 'apps/team-a-db', true],
      ['apps/{namespace}-*', 'apps/team-b-db', false],
      ['**', 'a', true],
      ['**', 'a/b/c', true],
      ['**/db', 'db', true],
      ['**/db', 'x/y/db', true],
      ['**/db', 'x/y/dbx', false],
      ['a/**/b', 'a/b', true],
      ['a/**/b', 'a/x/y/b', true],
      ['a/**/b', 'a/x/y/c', false],
      ['shared/db', 'shared/db', true],
      ['shared/db', 'shared/dbx', false],
      ['shared.v1/*', 'sharedXv1/a', false],
    ];
    for (const [glob, path, allowed] of table) {
      it(`${allowed ? 'allows' : 'refuses'} "${path}" for team-a with "${glob}"`, () => {
        assert.equal(pathGlobRegExp(glob, 'team-a').test(path), allowed);
      });
    }
  });

  describe('compileTenancy', () => {
    const check = compileTenancy('vault', {
      allowedNamespaces: ['shop', 'team-*'],
      allowedPaths: ['{namespace}/*', 'shared/**'],
    });

    it('allows a namespace on its own paths and shared paths', () => {
      assert.equal(check('team-a', 'team-a/db'), undefined);
      assert.equal(check('shop', 'shop/db'), undefined);
      assert.equal(check('team-a', 'shared/x/y'), undefined);
    });

    it('refuses a namespace not listed, naming the rule', () => {
      const err = check('other', 'other/db');
      assert.equal(err?.code, 'TenancyDenied');
      assert.equal(err?.transient, false);
      assert.equal(err?.backend, 'vault');
      assert.equal(
        err?.message,
        'namespace "other" may not use backend "vault" (allowedNamespaces: shop, team-*)',
      );
    });

    it("refuses another namespace's path, naming the rule as it applies", () => {
      const err = check('team-a', 'team-b/db');
      assert.equal(err?.code, 'TenancyDenied');
      assert.equal(
        err?.message,
        'path "team-b/db" is not allowed for namespace "team-a" on backend "vault" (allowedPaths: {namespace}/*, shared/**; for this namespace: team-a/*, shared/**)',
      );
    });

    it('refuses path traversal and odd paths as invalid requests', () => {
      for (const path of [
        'team-a/../team-b/db',
        '/team-a/db',
        'team-a//db',
        'team-a/db?x=1',
        'team-a/%2e%2e/x',
        '',
      ]) {
        const err = check('team-a', path);
        assert.equal(err?.code, 'InvalidRequest', path);
      }
    });

    it('rejects an invalid glob when compiled', () => {
      assert.throws(
        () => compileTenancy('b', { allowedNamespaces: ['*'], allowedPaths: ['a/../b'] }),
        /invalid path glob/,
      );
    });
  });
});
