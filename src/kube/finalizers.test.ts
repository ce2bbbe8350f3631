import assert from 'node:assert/strict';
import { addFinalizer, finalizersPatch, hasFinalizer, removeFinalizer } from './finalizers.ts';
import { FakeRest } from './testing.ts';

const F = 'vaultsync.io/cleanup';
const obj = (finalizers?: string[]) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'db', namespace: 'shop', resourceVersion: '42', finalizers },
});

describe('finalizers', () => {
  it('adds with a merge patch guarded by the resourceVersion, keeping other finalizers', async () => {
    const rest = new FakeRest((req) => req.body);
    await addFinalizer(rest.client(), obj(['other.io/x']), F);
    const req = rest.requests[0]!;
    assert.equal(req.method, 'PATCH');
    assert.equal(req.path, '/api/v1/namespaces/shop/secrets/db');
    assert.equal(req.contentType, 'application/merge-patch+json');
    assert.deepEqual(req.body, { metadata: { resourceVersion: '42', finalizers: ['other.io/x', F] } });
  });

  it('does nothing when the finalizer is already there (or already gone)', async () => {
    const rest = new FakeRest();
    await addFinalizer(rest.client(), obj([F]), F);
    await removeFinalizer(rest.client(), obj(['other.io/x']), F);
    assert.equal(rest.requests.length, 0);
  });

  it('removes only ours, and clears the field when none remain', async () => {
    const rest = new FakeRest();
    await removeFinalizer(rest.client(), obj([F, 'other.io/x']), F);
    await removeFinalizer(rest.client(), obj([F]), F);
    assert.deepEqual(rest.requests[0]!.body, {
      metadata: { resourceVersion: '42', finalizers: ['other.io/x'] },
    });
    assert.deepEqual(rest.requests[1]!.body, { metadata: { resourceVersion: '42', finalizers: null } });
  });

  it('refuses to patch without a resourceVersion (no blind overwrite)', () => {
    assert.throws(() => finalizersPatch({ metadata: { name: 'x' } }, [F]));
    assert.equal(hasFinalizer(obj([F]), F), true);
  });
});
