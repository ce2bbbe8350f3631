import assert from 'node:assert/strict';
import type { LeaderElectionConfig } from '../config/index.ts';
import type { KubeClient } from '../kube/client.ts';
import { FakeClock, settle } from '../kube/fake-clock.ts';
import { openFence } from '../kube/fence.ts';
import { RecordingLogger } from '../kube/testing.ts';
import { Leadership, type LeadershipOptions, createFences } from './leadership.ts';
import { electionConfig } from './testing.ts';

const election = electionConfig();

/** A Leadership whose controllers, metrics, stop and exit write what happens to `steps`. */
function leadershipFor(le: LeaderElectionConfig, overrides: Partial<LeadershipOptions> = {}) {
  const steps: string[] = [];
  const logger = new RecordingLogger();
  const fences = createFences(le);
  const leadership = new Leadership({
    election: le,
    namespace: 'vaultsync',
    identity: 'pod-a',
    client: {} as KubeClient, // the elector is never started here
    fences,
    controllers: ['vaultsecret', 'reload'].map((name) => ({
      start: () => void steps.push(`start ${name}`),
      abort: (reason?: unknown) => void steps.push(`abort ${name}: ${(reason as Error).message}`),
    })),
    caches: [],
    onStartedLeading: () => void steps.push('started leading'),
    metrics: { setLeader: (leader) => void steps.push(`leader metric ${leader}`) },
    clock: new FakeClock(0),
    logger,
    stopping: () => false,
    stop: async () => void steps.push('stop'),
    exit: (code) => void steps.push(`exit ${code}`),
    ...overrides,
  });
  return { leadership, fences, steps, logger };
}

/** The steps of leadership ending: each reconcile aborted with the fence's reason, the metric at 0. */
const aborted = (reason: string) => [
  `abort vaultsecret: not the leader: ${reason}`,
  `abort reload: not the leader: ${reason}`,
  'leader metric false',
];

describe('operator leadership', () => {
  let exitCode: typeof process.exitCode;
  beforeEach(() => (exitCode = process.exitCode));
  afterEach(() => (process.exitCode = exitCode));

  it('without leader election: an open fence, no elector, and leading at once', async () => {
    const { leadership, fences, steps, logger } = leadershipFor({ ...election, enabled: false });
    assert.equal(fences.fence, openFence);
    assert.equal(fences.leadership, undefined);
    assert.equal(leadership.elector, undefined);
    assert.equal(leadership.isLeader(), true);
    leadership.start();
    await settle();
    assert.deepEqual(steps, ['leader metric true', 'start vaultsecret', 'start reload', 'started leading']);
    assert.deepEqual(
      logger.records.map((r) => [r.level, r.message, r.fields]),
      [['info', 'Started leading', { identity: 'pod-a' }]],
    );
  });

  it('starts the controllers only once every cache has synced', async () => {
    let synced!: () => void;
    const secrets = { waitForSync: () => new Promise<void>((resolve) => (synced = resolve)) };
    const ready = { waitForSync: () => Promise.resolve() };
    const { leadership, steps } = leadershipFor(
      { ...election, enabled: false },
      { caches: [ready, secrets] },
    );
    leadership.start();
    await settle();
    assert.deepEqual(steps, ['leader metric true'], 'no worker while the Secret cache is not synced');
    synced();
    await settle();
    assert.deepEqual(steps, ['leader metric true', 'start vaultsecret', 'start reload', 'started leading']);
  });

  it('with leader election: a leadership fence for the elector, and no leading before the Lease', () => {
    const { leadership, fences } = leadershipFor(election);
    assert.ok(fences.leadership);
    assert.equal(fences.fence, fences.leadership);
    assert.ok(leadership.elector);
    assert.equal(leadership.isLeader(), false);
  });

  it('stands down when the fence is lost: aborts the reconciles, stops, exits 1, once', async () => {
    const { fences, steps, logger } = leadershipFor(election);
    fences.leadership!.lose('no Lease renewal for 10000 ms');
    fences.leadership!.lose('again');
    await settle();
    assert.deepEqual(steps, [...aborted('no Lease renewal for 10000 ms'), 'stop', 'exit 1']);
    assert.equal(process.exitCode, 1);
    const errors = logger.records.filter((r) => r.level === 'error');
    assert.deepEqual(
      errors.map((r) => [r.message, r.fields]),
      [
        [
          'Lost leadership; exiting so a fresh replica can stand by',
          { identity: 'pod-a', reason: 'not the leader: no Lease renewal for 10000 ms' },
        ],
      ],
    );
  });

  it('losing the fence while stopping only aborts the reconciles', async () => {
    const { fences, steps, logger } = leadershipFor(election, { stopping: () => true });
    fences.leadership!.lose('stopping');
    await settle();
    assert.deepEqual(steps, aborted('stopping'));
    assert.equal(process.exitCode, exitCode);
    assert.deepEqual(logger.records, []);
  });
});
