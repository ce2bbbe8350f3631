import assert from 'node:assert/strict';
import { KubeError } from './errors.ts';
import { type WatchEnd, judgeWatchEnd } from './watch-outcome.ts';
import { apiError } from './testing.ts';

const end = (e: Partial<WatchEnd>): WatchEnd => ({ events: 3, connected: true, durationMs: 60_000, ...e });
const clientTimeout = new KubeError({ code: 'Timeout', status: 0, reason: 'Timeout', message: 'Timeout' });

describe('judgeWatchEnd', () => {
  it('watches again after a stop, a long clean close, or client-node inactivity on an accepted watch', () => {
    for (const e of [
      end({ reason: 'stop', events: 0, durationMs: 0 }),
      end({}),
      end({ err: clientTimeout }),
    ]) {
      const v = judgeWatchEnd(e, 1);
      assert.equal(v.relist, false);
      assert.equal(v.error, undefined);
      assert.equal(v.quickGones, 1, 'left as it was');
    }
  });

  it('replaces a stuck accepted watch at once with a relist; backs off when it never connected', () => {
    const stuck = judgeWatchEnd(end({ reason: 'watchdog' }), 0);
    assert.deepEqual(stuck, { relist: true, quickGones: 0, replacedStuck: true });
    const never = judgeWatchEnd(end({ reason: 'watchdog', connected: false, durationMs: 360_000 }), 0);
    assert.equal(never.relist, true);
    assert.equal(never.error?.code, 'Timeout');
    assert.equal(never.error?.message, 'Timeout: watch not established after 360000 ms');
  });

  it('relists at once after 410 Gone, but backs off when it comes right after a list twice in a row', () => {
    const late = judgeWatchEnd(end({ err: apiError(410, 'Expired'), durationMs: 5000 }), 3);
    assert.deepEqual(late, { relist: true, quickGones: 0, replacedStuck: false, error: undefined });
    const quick1 = judgeWatchEnd(end({ err: apiError(410, 'Expired'), durationMs: 10 }), 0);
    assert.equal(quick1.quickGones, 1);
    assert.equal(quick1.error, undefined);
    const quick2 = judgeWatchEnd(end({ err: apiError(410, 'Expired'), durationMs: 10 }), 1);
    assert.equal(quick2.quickGones, 2);
    assert.equal(quick2.relist, true);
    assert.equal(quick2.error?.code, 'Gone');
  });

  it('backs off after a server ERROR event, any other error, and a watch closed at once without events', () => {
    const server = judgeWatchEnd(end({ err: apiError(504, 'Timeout'), serverError: true }), 0);
    assert.equal(server.error?.code, 'Timeout');
    assert.equal(server.relist, false, 'the ERROR event itself asked for the relist');
    const other = judgeWatchEnd(end({ err: apiError(500, 'InternalError') }), 0);
    assert.ok(other.error !== undefined && other.error.code !== 'Gone');
    const timeoutUnaccepted = judgeWatchEnd(end({ err: clientTimeout, connected: false }), 0);
    assert.equal(timeoutUnaccepted.error?.code, 'Timeout', 'a watch that was never accepted backs off');
    const closed = judgeWatchEnd(end({ events: 0, durationMs: 999 }), 0);
    assert.equal(closed.error?.message, 'Unavailable: watch closed at once');
    assert.equal(judgeWatchEnd(end({ events: 1, durationMs: 10 }), 0).error, undefined);
  });
});
