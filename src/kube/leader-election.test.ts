import assert from 'node:assert/strict';
import { FakeClock } from './fake-clock.ts';
import { LeadershipFence } from './fence.ts';
import {
  type Lease,
  LeaderElector,
  leaseAction,
  microTime,
  nextLeaseSpec,
  shutdownGraceMs,
} from './leader-election.ts';
import type { RestRequest } from './rest.ts';
import { FakeRest, apiError } from './testing.ts';

/** One Lease with the API server's optimistic concurrency: a stale resourceVersion gets 409. */
class LeaseStore {
  lease: Lease | undefined;
  rv = 0;

  handle(req: RestRequest): unknown {
    if (req.method === 'GET') {
      if (!this.lease) throw apiError(404, 'NotFound');
      return structuredClone(this.lease);
    }
    const body = structuredClone(req.body as Lease);
    if (req.method === 'POST') {
      if (this.lease) throw apiError(409, 'AlreadyExists');
    } else if (body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
      throw apiError(409, 'Conflict');
    }
    body.metadata = { ...body.metadata, resourceVersion: String(++this.rv) };
    this.lease = body;
    return structuredClone(body);
  }
}

function elector(store: LeaseStore, clock: FakeClock, identity: string) {
  const log: string[] = [];
  // The fence on the same fake clock (as the monotonic clock would run beside it).
  const fence = new LeadershipFence({
    renewDeadlineMs: 10_000,
    now: () => clock.now(),
    after: (ms, fn) => clock.after(ms, fn),
  });
  const rest = new FakeRest((req) => {
    if (partitioned.has(identity)) throw apiError(503, 'ServiceUnavailable');
    if (req.method === 'PUT' && (req.body as Lease).spec?.holderIdentity === '')
      log.push(`${identity} releases; fence held: ${fence.held()}`);
    return store.handle(req);
  });
  const e = new LeaderElector({
    client: rest.client(),
    identity,
    leaseName: 'vaultsync',
    leaseNamespace: 'vaultsync',
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    fence,
    clock,
    random: () => 0,
    onStartedLeading: () => log.push(`${identity} started`),
    onStoppedLeading: () => log.push(`${identity} stopped`),
  });
  return { e, log, fence };
}

const partitioned = new Set<string>();

