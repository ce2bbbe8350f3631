import assert from 'node:assert/strict';
import { DEFAULT_RESTART_POLICY } from '../shared/restart-policy.ts';
import { type Rolling, isRolling, lastRestartAt, reservation, rollingInGroup, trackStep } from './rolling.ts';
import type { Workload, WorkloadRef } from '../contracts.ts';

const T0 = Date.parse('2030-01-02T14:00:00Z');
const policy = { ...DEFAULT_RESTART_POLICY, readyTimeoutMs: 60_000 };
const ref = (name: string): WorkloadRef => ({ kind: 'Deployment', namespace: 'shop', name });
/** A Deployment of one replica, done rolling out (`done`) or not, restarted at `at` for `group`. */
const deployment = (
  name: string,
  o: { done?: boolean; generation?: number; at?: number; group?: string } = {},
): Workload => ({
  metadata: {
    name,
    namespace: 'shop',
    generation: o.generation ?? 2,
    annotations: {
      ...(o.at !== undefined && { 'vaultsync.io/restarted-at': new Date(o.at).toISOString() }),
      ...(o.group !== undefined && { 'vaultsync.io/restart-group': o.group }),
    },
  },
  spec: { replicas: 1 },
  status: {
    observedGeneration: o.generation ?? 2,
    replicas: 1,
    updatedReplicas: o.done === false ? 0 : 1,
    availableReplicas: 1,
    unavailableReplicas: 0,
  },
});
const mine = (name: string, over: Partial<Rolling> = {}): Rolling => ({
  ...reservation(ref(name), deployment(name), 'VaultSecret/db', T0, policy),
  ...over,
});

describe('rolling workloads', () => {
  it('reserves the next generation and the ready timeout', () => {
    const r = reservation(ref('api'), deployment('api', { generation: 4 }), 'VaultSecret/db', T0, policy);
    assert.deepEqual(r, {
      ref: ref('api'),
      group: 'VaultSecret/db',
      at: T0,
      generation: 5,
      timeoutAt: T0 + 60_000,
    });
    assert.equal(lastRestartAt(deployment('api', { at: T0 })), T0);
    assert.equal(lastRestartAt(deployment('api')), undefined);
  });

  it('counts our restart as rolling until its generation shows and completes, or its time is up', () => {
    const r = mine('api'); // generation 3 expected
    assert.equal(isRolling(ref('api'), deployment('api'), r, T0 + 1, policy), true, 'cache still at 2');
    assert.equal(isRolling(ref('api'), deployment('api', { generation: 3 }), r, T0 + 1, policy), false);
    assert.equal(
      isRolling(ref('api'), deployment('api', { generation: 3, done: false }), r, T0 + 1, policy),
      true,
    );
    assert.equal(isRolling(ref('api'), deployment('api'), r, T0 + 60_000, policy), false, 'timed out');
  });

  it('counts another replica’s restart by its restarted-at annotation, within the ready timeout', () => {
    const w = deployment('api', { done: false, at: T0 });
    assert.equal(isRolling(ref('api'), w, undefined, T0 + 1000, policy), true);
    assert.equal(isRolling(ref('api'), w, undefined, T0 + 60_000, policy), false);
    assert.equal(isRolling(ref('api'), deployment('api', { done: false }), undefined, T0, policy), false);
  });

  it('counts the group’s rolling workloads, the asker and other groups excluded, reservations not yet cached included', () => {
    const workloads = [
      { ref: ref('a'), obj: deployment('a', { done: false, at: T0, group: 'VaultSecret/db' }) },
      { ref: ref('b'), obj: deployment('b', { done: false, at: T0, group: 'VaultSecret/other' }) },
      { ref: ref('c'), obj: deployment('c', { done: false, at: T0, group: 'VaultSecret/db' }) },
    ];
    const rolling = new Map<string, Rolling>([
      ['shop/Deployment/unseen', mine('unseen')],
      ['other/Deployment/x', { ...mine('x'), ref: { ...ref('x'), namespace: 'other' } }],
    ]);
    const q = {
      namespace: 'shop',
      group: 'VaultSecret/db',
      except: 'shop/Deployment/c',
      now: T0 + 1,
      policy,
    };
    assert.equal(rollingInGroup(workloads, rolling, q), 2, 'a and the unseen reservation');
    assert.equal(rollingInGroup(workloads, rolling, { ...q, now: T0 + 60_000 }), 0);
  });

  it('follows a restart: ready, timed out, or look again no later than the poll', () => {
    const r = mine('api');
    assert.deepEqual(trackStep(r, deployment('api', { generation: 3 }), T0 + 5, 5000), { outcome: 'ready' });
    assert.deepEqual(trackStep(r, deployment('api'), T0 + 60_000, 5000), {
      outcome: 'timeout',
      afterSeconds: 60,
    });
    assert.deepEqual(trackStep(r, deployment('api'), T0 + 58_000, 5000), {
      outcome: 'waiting',
      requeueAfter: 2000,
    });
    assert.deepEqual(trackStep(r, deployment('api'), T0 + 1000, 5000), {
      outcome: 'waiting',
      requeueAfter: 5000,
    });
  });
});
