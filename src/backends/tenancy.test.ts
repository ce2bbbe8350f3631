import assert from 'node:assert/strict';
import { compilePrefixTenancy, compileTenancy, fixedStart, listPrefixProblem } from './tenancy.ts';

describe('tenancy', () => {
  describe('compileTenancy', () => {
    const check = compileTenancy('vault', {
      allowedNamespaces: ['shop', 'team-*'],
      allowedPaths: ['{namespace}/*', 'shared/**'],
      allowedWritePaths: ['{namespace}/rotated-*'],
    });

    it('allows a namespace on its own paths and shared paths', () => {
      assert.equal(check('team-a', 'team-a/db', 'read'), undefined);
      assert.equal(check('shop', 'shop/db', 'read'), undefined);
      assert.equal(check('team-a', 'shared/x/y', 'read'), undefined);
    });

    it('refuses a namespace not listed, naming the rule', () => {
      const err = check('other', 'other/db', 'read');
      assert.equal(err?.code, 'TenancyDenied');
      assert.equal(err?.transient, false);
      assert.equal(err?.backend, 'vault');
      assert.equal(
        err?.message,
        'namespace "other" may not use backend "vault" (allowedNamespaces: shop, team-*)',
      );
    });

    it("refuses another namespace's path, naming the rule as it applies", () => {
      const err = check('team-a', 'team-b/db', 'read');
      assert.equal(err?.code, 'TenancyDenied');
      assert.equal(
        err?.message,
        'path "team-b/db" is not allowed for namespace "team-a" on backend "vault" (allowedPaths: {namespace}/*, shared/**; for this namespace: team-a/*, shared/**)',
      );
    });

    it('writes by allowedWritePaths only: a readable path is not writable unless listed', () => {
      assert.equal(check('team-a', 'team-a/rotated-db', 'write'), undefined);
      const shared = check('team-a', 'shared/x/y', 'write');
      assert.equal(shared?.code, 'TenancyDenied');
      assert.equal(
        shared?.message,
        'path "shared/x/y" is not writable for namespace "team-a" on backend "vault" (allowedWritePaths: {namespace}/rotated-*; for this namespace: team-a/rotated-*)',
      );
      assert.equal(check('team-a', 'team-a/db', 'write')?.code, 'TenancyDenied');
      assert.equal(check('team-a', 'team-b/rotated-db', 'write')?.code, 'TenancyDenied');
    });

    it('writes nothing when allowedWritePaths is left out', () => {
      const readOnly = compileTenancy('mem', { allowedNamespaces: ['*'], allowedPaths: ['**'] });
      assert.equal(readOnly('shop', 'shop/db', 'read'), undefined);
      assert.equal(
        readOnly('shop', 'shop/db', 'write')?.message,
        'path "shop/db" is not writable for namespace "shop" on backend "mem" (allowedWritePaths: none)',
      );
    });

    it('checks the namespace before the path, for writes too', () => {
      assert.match(check('other', 'other/rotated-x', 'write')?.message ?? '', /allowedNamespaces/);
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
        const err = check('team-a', path, 'read');
        assert.equal(err?.code, 'InvalidRequest', path);
      }
    });

    it('rejects an invalid glob when compiled', () => {
      assert.throws(
        () => compileTenancy('b', { allowedNamespaces: ['*'], allowedPaths: ['a/../b'] }),
        /invalid path glob/,
      );
      assert.throws(
        () =>
          compileTenancy('b', {
            allowedNamespaces: ['*'],
            allowedPaths: ['**'],
            allowedWritePaths: ['{namespace}-*'],
          }),
        /invalid path glob "\{namespace\}-\*": "\{namespace\}" must be a whole segment/,
      );
    });
  });

  describe('compilePrefixTenancy (where a find may list)', () => {
    const check = compilePrefixTenancy('vault', {
      allowedNamespaces: ['team-*'],
      allowedPaths: ['{namespace}/**', 'apps/*/{namespace}/*', 'shared/config'],
    });

    it('allows a prefix under the fixed start of a glob for the namespace', () => {
      for (const prefix of ['team-a/', 'team-a/db', 'team-a/x/y-', 'apps/', 'apps/web/', 'shared/config']) {
        assert.equal(check('team-a', prefix), undefined, prefix);
      }
    });

    it('refuses "", another team\'s folder and a prefix wider than the rules, naming the rule as it applies', () => {
      for (const prefix of ['', 'team', 'team-a', 'team-b/', 'app', 'shared/']) {
        const err = check('team-a', prefix);
        assert.equal(err?.code, 'TenancyDenied', prefix);
      }
      assert.equal(
        check('team-a', 'team-b/')?.message,
        'prefix "team-b/" is not inside the paths allowed for namespace "team-a" on backend "vault" (allowedPaths: {namespace}/**, apps/*/{namespace}/*, shared/config; for this namespace: team-a/**, apps/*/team-a/*, shared/config)',
      );
    });

    it('refuses a namespace not listed, and a malformed prefix', () => {
      assert.match(check('shop', 'shop/')?.message ?? '', /namespace "shop" may not use backend "vault"/);
      for (const prefix of ['/team-a/', 'team-a//x', 'team-a/../team-b/', 'team-a/\u0000']) {
        assert.equal(check('team-a', prefix)?.code, 'InvalidRequest', prefix);
      }
    });

    it('allows "" only where a glob starts with a wildcard', () => {
      const open = compilePrefixTenancy('kube', { allowedNamespaces: ['*'], allowedPaths: ['**'] });
      assert.equal(open('any', ''), undefined);
    });

    it('fixedStart and listPrefixProblem', () => {
      assert.equal(fixedStart('{namespace}/**', 'team-a'), 'team-a/');
      assert.equal(fixedStart('apps/*/{namespace}/*', 'team-a'), 'apps/');
      assert.equal(fixedStart('shared/config', 'team-a'), 'shared/config');
      assert.equal(listPrefixProblem(''), undefined);
      assert.equal(listPrefixProblem('team-a/'), undefined);
      assert.match(listPrefixProblem('/') ?? '', /empty/);
    });
  });
});
