import assert from 'node:assert/strict';
import type { VaultSecret } from '../../apis/v1alpha1/index.ts';
import {
  MAX_SHARE_MS,
  lastRefreshAt,
  nextRefreshAt,
  nextRefreshDelay,
  refreshWindow,
  readsFresh,
  refreshPhase,
  refreshReason,
  sharedReadWindow,
} from './refresh.ts';

const MIN = 60_000;
const WINDOW = 6_000; // a tenth of a minute

describe('refresh slots', () => {
  it('refreshes in the last tenth of the interval after the last read, on a slot of its source', () => {
    const phase = refreshPhase('vault\0shop/db', MIN);
    assert.ok(phase >= 0 && phase < WINDOW);
    for (let last = 0; last < 3 * MIN; last += 977) {
      const at = nextRefreshAt(last, MIN, phase);
      assert.ok(at >= last + 1000 + MIN - WINDOW && at < last + 1000 + MIN, `last ${last}: ${at}`);
      assert.equal((at - phase) % WINDOW, 0, 'on a slot');
    }
  });

  it('gives resources of one source whose last reads fell in one window the same slot', () => {
    const phase = 1_234;
    const first = nextRefreshAt(10 * MIN, MIN, phase);
    // The last reads that get `first`: the window (first − gap − window, first − gap].
    const gap = MIN - WINDOW + 1000;
    assert.equal(nextRefreshAt(first - gap - WINDOW + 1, MIN, phase), first);
    assert.equal(nextRefreshAt(first - gap, MIN, phase), first);
    assert.equal(
      nextRefreshAt(first - gap + 1, MIN, phase),
      first + WINDOW,
      'the next window, the next slot',
    );
  });

  it('does not refresh again soon after a read (lastRefreshTime keeps whole seconds)', () => {
    const answeredAt = 10 * MIN + 10_700;
    const stored = Date.parse(new Date(answeredAt).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    assert.ok(nextRefreshAt(stored, MIN, 500) > answeredAt + MIN - WINDOW);
  });

  it('spreads different sources over the window', () => {
    const phases = Array.from({ length: 100 }, (_, i) => refreshPhase(`vault\0path-${i}`, MIN));
    assert.ok(phases.every((p) => p >= 0 && p < WINDOW));
    assert.ok(new Set(phases.map((p) => Math.floor(p / 600))).size >= 8, 'most tenths of the window used');
  });

  it('waits until the slot; interval 0 never refreshes', () => {
    assert.equal(nextRefreshDelay(0, MIN, 30_000, 0), 60_000 - 30_000);
    assert.equal(nextRefreshDelay(0, MIN, 30_000, 5_000), 59_000 - 30_000);
    assert.equal(nextRefreshDelay(0, 0, 30_000, 0), undefined);
  });

  it('shares a read while younger than 80 % of the interval, at most five minutes, not for sync-once', () => {
    assert.equal(sharedReadWindow(20_000), 16_000);
    assert.equal(sharedReadWindow(24 * 60 * MIN), MAX_SHARE_MS);
    assert.equal(sharedReadWindow(0), 0);
  });

  it('reads fresh after a spec change, and shares for a first read, a refresh or a drift', () => {
    const vs = {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultSecret',
      metadata: { name: 'db', namespace: 'shop', generation: 2 },
      spec: { backend: 'vault', dataFrom: [{ extract: { path: 'shop/db' } }] },
      status: { observedGeneration: 1, lastRefreshTime: '2030-01-01T00:00:00Z', conditions: [] },
    } satisfies VaultSecret as VaultSecret;
    assert.equal(readsFresh(refreshReason(vs, 0, MIN, 0, 0)), true);
    // Read by this process, its status not back from the informer yet: shared, not fresh.
    const unseen = { ...vs, status: {} } as VaultSecret;
    assert.equal(refreshReason(unseen, 0, MIN, 0, 0), 'status not seen yet');
    assert.equal(readsFresh(refreshReason(unseen, 0, MIN, 0, 0)), false);
    for (const reason of ['never read', 'not ready', 'refresh interval elapsed', 'Secret drifted', undefined])
      assert.equal(readsFresh(reason), false, String(reason));
  });

  describe('when the data was last read (reads with no news are not in status)', () => {
    const started = 10 * MIN;
    it('what this process remembers wins over an older status', () => {
      assert.equal(lastRefreshAt(1_000, 500_000, started, MIN), 500_000);
      assert.equal(lastRefreshAt(undefined, 500_000, started, MIN), 500_000);
    });
    it('never read: no time at all', () => {
      assert.equal(lastRefreshAt(undefined, undefined, started, MIN), undefined);
      assert.equal(lastRefreshAt(Number.NaN, undefined, started, MIN), undefined);
    });
    it('after a restart a recent status stands: no read until its slot', () => {
      const recorded = started - 10_000;
      assert.equal(lastRefreshAt(recorded, undefined, started, MIN), recorded);
    });
    it('after a restart an old status refreshes in the first window, at the slot, not at once', () => {
      const last = lastRefreshAt(0, undefined, started, MIN)!;
      const phase = 2_000;
      const at = nextRefreshAt(last, MIN, phase);
      assert.ok(at > started, `not at the start itself (${at - started} ms after)`);
      assert.ok(at <= started + refreshWindow(MIN) + 1_000, `within the first window (${at - started} ms)`);
      assert.equal(nextRefreshDelay(last, MIN, started, phase), at - started);
    });
    it('sync once (interval 0): the recorded time as it is', () => {
      assert.equal(lastRefreshAt(5, undefined, started, 0), 5);
    });
  });
});