describe('leader election', () => {
  afterEach(() => partitioned.clear());

  describe('leaseAction', () => {
    const spec = { holderIdentity: 'a', leaseDurationSeconds: 15 };
    it('creates a missing lease, renews its own, takes a released one', () => {
      assert.equal(leaseAction(undefined, 'me', 0, 0), 'create');
      assert.equal(leaseAction({ ...spec, holderIdentity: 'me' }, 'me', 0, 0), 'renew');
      assert.equal(leaseAction({ ...spec, holderIdentity: '' }, 'me', 0, 0), 'acquire');
    });
    it('waits while another holder is within its duration, from when we observed it', () => {
      assert.equal(leaseAction(spec, 'me', 1000, 15_999), 'wait');
      assert.equal(leaseAction(spec, 'me', 1000, 16_000), 'acquire');
    });
  });

  it('formats MicroTime with six fractional digits and counts transitions', () => {
    assert.equal(microTime(Date.UTC(2030, 0, 1, 0, 0, 0, 5)), '2030-01-01T00:00:00.005000Z');
    const renewed = nextLeaseSpec('renew', { acquireTime: 'T0', leaseTransitions: 3 }, 'me', 15_000, 0);
    assert.equal(renewed.acquireTime, 'T0');
    assert.equal(renewed.leaseTransitions, 3);
    assert.equal(nextLeaseSpec('acquire', { leaseTransitions: 3 }, 'me', 15_000, 0).leaseTransitions, 4);
  });

  it('lets only one of two candidates lead', async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = elector(store, clock, 'a');
    const b = elector(store, clock, 'b');
    a.e.start();
    b.e.start();
    await clock.advanceAsync(30_000);
    assert.equal([a.e.isLeader(), b.e.isLeader()].filter(Boolean).length, 1);
    assert.equal(store.lease?.spec?.holderIdentity, a.e.isLeader() ? 'a' : 'b');
    assert.equal(b.e.leader(), store.lease?.spec?.holderIdentity);
    await Promise.all([a.e.stop(), b.e.stop()]);
  });

  it('hands over at once when the leader releases on stop', async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = elector(store, clock, 'a');
    a.e.start();
    await clock.advanceAsync(1);
    assert.equal(a.e.isLeader(), true);
    const b = elector(store, clock, 'b');
    b.e.start();
    await clock.advanceAsync(5_000);
    assert.equal(b.e.isLeader(), false);
    assert.equal(a.fence.held(), true);
    assert.equal(b.fence.held(), false, 'a standby may not write');
    await a.e.stop();
    assert.equal(store.lease?.spec?.holderIdentity, '');
    assert.deepEqual(a.log, ['a started', 'a releases; fence held: false', 'a stopped']);
    await clock.advanceAsync(2_500); // one retry period, far less than the lease duration
    assert.equal(b.e.isLeader(), true);
    assert.equal(store.lease?.spec?.leaseTransitions, 1);
    await b.e.stop();
  });

  it('steps down when it cannot renew by the deadline; the other takes over only after the lease expires', async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = elector(store, clock, 'a');
    a.e.start();
    await clock.advanceAsync(1);
    const b = elector(store, clock, 'b');
    b.e.start();
    await clock.advanceAsync(4_000);
    const lastRenewal = clock.now() - (clock.now() % 2000);
    partitioned.add('a'); // a can no longer reach the API server
    let aStoppedAt: number | undefined;
    let bStartedAt: number | undefined;
    for (let t = 0; t < 30_000; t += 500) {
      await clock.advanceAsync(500);
      if (aStoppedAt === undefined && !a.e.isLeader()) aStoppedAt = clock.now();
      if (bStartedAt === undefined && b.e.isLeader()) bStartedAt = clock.now();
    }
    assert.ok(
      aStoppedAt !== undefined && aStoppedAt - lastRenewal <= 10_000 + 2_000,
      `a stopped at ${aStoppedAt}`,
    );
    assert.ok(bStartedAt !== undefined && bStartedAt >= lastRenewal + 15_000, `b started at ${bStartedAt}`);
    assert.ok(aStoppedAt < bStartedAt, 'never two leaders');
    await Promise.all([a.e.stop(), b.e.stop()]);
  });

  it('fence: lost by renewDeadline after the last renewal, before the other may take over; never back', async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = elector(store, clock, 'a');
    a.e.start();
    await clock.advanceAsync(1);
    const b = elector(store, clock, 'b');
    b.e.start();
    await clock.advanceAsync(4_000);
    assert.equal(a.fence.held(), true);
    const lastRenewal = clock.now() - (clock.now() % 2000);
    partitioned.add('a');
    let fenceLostAt: number | undefined;
    let bStartedAt: number | undefined;
    a.fence.signal.addEventListener('abort', () => (fenceLostAt = clock.now()));
    for (let t = 0; t < 30_000; t += 100) {
      await clock.advanceAsync(100);
      if (bStartedAt === undefined && b.e.isLeader()) bStartedAt = clock.now();
    }
    assert.equal(fenceLostAt, lastRenewal + 10_000, 'the timer fires at the deadline exactly');
    assert.ok(bStartedAt !== undefined && fenceLostAt < bStartedAt);
    partitioned.delete('a');
    await clock.advanceAsync(30_000); // a campaigns again and may even win: its fence stays lost
    assert.equal(a.fence.held(), false);
    assert.equal(b.fence.held(), true);
    await Promise.all([a.e.stop(), b.e.stop()]);
    assert.equal(b.fence.held(), false, 'stop ends writing before the release');
  });

  it('fence: lost at once when the Lease is seen with another holder', async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = elector(store, clock, 'a');
    a.e.start();
    await clock.advanceAsync(1);
    assert.equal(a.fence.held(), true);
    // Someone overwrote the Lease (an admin, a replica with a skewed view).
    store.lease = { ...store.lease!, spec: { ...store.lease!.spec, holderIdentity: 'intruder' } };
    await clock.advanceAsync(2_000);
    assert.equal(a.fence.held(), false);
    assert.equal(a.e.isLeader(), false);
    await a.e.stop();
  });

  it('shutdown grace stays below leaseDuration − renewDeadline', () => {
    assert.equal(shutdownGraceMs(15_000, 10_000), 2_500);
    assert.equal(shutdownGraceMs(6_000, 4_000), 1_000);
    assert.equal(shutdownGraceMs(4_000, 4_000), 0);
  });

  it('does not release a lease another replica took over meanwhile', async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = elector(store, clock, 'a');
    a.e.start();
    await clock.advanceAsync(1);
    const b = elector(store, clock, 'b');
    b.e.start();
    partitioned.add('a');
    await clock.advanceAsync(30_000);
    assert.equal(b.e.isLeader(), true);
    partitioned.delete('a');
    await a.e.stop();
    assert.equal(store.lease?.spec?.holderIdentity, 'b');
    await clock.advanceAsync(10_000);
    assert.equal(b.e.isLeader(), true);
    await b.e.stop();
  });

  it('rejects timing that could allow two leaders', () => {
    const client = new FakeRest().client();
    const base = { client, identity: 'a', leaseName: 'l', leaseNamespace: 'n' };
    assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }));
    assert.throws(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }));
  });
});
