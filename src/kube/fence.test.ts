import assert from 'node:assert/strict';
import { FakeClock } from './fake-clock.ts';
import { LeadershipFence, NotLeaderError, isNotLeader, openFence } from './fence.ts';

/** A fence on a fake monotonic clock; `pause(ms)` moves time without running timers (SIGSTOP). */
function fenceOn(clock = new FakeClock(0), renewDeadlineMs = 4000) {
  let paused = 0;
  const fence = new LeadershipFence({
    renewDeadlineMs,
    now: () => clock.now() + paused,
    after: (ms, fn) => clock.after(ms, fn),
  });
  return { fence, clock, pause: (ms: number) => (paused += ms) };
}

describe('leadership fence', () => {
  it('is not held before the Lease was first acquired', () => {
    const { fence } = fenceOn();
    assert.equal(fence.held(), false);
    assert.throws(() => fence.assertHeld(), NotLeaderError);
    assert.equal(fence.signal.aborted, false, 'nothing to abort yet');
  });

  it('is held from a renewal until renewDeadline after the start of that renewal', () => {
    const { fence, clock } = fenceOn();
    const at = fence.now();
    clock.advance(300); // the renewal took 300 ms
    fence.renewed(at);
    fence.assertHeld();
    clock.advance(3699);
    assert.equal(fence.held(), true);
    assert.equal(fence.signal.aborted, false);
    clock.advance(1);
    assert.equal(fence.held(), false);
    assert.ok(fence.signal.aborted, 'the timer aborted the signal at the deadline');
    assert.ok(isNotLeader(fence.signal.reason));
    assert.throws(
      () => fence.assertHeld(),
      /refusing to write: not the leader \(no Lease renewal for 4000 ms/,
    );
  });

  it('each renewal moves the deadline', () => {
    const { fence, clock } = fenceOn();
    for (let i = 0; i < 10; i++) {
      fence.renewed(fence.now());
      clock.advance(1000);
    }
    assert.equal(fence.held(), true);
    clock.advance(3000);
    assert.equal(fence.held(), false);
  });

  it('a renewal that comes back after the deadline does not bring it back', () => {
    const { fence, clock } = fenceOn();
    fence.renewed(fence.now());
    const at = fence.now();
    clock.advance(5000);
    fence.renewed(at);
    assert.equal(fence.held(), false);
    fence.renewed(fence.now()); // even a fresh one: once lost, a fence stays lost
    assert.equal(fence.held(), false);
  });

  it('is lost at once when the elector steps down or sees another holder', () => {
    const { fence } = fenceOn();
    fence.renewed(fence.now());
    fence.lose('the Lease is held by replica-b');
    assert.equal(fence.held(), false);
    assert.ok(fence.signal.aborted);
    assert.throws(() => fence.assertHeld(), /the Lease is held by replica-b/);
  });

  it('refuses at the first write after a pause past the deadline, before any timer ran', () => {
    const { fence, clock, pause } = fenceOn();
    fence.renewed(fence.now());
    clock.advance(1000);
    pause(30_000); // SIGSTOP for 30 s: the monotonic clock ran on, no timer fired
    assert.equal(clock.pendingTimers(), 1, 'the deadline timer has not fired');
    assert.equal(fence.signal.aborted, false);
    assert.throws(() => fence.assertHeld(), NotLeaderError);
    assert.ok(fence.signal.aborted, 'the check itself aborted what is in flight');
  });

  it('the open fence (no leader election) is always held', () => {
    openFence.assertHeld();
    assert.equal(openFence.signal.aborted, false);
  });
});
