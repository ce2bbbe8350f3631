import assert from 'node:assert/strict';
import { classifyStatus, retryAfterMs, retryDelay } from './retry.ts';

describe('webhook retry schedule', () => {
  const schedule = { initialDelayMs: 1000, maxDelayMs: 60_000 };

  it('doubles from the initial delay up to the cap, jittered within [half, all]', () => {
    const low = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((a) => retryDelay(a, schedule, () => 0));
    const high = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((a) => retryDelay(a, schedule, () => 0.999999));
    assert.deepEqual(low, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    assert.deepEqual(high, [999, 1999, 3999, 7999, 15999, 31999, 59999, 59999, 59999]);
    assert.equal(
      retryDelay(3, schedule, () => 0.5),
      3000,
    );
  });

  it('spreads delays with the random source and never exceeds the cap or drops below half the base', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const seen = new Set<number>();
    for (let attempt = 1; attempt <= 50; attempt++) {
      for (let i = 0; i < 20; i++) {
        const d = retryDelay(attempt, schedule, random);
        const exp = Math.min(60_000, 1000 * 2 ** (attempt - 1));
        assert.ok(d >= exp / 2 && d <= exp, `attempt ${attempt}: ${d}`);
        seen.add(d);
      }
    }
    assert.ok(seen.size > 100, 'jittered');
  });

  it('treats a cap below the initial delay as the initial delay', () => {
    assert.equal(
      retryDelay(5, { initialDelayMs: 2000, maxDelayMs: 10 }, () => 0.999999),
      1999,
    );
  });

  it('retries 408, 425, 429 and 5xx; delivers 2xx; rejects the rest', () => {
    for (const s of [200, 201, 202, 204, 299]) assert.equal(classifyStatus(s), 'delivered', String(s));
    for (const s of [408, 425, 429, 500, 502, 503, 504, 599])
      assert.equal(classifyStatus(s), 'retry', String(s));
    for (const s of [0, 100, 301, 302, 304, 400, 401, 403, 404, 410, 413, 422, 600]) {
      assert.equal(classifyStatus(s), 'rejected', String(s));
    }
  });

  it('reads Retry-After as seconds or an HTTP date, capped', () => {
    const now = Date.UTC(2030, 0, 1);
    assert.equal(retryAfterMs('7', now, 60_000), 7000);
    assert.equal(retryAfterMs('3600', now, 60_000), 60_000);
    assert.equal(retryAfterMs(new Date(now + 12_000).toUTCString(), now, 60_000), 12_000);
    assert.equal(retryAfterMs(new Date(now - 12_000).toUTCString(), now, 60_000), 0);
    assert.equal(retryAfterMs(undefined, now, 60_000), undefined);
    assert.equal(retryAfterMs('soon', now, 60_000), undefined);
    assert.equal(retryAfterMs('-5', now, 60_000), undefined);
  });
});
