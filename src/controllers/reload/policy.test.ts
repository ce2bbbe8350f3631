import assert from 'node:assert/strict';
import { FakeClock } from '../../kube/fake-clock.ts';
import type { PendingRestart } from './annotations.ts';
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from '../shared/restart-policy.ts';
import {
  RESTART_CHECKS,
  type RestartInput,
  decideRestart,
  effectivePolicy,
  workloadRestartPolicy,
} from './policy.ts';
import { windowState } from './windows.ts';

const T0 = Date.parse('2030-01-02T14:00:00Z'); // a Wednesday
const pending = (over: Partial<PendingRestart> = {}): PendingRestart => ({
  secrets: { db: 'AAAA' },
  first: T0,
  last: T0,
  group: 'VaultSecret/db',
  reasons: ['Secret db changed'],
  ...over,
});
const policy = (over: Partial<RestartPolicy> = {}): RestartPolicy => ({ ...DEFAULT_RESTART_POLICY, ...over });
const input = (over: Partial<RestartInput> = {}): RestartInput => ({
  pending: pending(),
  policy: policy({ debounceMs: 10_000 }),
  now: T0,
  alreadyApplied: false,
  paused: false,
  rollingInGroup: 0,
  ...over,
});

describe('restart policy', () => {
  describe('decideRestart', () => {
    it('waits for the debounce window after the latest change', () => {
      assert.deepEqual(decideRestart(input({ now: T0 + 4000 })), {
        action: 'wait',
        afterMs: 6000,
        reason: 'Debounce',
        message: 'waiting for further changes',
      });
      assert.deepEqual(decideRestart(input({ now: T0 + 10_000 })), { action: 'restart' });
    });

    it('restarts a burst that never pauses after five debounce periods', () => {
      const burst = pending({ first: T0, last: T0 + 49_000 });
      assert.equal(decideRestart(input({ pending: burst, now: T0 + 49_500 })).action, 'wait');
      assert.equal(decideRestart(input({ pending: burst, now: T0 + 50_000 })).action, 'restart');
    });

    it('drops a restart the pods already have, and one of a paused Deployment', () => {
      assert.equal(decideRestart(input({ alreadyApplied: true, now: T0 + 20_000 })).action, 'drop');
      const paused = decideRestart(input({ paused: true, now: T0 + 20_000 }));
      assert.equal(paused.action === 'drop' && paused.reason, 'Paused');
    });

    it('keeps the minimum interval between two restarts of one workload', () => {
      const d = decideRestart(
        input({
          now: T0 + 20_000,
          lastRestartAt: T0 - 60_000,
          policy: policy({ debounceMs: 10_000, minIntervalMs: 300_000 }),
        }),
      );
      assert.equal(d.action === 'wait' && d.reason, 'MinInterval');
      assert.equal(d.action === 'wait' && d.afterMs, 220_000);
    });

    it('holds a restart while maxUnavailable workloads of its group roll', () => {
      const d = decideRestart(input({ now: T0 + 20_000, rollingInGroup: 1 }));
      assert.equal(d.action === 'wait' && d.reason, 'Concurrency');
      assert.equal(
        decideRestart(
          input({
            now: T0 + 20_000,
            rollingInGroup: 1,
            policy: policy({ debounceMs: 10_000, maxUnavailable: 2 }),
          }),
        ).action,
        'restart',
      );
    });

    it('defers a restart to the next restart window, under an injected clock', () => {
      const clock = new FakeClock(T0);
      const weekendNights = policy({
        debounceMs: 10_000,
        windows: [{ days: ['Sat', 'Sun'], start: '02:00', end: '05:00', timeZone: 'Europe/Berlin' }],
      });
      const seen: string[] = [];
      for (let i = 0; i < 10; i++) {
        const d = decideRestart(input({ policy: weekendNights, now: clock.now() }));
        if (d.action === 'restart') break;
        assert.equal(d.action, 'wait');
        if (d.action === 'wait') {
          seen.push(d.reason);
          clock.advance(d.afterMs);
        }
      }
      assert.deepEqual(seen, ['Debounce', 'Window']);
      // Saturday 02:00 in Berlin (CET, UTC+1) is 01:00 UTC.
      assert.equal(new Date(clock.now()).toISOString(), '2030-01-05T01:00:00.000Z');
    });
  });

  describe('windowState', () => {
    const night = [{ start: '22:00', end: '02:00' }];
    it('is open inside a window that crosses midnight, and names the next opening outside it', () => {
      assert.deepEqual(windowState(night, 'UTC', Date.parse('2030-01-02T23:30:00Z')), { open: true });
      assert.deepEqual(windowState(night, 'UTC', Date.parse('2030-01-03T01:59:00Z')), { open: true });
      assert.deepEqual(windowState(night, 'UTC', Date.parse('2030-01-03T02:00:00Z')), {
        open: false,
        nextOpen: Date.parse('2030-01-03T22:00:00Z'),
      });
    });
    it('reads times in the window time zone, else the default one', () => {
      const w = [{ start: '09:00', end: '10:00' }];
      assert.equal(windowState(w, 'America/New_York', Date.parse('2030-07-01T13:30:00Z')).open, true);
      assert.equal(windowState(w, 'UTC', Date.parse('2030-07-01T13:30:00Z')).open, false);
      assert.equal(
        windowState([{ ...w[0]!, timeZone: 'Asia/Tokyo' }], 'UTC', Date.parse('2030-07-01T00:30:00Z')).open,
        true,
      );
    });
    it('is always open without windows', () => {
      assert.deepEqual(windowState(undefined, 'UTC', T0), { open: true });
    });
  });

  describe('policies', () => {
    it('takes debounce and minimum interval from workload annotations, ignoring bad values', () => {
      const p = workloadRestartPolicy({
        'vaultsync.io/reload-debounce': '2s',
        'vaultsync.io/reload-min-interval': 'soon',
      });
      assert.equal(p.debounceMs, 2000);
      assert.equal(p.minIntervalMs, DEFAULT_RESTART_POLICY.minIntervalMs);
      assert.equal(DEFAULT_RESTART_POLICY.debounceMs, 10_000);
    });
  });

  describe('the chain of checks', () => {
    it('runs in the documented order: applied, paused, debounce, min interval, window, concurrency', () => {
      assert.deepEqual(
        RESTART_CHECKS.map(([name]) => name),
        ['alreadyApplied', 'paused', 'debounce', 'minInterval', 'window', 'concurrency'],
      );
    });
    it('lets the first check that answers decide (applied data beats a pause and the debounce)', () => {
      const everything = input({ alreadyApplied: true, paused: true, now: T0 + 1 });
      assert.equal(decideRestart(everything).action, 'drop');
      assert.equal((decideRestart(everything) as { reason: string }).reason, 'AlreadyRolledOut');
      const pausedAndDebouncing = input({ paused: true, now: T0 + 1 });
      assert.equal((decideRestart(pausedAndDebouncing) as { reason: string }).reason, 'Paused');
    });
    it('restarts when no check answers', () => {
      assert.deepEqual(decideRestart(input({ now: T0 + 60_000 })), { action: 'restart' });
    });
  });

  describe('effectivePolicy', () => {
    it('takes the SecretRotation’s settings over the workload’s annotations', () => {
      const fromRotation = policy({ debounceMs: 1, maxUnavailable: 7 });
      const annotations = { 'vaultsync.io/reload-debounce': '2s' };
      assert.equal(effectivePolicy(annotations, fromRotation), fromRotation);
      assert.equal(effectivePolicy(annotations, undefined).debounceMs, 2000);
      const base = policy({ maxUnavailable: 4 });
      assert.equal(effectivePolicy(annotations, undefined, base).maxUnavailable, 4);
    });
  });
});
