import assert from 'node:assert/strict';
import { windowLimiter } from './limiter.ts';

describe('windowLimiter', () => {
  it('allows max calls per key and window, then refuses until the window ends', () => {
    let t = 1_000;
    const limit = windowLimiter(2, 60_000, () => t);
    assert.deepEqual(
      [limit('a'), limit('a'), limit('a'), limit('b')].map((v) => v.allowed),
      [true, true, false, true],
    );
    t += 59_000;
    assert.equal(limit('a').allowed, false);
    assert.equal(limit('a').resetMs, 1_000);
    t += 1_000;
    assert.equal(limit('a').allowed, true, 'a new window');
  });
});
