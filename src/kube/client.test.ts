import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { applyStatus, deleteObject, getObject, patchStatus, serverSideApply } from './client.ts';
import { createTokenRequest } from './token-request.ts';
import { FakeRest, apiError } from './testing.ts';

const discovery = {
  kind: 'APIResourceList',
  resources: [
    { name: 'vaultsecrets', kind: 'VaultSecret', namespaced: true },
    { name: 'vaultsecrets/status', kind: 'VaultSecret', namespaced: true },
  ],
};

function fake() {
  return new FakeRest((req) => {
    if (req.path === '/apis/vaultsync.io/v1alpha1') return discovery;
    if (req.method === 'GET' && req.path.endsWith('/missing')) throw apiError(404, 'NotFound');
    if (req.path.endsWith('/token'))
      return { status: { token: 'planted-token', expirationTimestamp: '2030-01-01T01:00:00Z' } };
    return req.body ?? {};
  });
}

describe('client helpers', () => {
  it('server-side applies with the apply content type, field manager and force', async () => {
    const rest = fake();
    await serverSideApply(
      rest.client(),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' } },
      { fieldManager: 'vaultsync', force: true },
    );
    const req = rest.requests[0]!;
    assert.equal(req.method, 'PATCH');
    assert.equal(req.path, '/api/v1/namespaces/shop/secrets/db');
    assert.equal(req.contentType, 'application/apply-patch+yaml');
    assert.deepEqual(req.query, { fieldManager: 'vaultsync', force: true, dryRun: undefined });
  });

  it('resolves a custom resource by discovery once, and targets /status for status writes', async () => {
    const rest = fake();
    const ref = { apiVersion: 'vaultsync.io/v1alpha1', kind: 'VaultSecret', name: 'db', namespace: 'shop' };
    const client = rest.client();
    await patchStatus(client, ref, { phase: 'Ready' }, { resourceVersion: '9' });
    await applyStatus(
      client,
      { ...ref, metadata: { name: 'db', namespace: 'shop' }, status: {} },
      { fieldManager: 'vs' },
    );
    const writes = rest.requests.filter((r) => r.method === 'PATCH');
    assert.equal(rest.requests.filter((r) => r.path === '/apis/vaultsync.io/v1alpha1').length, 1);
    assert.equal(writes[0]!.path, '/apis/vaultsync.io/v1alpha1/namespaces/shop/vaultsecrets/db/status');
    assert.equal(writes[0]!.contentType, 'application/merge-patch+json');
    assert.deepEqual(writes[0]!.body, { status: { phase: 'Ready' }, metadata: { resourceVersion: '9' } });
    assert.equal(writes[1]!.contentType, 'application/apply-patch+yaml');
  });

  it('returns undefined for a missing object and false for deleting one', async () => {
    const rest = fake();
    const ref = { apiVersion: 'v1', kind: 'Secret', name: 'missing', namespace: 'shop' };
    assert.equal(await getObject(rest.client(), ref), undefined);
    rest.handler = () => {
      throw apiError(404, 'NotFound');
    };
    assert.equal(await deleteObject(rest.client(), ref), false);
  });

  it('returns a TokenRequest token wrapped so it never prints', async () => {
    const rest = fake();
    const t = await createTokenRequest(rest.client(), 'vaultsync', 'vaultsync', ['vault'], 600);
    const req = rest.requests[0]!;
    assert.equal(req.path, '/api/v1/namespaces/vaultsync/serviceaccounts/vaultsync/token');
    assert.deepEqual((req.body as { spec: unknown }).spec, { audiences: ['vault'], expirationSeconds: 600 });
    assert.equal(t.token.reveal(), 'planted-token');
    assert.ok(!JSON.stringify(t).includes('planted-token'));
    assert.ok(!inspect(t).includes('planted-token'));
    assert.equal(t.expirationTimestamp, '2030-01-01T01:00:00Z');
  });
});
