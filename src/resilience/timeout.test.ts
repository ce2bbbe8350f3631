import assert from 'node:assert/strict';
import { FakeClock } from '../kube/fake-clock.ts';
import { withTimeout } from './timeout.ts';

const hang = (seen: AbortSignal[]) => (signal: AbortSignal) => {
  seen.push(signal);
  return new Promise<never>(() => undefined);
};

describe('withTimeout', () => {
  it('answers what the call answers and leaves no timer behind', async () => {
    const clock = new FakeClock();
    assert.equal(
      await withTimeout(
        clock,
        100,
        undefined,
        () => new Error('late'),
        async () => 'ok',
      ),
      'ok',
    );
    assert.equal(clock.pendingTimers(), 0);
  });

  it('aborts the call and settles with timedOut() when the time is up, even if the call ignores it', async () => {
    const clock = new FakeClock();
    const seen: AbortSignal[] = [];
    const late = new Error('late');
    const rejected = assert.rejects(
      withTimeout(clock, 100, undefined, () => late, hang(seen)),
      (err: unknown) => err === late,
    );
    await clock.advanceAsync(99);
    assert.equal(seen[0]?.aborted, false);
    await clock.advanceAsync(1);
    await rejected;
    assert.equal(seen[0]?.reason, late);
  });

  it('passes the outer abort reason through, and without a timeout waits for it alone', async () => {
    const clock = new FakeClock();
    const outer = new AbortController();
    const pending = withTimeout(clock, undefined, outer.signal, () => new Error('late'), hang([]));
    assert.equal(clock.pendingTimers(), 0);
    const reason = new Error('caller left');
    outer.abort(reason);
    await assert.rejects(pending, (err: unknown) => err === reason);
  });

  it('does not start a call whose caller already gave up', async () => {
    const outer = new AbortController();
    outer.abort(new Error('gone'));
    let started = false;
    await assert.rejects(
      withTimeout(
        new FakeClock(),
        100,
        outer.signal,
        () => new Error('late'),
        async () => (started = true),
      ),
    );
    assert.equal(started, false);
  });
});
