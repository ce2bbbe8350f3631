import assert from 'node:assert/strict';
import { MacKeyring } from '../../secrets/mac-keyring.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import { workloadDigests } from './annotations.ts';
import { DEFAULT_RESTART_POLICY } from '../shared/restart-policy.ts';
import { type RolloutStateInput, RolloutQuestions, rolloutState } from './rollout-state.ts';
import { reservation } from './rolling.ts';
import type { Workload, WorkloadRef } from '../contracts.ts';

const keys = new MacKeyring(new Sensitive<Uint8Array>(Buffer.alloc(32, 3)));
const T0 = Date.parse('2030-01-02T14:00:00Z');
const ref: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'api' };
const wanted = { db: 'tokentokentoken1' };
const digests = workloadDigests(keys, ref, wanted);
const api = (o: { template?: string; done?: boolean; at?: number; pods?: string } = {}): Workload => ({
  metadata: {
    name: 'api',
    namespace: 'shop',
    generation: 2,
    annotations: {
      ...(o.at !== undefined && { 'vaultsync.io/restarted-at': new Date(o.at).toISOString() }),
      ...(o.pods !== undefined && { 'vaultsync.io/pods-secrets-hmac': o.pods }),
    },
  },
  spec: {
    replicas: 1,
    template: { metadata: { annotations: o.template ? { 'vaultsync.io/secrets-hmac': o.template } : {} } },
  },
  status: {
    observedGeneration: 2,
    replicas: 1,
    updatedReplicas: o.done === false ? 0 : 1,
    availableReplicas: 1,
  },
});
const input = (w: Workload, over: Partial<RolloutStateInput> = {}): RolloutStateInput => ({
  ref,
  w,
  wanted,
  digests,
  keyId: keys.keyId,
  unsavedWaits: false,
  now: T0 + 1000,
  readyTimeoutMs: 60_000,
  ...over,
});
const applied = `db=${digests.db}`;

describe('rollout state', () => {
  it('is Pending while a change to the data waits (stored or not), else NotRestarted', () => {
    assert.deepEqual(rolloutState(input(api())), { state: 'NotRestarted' });
    assert.deepEqual(rolloutState(input(api(), { unsavedWaits: true })), { state: 'Pending' });
    const pending = { secrets: wanted, first: T0, last: T0, group: 'g/x', reasons: [] };
    assert.deepEqual(rolloutState(input(api(), { pending })), { state: 'Pending' });
    const other = { ...pending, secrets: { db: 'another' } };
    assert.deepEqual(rolloutState(input(api(), { pending: other })), { state: 'NotRestarted' });
  });

  it('is Ready once the pods run with the data, RollingOut before, TimedOut past the ready timeout', () => {
    assert.deepEqual(rolloutState(input(api({ template: applied, at: T0 }))), { state: 'Ready' });
    const rolling = api({ template: applied, at: T0, done: false });
    assert.deepEqual(rolloutState(input(rolling)), { state: 'RollingOut', since: T0 });
    assert.deepEqual(rolloutState(input(rolling, { now: T0 + 60_000 })), { state: 'TimedOut', since: T0 });
    assert.deepEqual(rolloutState(input(api({ template: applied, done: false }))), { state: 'RollingOut' });
  });

  it('waits for our own restart’s generation to show before calling it Ready', () => {
    const mine = reservation(ref, api(), 'g/x', T0, DEFAULT_RESTART_POLICY); // expects generation 3
    assert.deepEqual(rolloutState(input(api({ template: applied }), { mine })), {
      state: 'RollingOut',
      since: T0,
    });
  });

  it('AnnotatePods: Ready as soon as the pods carry the digests', () => {
    assert.deepEqual(rolloutState(input(api({ pods: applied, done: false }))), { state: 'Ready' });
  });

  it('remembers when a Rollout question was first asked', () => {
    const q = new RolloutQuestions();
    assert.equal(q.askedAt('shop/Rollout/x db=a', T0), T0);
    assert.equal(q.askedAt('shop/Rollout/x db=a', T0 + 5000), T0);
    assert.equal(q.askedAt('shop/Rollout/x db=b', T0 + 5000), T0 + 5000);
  });
});
