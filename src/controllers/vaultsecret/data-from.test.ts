import assert from 'node:assert/strict';
import type { VaultSecretDataFromItem } from '../../apis/v1alpha1/index.ts';
import { dataFromObject } from '../../backends/property.ts';
import type { RemoteSecret } from '../../backends/types.ts';
import { Failure } from '../failure/index.ts';
import { dataFromValues, foundKey } from './data-from.ts';

const CANARY = 'canary-value-9f3b';
const store: Record<string, Record<string, string>> = {
  'shop/db': { password: CANARY, user: 'app' },
  'shop/api': { token: 't1' },
  shop_api: { token: 't2' },
  'shop/common': { region: 'eu', user: 'shared' },
  'shop/other': { region: 'us' },
};
const read = (path: string): RemoteSecret => ({ data: dataFromObject(store[path]!), version: '1' });
const text = (data: ReadonlyMap<string, Buffer>) =>
  Object.fromEntries([...data].map(([k, v]) => [k, v.toString('utf8')]));
const found = (entries: [number, string[]][]) => new Map(entries);

function conflictOf(fn: () => unknown): Failure {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof Failure, String(err));
    return err;
  }
  assert.fail('expected a KeyConflict');
}

describe('dataFrom values', () => {
  it('names a found secret by its path, "/" as "_", holding the whole secret (as ESO)', () => {
    assert.equal(foundKey('shop/db/main'), 'shop_db_main');
    const items: VaultSecretDataFromItem[] = [{ find: { path: 'shop/' } }];
    const out = text(dataFromValues(items, found([[0, ['shop/api', 'shop/db']]]), read));
    assert.deepEqual(out, { shop_api: 't1', shop_db: JSON.stringify({ password: CANARY, user: 'app' }) });
  });

  it('with merge copies every key of every found secret, as extract does', () => {
    const items: VaultSecretDataFromItem[] = [{ find: { path: 'shop/', merge: true } }];
    const out = text(dataFromValues(items, found([[0, ['shop/api', 'shop/db']]]), read));
    assert.deepEqual(out, { token: 't1', password: CANARY, user: 'app' });
  });

  it('rewrites key names per entry, before merging', () => {
    const items: VaultSecretDataFromItem[] = [
      { find: { path: 'shop/' }, rewrite: [{ regexp: { source: '^shop_', target: '' } }] },
      { extract: { path: 'shop/common' }, rewrite: [{ regexp: { source: '^(.*)$', target: 'common_$1' } }] },
    ];
    const out = text(dataFromValues(items, found([[0, ['shop/api']]]), read));
    assert.deepEqual(out, { api: 't1', common_region: 'eu', common_user: 'shared' });
  });

  it('two found secrets with one key name conflict, naming both paths and never a value', () => {
    const items: VaultSecretDataFromItem[] = [{ find: { name: { regexp: 'api' } } }];
    const err = conflictOf(() => dataFromValues(items, found([[0, ['shop/api', 'shop_api']]]), read));
    assert.equal(err.reason, 'KeyConflict');
    assert.match(err.message, /"shop_api" would come from both shop\/api and shop_api/);
    assert.ok(!err.message.includes('t1') && !err.message.includes('t2'));
  });

  it('merged keys of two found secrets conflict, naming both paths and the key', () => {
    const items: VaultSecretDataFromItem[] = [{ find: { path: 'shop/', merge: true } }];
    const err = conflictOf(() => dataFromValues(items, found([[0, ['shop/common', 'shop/other']]]), read));
    assert.match(err.message, /"region" would come from both shop\/common \(key "region"\) and shop\/other/);
  });

  it('a rewrite that makes two keys one conflicts', () => {
    const items: VaultSecretDataFromItem[] = [
      { extract: { path: 'shop/db' }, rewrite: [{ regexp: { source: '.*', target: 'k' } }] },
    ];
    const err = conflictOf(() => dataFromValues(items, new Map(), read));
    assert.match(
      err.message,
      /dataFrom\[0\]: the key "k" would come from both shop\/db \(key "password"\) and shop\/db \(key "user"\)/,
    );
    assert.ok(!err.message.includes(CANARY));
  });

  it('a find key another entry already wrote conflicts, across entries, in either order', () => {
    const findFirst: VaultSecretDataFromItem[] = [
      { find: { path: 'shop/', merge: true } },
      { extract: { path: 'shop/common' } },
    ];
    assert.match(
      conflictOf(() => dataFromValues(findFirst, found([[0, ['shop/db']]]), read)).message,
      /dataFrom\[1\]: the key "user" would come from both shop\/db \(key "user"\) and shop\/common/,
    );
    const extractFirst: VaultSecretDataFromItem[] = [
      { extract: { path: 'shop/common' } },
      { find: { path: 'shop/', merge: true } },
    ];
    assert.match(
      conflictOf(() => dataFromValues(extractFirst, found([[1, ['shop/db']]]), read)).message,
      /dataFrom\[1\]: the key "user"/,
    );
  });

  it('two extract entries keep the older rule: the later wins', () => {
    const items: VaultSecretDataFromItem[] = [
      { extract: { path: 'shop/db' } },
      { extract: { path: 'shop/common' } },
    ];
    assert.equal(text(dataFromValues(items, new Map(), read)).user, 'shared');
  });

  it('a find that found nothing gives no keys (the wipe guard decides about an empty Secret)', () => {
    const items: VaultSecretDataFromItem[] = [{ find: { path: 'shop/none/' } }];
    assert.deepEqual(text(dataFromValues(items, found([[0, []]]), read)), {});
  });
});
