import assert from 'node:assert/strict';
import { sleep, systemClock } from './clock.ts';
import { FakeClock } from './fake-clock.ts';

describe('FakeClock', () => {
  it('fires due timers in due order and moves now() to each due time', () => {
    const clock = new FakeClock(1000);
    const seen: [string, number][] = [];
    clock.after(30, () => seen.push(['c', clock.now()]));
    clock.after(10, () => seen.push(['a', clock.now()]));
    clock.after(10, () => seen.push(['b', clock.now()]));
    clock.advance(20);
    assert.deepEqual(seen, [
      ['a', 1010],
      ['b', 1010],
    ]);
    assert.equal(clock.now(), 1020);
    clock.advance(10);
    assert.deepEqual(seen.at(-1), ['c', 1030]);
  });

  it('fires timers created by a firing timer when they fall due within the same advance', () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    clock.after(5, () => {
      seen.push(clock.now());
      clock.after(5, () => seen.push(clock.now()));
    });
    clock.advance(10);
    assert.deepEqual(seen, [5, 10]);
  });

  it('does not fire a cancelled timer', () => {
    const clock = new FakeClock(0);
    let fired = false;
    const cancel = clock.after(5, () => (fired = true));
    cancel();
    clock.advance(10);
    assert.equal(fired, false);
    assert.equal(clock.pendingTimers(), 0);
  });
});

describe('sleep', () => {
  it('resolves when the clock passes the delay', async () => {
    const clock = new FakeClock(0);
    let done = false;
    const p = sleep(clock, 100).then(() => (done = true));
    await clock.advanceAsync(99);
    assert.equal(done, false);
    await clock.advanceAsync(1);
    await p;
    assert.equal(done, true);
  });

  it('resolves early and drops its timer when the signal aborts', async () => {
    const clock = new FakeClock(0);
    const ac = new AbortController();
    const p = sleep(clock, 100, ac.signal);
    ac.abort();
    await p;
    assert.equal(clock.pendingTimers(), 0);
  });
});

describe('systemClock', () => {
  it('does not fire at once for delays beyond setTimeout’s 2^31 ms limit', async () => {
    let fired = false;
    const cancel = systemClock.after(2 ** 31 + 10_000, () => (fired = true));
    await new Promise((r) => setTimeout(r, 50));
    cancel();
    assert.equal(fired, false);
  });
});
