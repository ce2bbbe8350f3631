import assert from 'node:assert/strict';
import { KeyedBackoff, exponentialDelay, jitter, nextDelay } from './backoff.ts';

const fixed = (v: number) => () => v;

describe('backoff', () => {
  describe('nextDelay', () => {
    const opts = { baseMs: 100, capMs: 1000, jitter: 'none' as const };

    it('doubles per failure from the base', () => {
      assert.deepEqual(
        [1, 2, 3, 4].map((n) => nextDelay(n, opts, Math.random)),
        [100, 200, 400, 800],
      );
    });

    it('never exceeds the cap, even after very many failures', () => {
      assert.equal(nextDelay(5, opts, Math.random), 1000);
      assert.equal(nextDelay(10_000, opts, Math.random), 1000);
      assert.equal(exponentialDelay(5000, 1, 60_000), 60_000);
    });

    it('is zero when nothing failed', () => {
      assert.equal(nextDelay(0, opts, Math.random), 0);
    });

    it('full jitter stays within [0, exponential]', () => {
      const full = { ...opts, jitter: 'full' as const };
      assert.equal(nextDelay(3, full, fixed(0)), 0);
      assert.equal(nextDelay(3, full, fixed(0.5)), 200);
      assert.ok(nextDelay(3, full, fixed(0.999999)) <= 400);
    });

    it('decorrelated jitter stays within [base, min(cap, 3 × previous)]', () => {
      const dec = { ...opts, jitter: 'decorrelated' as const };
      assert.equal(nextDelay(1, dec, fixed(0)), 100);
      assert.equal(nextDelay(2, dec, fixed(0.999999), 200), 599);
      assert.equal(nextDelay(9, dec, fixed(0.999999), 900), 1000);
    });
  });

  describe('jitter', () => {
    it('shortens a duration by at most the fraction, never lengthens it', () => {
      assert.equal(jitter(1000, 0.1, fixed(0)), 1000);
      assert.equal(jitter(1000, 0.1, fixed(0.5)), 950);
      assert.ok(jitter(1000, 0.1, fixed(0.999999)) >= 900);
    });

    it('leaves zero and negative durations alone', () => {
      assert.equal(jitter(0, 0.5, fixed(0.5)), 0);
      assert.equal(jitter(-5, 0.5, fixed(0.5)), 0);
    });
  });

  describe('KeyedBackoff', () => {
    it('grows per key independently and resets on forget', () => {
      const b = new KeyedBackoff({ baseMs: 10, capMs: 1000, jitter: 'none' });
      assert.deepEqual([b.when('a'), b.when('a'), b.when('a')], [10, 20, 40]);
      assert.equal(b.when('b'), 10);
      assert.equal(b.failures('a'), 3);
      b.forget('a');
      assert.equal(b.failures('a'), 0);
      assert.equal(b.when('a'), 10);
    });
  });
});
