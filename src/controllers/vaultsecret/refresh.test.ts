import assert from 'node:assert/strict';
import { MAX_SHARE_MS, nextRefreshAt, nextRefreshDelay, refreshPhase, sharedReadWindow } from './refresh.ts';

const MIN = 60_000;

describe('refresh slots', () => {
  it('puts every resource of one source on the same slots, whenever it last refreshed', () => {
    const phase = refreshPhase('vault\0shop/db', MIN);
    const slots = [0, 7_000, 31_500, 59_000].map((last) => nextRefreshAt(10 * MIN + last, MIN, phase));
    assert.equal(new Set(slots.map((s) => (s - phase) % MIN)).size, 1, 'one phase');
    for (const s of slots) assert.ok(s > 10 * MIN && s <= 12 * MIN);
  });

  it('is never more than one interval (and the stored precision) after the last refresh', () => {
    const phase = refreshPhase('vault\0a', MIN);
    for (let last = 0; last < 3 * MIN; last += 977) {
      const at = nextRefreshAt(last, MIN, phase);
      assert.ok(at > last + 1000 && at <= last + 1000 + MIN, `last ${last}: ${at}`);
    }
  });

  it('does not refresh again at the slot just answered (lastRefreshTime keeps whole seconds)', () => {
    const phase = 10_500;
    const answeredAt = 10 * MIN + 10_700;
    const stored = Date.parse(new Date(answeredAt).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    assert.equal(nextRefreshAt(stored, MIN, phase), 11 * MIN + 10_500);
  });

  it('spreads different sources over the interval', () => {
    const phases = Array.from({ length: 100 }, (_, i) => refreshPhase(`vault\0path-${i}`, MIN));
    assert.ok(phases.every((p) => p >= 0 && p < MIN));
    assert.ok(
      new Set(phases.map((p) => Math.floor(p / 6_000))).size >= 8,
      'most tenths of the interval used',
    );
  });

  it('waits until the slot; interval 0 never refreshes', () => {
    assert.equal(nextRefreshDelay(0, MIN, 30_000, 45_000), 15_000);
    assert.equal(nextRefreshDelay(0, 0, 30_000, 0), undefined);
  });

  it('shares a read for a tenth of the interval, at most five minutes, not at all for sync-once', () => {
    assert.equal(sharedReadWindow(20_000), 2_000);
    assert.equal(sharedReadWindow(24 * 60 * MIN), MAX_SHARE_MS);
    assert.equal(sharedReadWindow(0), 0);
  });
});
