import assert from 'node:assert/strict';
import type { V1ManagedFieldsEntry, V1Secret } from '@kubernetes/client-node';
import { appliedBy, keepWriters, releaseFields, writers } from './managed-fields.ts';
import { FakeRest } from './testing.ts';

const secret = (managedFields: V1ManagedFieldsEntry[] | undefined) =>
  ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'db',
      namespace: 'shop',
      resourceVersion: '7',
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"c2VjcmV0"}}' },
      managedFields,
    },
    data: { password: 'c2VjcmV0' },
  }) satisfies V1Secret;

const entry = (manager: string, operation: 'Apply' | 'Update') => ({
  manager,
  operation,
  apiVersion: 'v1',
  fieldsType: 'FieldsV1',
  fieldsV1: { 'f:data': { 'f:password': {} } },
});

describe('managedFields: who applied an object', () => {
  it('counts server-side apply entries of the named managers only (an update is not ownership)', () => {
    const s = secret([entry('vaultsync-vaultsecret', 'Apply'), entry('kubectl', 'Update')]);
    assert.equal(appliedBy(s, ['vaultsync-vaultsecret']), true);
    assert.equal(appliedBy(s, ['kubectl']), false, 'an Update entry');
    assert.equal(appliedBy(secret(undefined), ['vaultsync-vaultsecret']), false);
    assert.deepEqual(
      writers(secret([entry('a', 'Apply'), entry('b', 'Update'), entry('a', 'Update')]), ['a', 'b', 'c']),
      ['a', 'b'],
    );
  });

  it('the informer transform keeps just manager and operation of the named managers, and drops the bulk', () => {
    const s = secret([entry('vaultsync', 'Apply'), entry('kubectl', 'Update')]);
    const slim = keepWriters(['vaultsync'])(s);
    assert.deepEqual(slim.metadata?.managedFields, [{ manager: 'vaultsync', operation: 'Apply' }]);
    assert.equal(slim.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined);
    assert.equal(appliedBy(slim, ['vaultsync']), true);
    assert.equal(keepWriters(['other'])(s).metadata?.managedFields, undefined);
    assert.equal(s.metadata.managedFields?.length, 2, 'the input is not changed');
  });

  it('a field manager no longer used gives up its fields with one empty apply, only when it still owns some', async () => {
    const rest = new FakeRest((req) => ({
      ...(req.body as object),
      metadata: { name: 'db', resourceVersion: '8' },
    }));
    const client = rest.client();
    const none = secret([entry('vaultsync-vaultsecret', 'Apply')]);
    assert.equal(await releaseFields(client, none, 'vaultsync'), none);
    assert.equal(rest.requests.length, 0, 'nothing written');

    const legacy = secret([entry('vaultsync-vaultsecret', 'Apply'), entry('vaultsync', 'Apply')]);
    const released = await releaseFields(client, legacy, 'vaultsync');
    assert.equal(released.metadata?.resourceVersion, '8');
    assert.equal(rest.requests.length, 1);
    const req = rest.requests[0]!;
    assert.equal(req.method, 'PATCH');
    assert.equal(req.path, '/api/v1/namespaces/shop/secrets/db');
    assert.equal(req.query?.fieldManager, 'vaultsync');
    assert.deepEqual(req.body, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'shop' },
    });
  });
});
