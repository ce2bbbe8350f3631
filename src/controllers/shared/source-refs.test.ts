import assert from 'node:assert/strict';
import type { SecretRotation, VaultSecret, VaultSecretSpec } from '../../apis/v1alpha1/index.ts';
import { readersOf, readsLatest, rotationFor, sourceKey, sourceRefs } from './source-refs.ts';

const vs = (name: string, spec: Partial<VaultSecretSpec>): VaultSecret =>
  ({ metadata: { name, namespace: 'shop' }, spec: { backend: 'vault', ...spec } }) as VaultSecret;
const sr = (name: string, backend: string, path: string): SecretRotation =>
  ({ metadata: { name, namespace: 'shop' }, spec: { backend, path } }) as SecretRotation;

const latest = vs('db', { data: [{ secretKey: 'p', remoteRef: { path: 'shop/db' } }] });
const pinned = vs('old', { dataFrom: [{ extract: { path: 'shop/db', version: '3' } }] });
const other = vs('api', { dataFrom: [{ extract: { path: 'shop/api' } }] });

describe('source refs', () => {
  it('lists each remote secret once, dataFrom first, a version apart from the latest', () => {
    const spec = {
      backend: 'vault',
      dataFrom: [{ extract: { path: 'shop/db' } }],
      data: [
        { secretKey: 'a', remoteRef: { path: 'shop/db' } },
        { secretKey: 'b', remoteRef: { path: 'shop/db', version: '2' } },
      ],
    } as VaultSecretSpec;
    assert.deepEqual(sourceRefs(spec).map(sourceKey), ['shop/db', 'shop/db@2']);
  });

  it('a VaultSecret follows a path only when it reads it at its latest version, on the same backend', () => {
    assert.equal(readsLatest(latest, 'vault', 'shop/db'), true);
    assert.equal(readsLatest(latest, 'aws', 'shop/db'), false);
    assert.equal(readsLatest(pinned, 'vault', 'shop/db'), false);
    assert.equal(readsLatest(other, 'vault', 'shop/db'), false);
  });

  it('a VaultSecret with a find follows the paths it found (status.sourceVersions), not others', () => {
    const finder = vs('all', { dataFrom: [{ find: { path: 'shop/' } }] });
    finder.status = { sourceVersions: { 'shop/db': '4' } };
    assert.equal(readsLatest(finder, 'vault', 'shop/db'), true);
    assert.equal(readsLatest(finder, 'vault', 'shop/api'), false);
    assert.equal(readsLatest(finder, 'aws', 'shop/db'), false);
    const noFind = vs('x', { data: [{ secretKey: 'p', remoteRef: { path: 'shop/api' } }] });
    noFind.status = { sourceVersions: { 'shop/db': '4' } };
    assert.equal(readsLatest(noFind, 'vault', 'shop/db'), false);
  });

  it('links rotations and their readers both ways', () => {
    const rotations = [sr('api-key', 'vault', 'shop/api'), sr('db-password', 'vault', 'shop/db')];
    assert.deepEqual(
      readersOf(rotations[1]!, [latest, pinned, other]).map((v) => v.metadata?.name),
      ['db'],
    );
    assert.equal(rotationFor(latest, rotations)?.metadata?.name, 'db-password');
    assert.equal(rotationFor(other, rotations)?.metadata?.name, 'api-key');
    assert.equal(rotationFor(pinned, rotations), undefined);
    assert.equal(rotationFor(latest, [sr('elsewhere', 'aws', 'shop/db')]), undefined);
  });
});
