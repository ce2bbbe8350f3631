import assert from 'node:assert/strict';
import { tokenDigest, type VaultSyncResource } from '../apis/v1alpha1/index.ts';
import type { Cluster } from './cluster.ts';
import { TRIGGERS, formatTrigger, newToken, runTrigger, triggerState } from './trigger.ts';

const T0 = Date.parse('2026-01-01T12:00:00Z');
const cond = (status: string, reason: string) => ({
  type: 'Ready',
  status,
  reason,
  message: `${reason} message`,
  lastTransitionTime: '2026-01-01T12:00:00Z',
});
const obj = (kind: string, status: Record<string, unknown>) =>
  ({
    apiVersion: 'vaultsync.io/v1alpha1',
    kind,
    metadata: { name: 'x', namespace: 'ns' },
    spec: {},
    status,
  }) as unknown as VaultSyncResource;

describe('kubectl vaultsync: sync, rotate and renew', () => {
  const token = 'tok';

  it('is pending until the status records the digest of the token', () => {
    assert.equal(triggerState(TRIGGERS.sync, undefined, token, T0), 'Pending');
    assert.equal(
      triggerState(TRIGGERS.sync, obj('VaultSecret', { syncNowHandled: tokenDigest('older') }), token, T0),
      'Pending',
    );
    const answered = obj('VaultSecret', {
      syncNowHandled: tokenDigest(token),
      conditions: [cond('True', 'Synced')],
    });
    assert.equal(triggerState(TRIGGERS.sync, answered, token, T0), 'Done');
  });

  it('answered with Ready=False is Failed, unless a rotation is still under way', () => {
    const failed = obj('VaultSecret', {
      syncNowHandled: tokenDigest(token),
      conditions: [cond('False', 'TenancyDenied')],
    });
    assert.equal(triggerState(TRIGGERS.sync, failed, token, T0), 'Failed');
    const rolling = obj('SecretRotation', {
      rotateNowHandled: tokenDigest(token),
      conditions: [cond('False', 'RollingOut')],
    });
    assert.equal(triggerState(TRIGGERS.rotate, rolling, token, T0), 'Pending');
    const notReady = obj('SecretRotation', {
      rotateNowHandled: tokenDigest(token),
      conditions: [cond('False', 'RolloutNotReady')],
    });
    assert.equal(triggerState(TRIGGERS.rotate, notReady, token, T0), 'Failed');
  });

  it('a renewal is Failed by an issuance failure after the request, not by an older one', () => {
    const after = obj('VaultCertificate', {
      lastFailureTime: '2026-01-01T12:00:05Z',
      conditions: [cond('True', 'Issued')],
    });
    assert.equal(triggerState(TRIGGERS.renew, after, token, T0), 'Failed');
    const before = obj('VaultCertificate', {
      lastFailureTime: '2026-01-01T11:59:00Z',
      conditions: [cond('True', 'Issued')],
    });
    assert.equal(triggerState(TRIGGERS.renew, before, token, T0), 'Pending');
    const renewed = obj('VaultCertificate', {
      renewNowHandled: tokenDigest(token),
      conditions: [cond('True', 'Issued')],
    });
    assert.equal(triggerState(TRIGGERS.renew, renewed, token, T0), 'Done');
  });

  it('tokens never repeat and start with the time', () => {
    const a = newToken(new Date(T0));
    assert.match(a, /^2026-01-01T12:00:00.000Z-[0-9a-f]{8}$/);
    assert.notEqual(a, newToken(new Date(T0)));
  });

  it('sets the annotation, then waits for the answer', async () => {
    const patches: string[][] = [];
    let gets = 0;
    let stored: string | undefined;
    const cluster = {
      namespace: 'ns',
      async annotate(kind: string, ns: string, name: string, key: string, value: string) {
        patches.push([kind, ns, name, key]);
        stored = value;
      },
      async get() {
        gets++;
        return gets < 3
          ? obj('VaultSecret', {})
          : obj('VaultSecret', {
              syncNowHandled: tokenDigest(stored!),
              conditions: [cond('True', 'Synced')],
            });
      },
    } as unknown as Cluster;
    const result = await runTrigger(cluster, TRIGGERS.sync, {
      namespace: 'ns',
      name: 'db',
      waitMs: 5_000,
      pollMs: 1,
    });
    assert.deepEqual(patches, [['VaultSecret', 'ns', 'db', 'vaultsync.io/sync-now']]);
    assert.equal(result.state, 'Done');
    assert.equal(result.reason, 'Synced');
    assert.equal(formatTrigger(TRIGGERS.sync, result, 'table', true), 'vaultsecret/db synced\n');
    const noWait = await runTrigger(cluster, TRIGGERS.sync, { namespace: 'ns', name: 'db', waitMs: 0 });
    assert.equal(noWait.state, 'Pending');
    assert.match(
      formatTrigger(TRIGGERS.sync, noWait, 'table', false),
      /sync requested \(vaultsync.io\/sync-now=2026|sync requested \(vaultsync.io\/sync-now=\d/,
    );
  });

  it('gives up at the timeout', async () => {
    const cluster = {
      namespace: 'ns',
      annotate: async () => {},
      get: async () => obj('VaultSecret', {}),
    } as unknown as Cluster;
    const result = await runTrigger(cluster, TRIGGERS.sync, {
      namespace: 'ns',
      name: 'db',
      waitMs: 20,
      pollMs: 5,
    });
    assert.equal(result.state, 'Pending');
    assert.match(formatTrigger(TRIGGERS.sync, result, 'table', true), /not answered yet/);
  });
});
