import assert from 'node:assert/strict';
import { FakeClock } from '../kube/fake-clock.ts';
import { BackendError } from './errors.ts';
import { TokenBucket } from './rate-limit.ts';

/** Starts `n` acquires and records when each one got its token. */
function acquireAll(bucket: TokenBucket, clock: FakeClock, n: number, signal?: AbortSignal) {
  const start = clock.now();
  const times: (number | string)[] = [];
  const all = Array.from({ length: n }, (_, i) =>
    bucket.acquire(signal).then(
      () => {
        times[i] = clock.now() - start;
      },
      (err: unknown) => {
        times[i] = err instanceof BackendError ? `${err.code}:${err.retryAfterMs}` : 'aborted';
      },
    ),
  );
  return { times, done: Promise.all(all) };
}

describe('TokenBucket', () => {
  it('lets a burst through at once, then paces at qps', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 10, burst: 3, maxWaitMs: 10_000, clock });
    const { times, done } = acquireAll(bucket, clock, 6);
    await clock.advanceAsync(1000);
    await done;
    assert.deepEqual(times, [0, 0, 0, 100, 200, 300]);
  });

  it('refills over time up to the burst only', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 2, burst: 2, maxWaitMs: 10_000, clock });
    await bucket.acquire();
    await bucket.acquire();
    await clock.advanceAsync(60_000);
    const { times, done } = acquireAll(bucket, clock, 3);
    await clock.advanceAsync(1000);
    await done;
    assert.deepEqual(times, [0, 0, 500]);
  });

  it('answers Throttled at once when the wait would exceed maxWait', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 1, burst: 1, maxWaitMs: 1500, clock, name: 'vault' });
    const { times, done } = acquireAll(bucket, clock, 4);
    await clock.advanceAsync(5000);
    await done;
    assert.deepEqual(times, [0, 1000, 'Throttled:2000', 'Throttled:2000']);
  });

  it('after blockUntil lets nothing through before that time, then resumes at the sustained rate', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 10, burst: 10, maxWaitMs: 60_000, clock });
    bucket.blockUntil(clock.now() + 5000);
    assert.equal(bucket.blockedUntil, clock.now() + 5000);
    const { times, done } = acquireAll(bucket, clock, 3);
    await clock.advanceAsync(4999);
    assert.deepEqual(times, []);
    await clock.advanceAsync(1000);
    await done;
    assert.deepEqual(times, [5100, 5200, 5300]);
    assert.equal(bucket.blockedUntil, 0);
  });

  it('releases queued callers with Throttled when a block outlasts their maxWait', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 1, burst: 1, maxWaitMs: 2000, clock });
    await bucket.acquire();
    const { times, done } = acquireAll(bucket, clock, 1);
    bucket.blockUntil(clock.now() + 30_000);
    await done;
    assert.deepEqual(times, ['Throttled:31000']);
    await assert.rejects(
      bucket.acquire(),
      (err: unknown) => err instanceof BackendError && err.code === 'Throttled',
    );
  });

  it('lets a waiting caller abort, and the next in line take its turn', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 1, burst: 1, maxWaitMs: 10_000, clock });
    await bucket.acquire();
    const ac = new AbortController();
    const aborted = bucket.acquire(ac.signal);
    const next = bucket.acquire();
    ac.abort(new Error('cancelled'));
    await assert.rejects(aborted, /cancelled/);
    assert.equal(bucket.waiting, 1);
    await clock.advanceAsync(1000);
    await next;
    assert.equal(bucket.waiting, 0);
  });

  it('rejects waiters on close', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 1, burst: 1, maxWaitMs: 10_000, clock });
    await bucket.acquire();
    const waiting = bucket.acquire();
    bucket.close(new Error('closed'));
    await assert.rejects(waiting, /closed/);
    assert.equal(clock.pendingTimers(), 0);
  });
});
