// The fault cases' own checks, on made-up inputs (no bed): the wrong-write detector must catch
// each kind of wrong Secret version, and the request count must leave out what was never sent.
// Without these, a fault case that reports 0 could be a detector that cannot see anything.
import assert from 'node:assert/strict';
import type { StoredChange } from '../support/api-writes.ts';
import { backendRequests } from './backend-requests.ts';
import { BackendTruth, type SecretData, describeWrongWrite, wrongSecretWrites } from './backend-truth.ts';

function change(type: StoredChange['type'], name: string, rv: number, data: SecretData): StoredChange {
  const encoded = Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  );
  return {
    resource: 'secrets',
    type,
    namespace: 'team-faults',
    name,
    resourceVersion: String(rv),
    before: undefined,
    after: { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: encoded } as StoredChange['after'],
  };
}

describe('fault checks', () => {
  it('counts a foreign value, a blank, an older value and a deletion as wrong writes, and nothing else', () => {
    const truth = new BackendTruth();
    const v1 = truth.next('a');
    const v2 = truth.next('a');
    const b1 = truth.next('b');
    const ok = [change('ADDED', 'a', 1, v1), change('MODIFIED', 'a', 2, v2), change('ADDED', 'b', 3, b1)];
    assert.deepEqual(wrongSecretWrites(ok, truth), []);

    const wrong = wrongSecretWrites(
      [
        ...ok,
        change('MODIFIED', 'a', 4, { ...v2, v: 'not-from-the-backend' }),
        change('MODIFIED', 'b', 5, {}),
        change('MODIFIED', 'a', 6, v1),
        change('MODIFIED', 'a', 7, { v: v2.v! }), // a key missing: not a version the backend had
        change('DELETED', 'b', 8, b1),
      ],
      truth,
    );
    assert.deepEqual(
      wrong.map((w) => [w.resourceVersion, w.why]),
      [
        ['4', 'not from the backend'],
        ['5', 'blanked'],
        ['6', 'older than what it held'],
        ['7', 'not from the backend'],
        ['8', 'deleted'],
      ],
    );
  });

  it('accepts backend values in order, repeats included; flags a key missing or extra and an unknown Secret', () => {
    const truth = new BackendTruth();
    const p1 = truth.record('a', { password: 'p1' });
    const p2 = truth.record('a', { password: 'p2' });
    assert.deepEqual(
      wrongSecretWrites(
        [
          change('ADDED', 'a', 1, p1),
          change('MODIFIED', 'a', 2, p1),
          change('MODIFIED', 'a', 3, p2),
          change('MODIFIED', 'a', 4, p2),
        ],
        truth,
      ),
      [],
    );
    const wrong = wrongSecretWrites(
      [
        change('MODIFIED', 'a', 5, { other: 'p2' }),
        change('MODIFIED', 'a', 6, { ...p2, extra: 'x' }),
        change('ADDED', 'stranger', 7, p2),
      ],
      truth,
    );
    assert.deepEqual(wrong.map(describeWrongWrite), [
      'a@5 (not from the backend)',
      'a@6 (not from the backend)',
      'stranger@7 (not from the backend)',
    ]);
  });

  it('never prints a value; skips other resources; names Secrets by secretOf', () => {
    const truth = new BackendTruth();
    truth.record('team-x/a', { password: 'p1' });
    const foreign = change('MODIFIED', 'a', 1, { password: 'not-from-the-backend' });
    const described = wrongSecretWrites([foreign], truth, (c) => `team-x/${c.name}`).map(describeWrongWrite);
    assert.deepEqual(described, ['team-x/a@1 (not from the backend)']);
    assert.doesNotMatch(described.join(), /not-from-the-backend/);
    const deployment = { ...change('MODIFIED', 'web', 2, {}), resource: 'deployments' };
    assert.deepEqual(wrongSecretWrites([deployment], truth), [], 'a Deployment is not a Secret version');
    assert.deepEqual(
      wrongSecretWrites([change('ADDED', 'a', 3, { password: 'p1' })], truth, (c) => `team-x/${c.name}`),
      [],
    );
  });

  it('counts requests sent: not those the open circuit or the local bucket refused; logins and renewals too', () => {
    const metrics = `
vaultsync_backend_requests_total{backend="vault",operation="read",outcome="success"} 10
vaultsync_backend_requests_total{backend="vault",operation="read",outcome="Unavailable"} 3
vaultsync_backend_requests_total{backend="vault",operation="read",outcome="CircuitOpen"} 50
vaultsync_backend_requests_total{backend="vault",operation="read",outcome="Throttled"} 7
vaultsync_backend_requests_total{backend="other",operation="read",outcome="success"} 99
vaultsync_backend_throttled_total{backend="vault",source="local"} 5
vaultsync_backend_throttled_total{backend="vault",source="remote"} 2
vaultsync_backend_auth_events_total{backend="vault",event="login"} 2
vaultsync_backend_auth_events_total{backend="vault",event="renew"} 1
`;
    const r = backendRequests(metrics, 'vault');
    // 10 + 3 + 2 answered 429 (7 Throttled less 5 refused by the bucket) + 2 logins + 1 renewal
    assert.equal(r.sent, 18);
    assert.equal(r.refusedLocally, 55);
    assert.equal(r.throttledByBackend, 2);
  });
});
