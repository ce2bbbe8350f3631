import assert from 'node:assert/strict';
import { FakeClock } from '../kube/fake-clock.ts';
import { Coalescer } from './coalesce.ts';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Coalescer', () => {
  it('runs one request for N concurrent callers of one key', async () => {
    const c = new Coalescer<string>({ clock: new FakeClock() });
    const d = deferred<string>();
    let calls = 0;
    let shared = 0;
    const fn = () => {
      calls++;
      return d.promise;
    };
    const all = Array.from({ length: 50 }, () => c.run('k', fn, undefined, () => shared++));
    d.resolve('value');
    assert.deepEqual(new Set(await Promise.all(all)), new Set(['value']));
    assert.equal(calls, 1);
    assert.equal(shared, 49);
    assert.equal(c.inflight, 0);
  });

  it('keeps different keys apart', async () => {
    const c = new Coalescer<string>({ clock: new FakeClock() });
    let calls = 0;
    const fn = async () => `v${++calls}`;
    const [a, b] = await Promise.all([c.run('a', fn), c.run('b', fn)]);
    assert.notEqual(a, b);
    assert.equal(calls, 2);
  });

  it('shares a failure but does not keep it', async () => {
    const c = new Coalescer<string>({ clock: new FakeClock(), ttlMs: 10_000 });
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error('boom');
    };
    const results = await Promise.allSettled([c.run('k', failing), c.run('k', failing)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.equal(calls, 1);
    await assert.rejects(c.run('k', failing));
    assert.equal(calls, 2);
  });

  it('without a TTL, starts a new request once the previous one finished', async () => {
    const c = new Coalescer<number>({ clock: new FakeClock() });
    let calls = 0;
    const fn = async () => ++calls;
    assert.equal(await c.run('k', fn), 1);
    assert.equal(await c.run('k', fn), 2);
  });

  it('with a TTL, serves sequential callers from the kept result until it expires', async () => {
    const clock = new FakeClock();
    const c = new Coalescer<number>({ clock, ttlMs: 1000 });
    let calls = 0;
    const fn = async () => ++calls;
    assert.equal(await c.run('k', fn), 1);
    await clock.advanceAsync(999);
    assert.equal(await c.run('k', fn), 1);
    await clock.advanceAsync(1);
    assert.equal(await c.run('k', fn), 2);
  });

  it("serves a kept result to a caller whose maxAgeMs covers its age, and reads for one whose doesn't", async () => {
    const clock = new FakeClock();
    const c = new Coalescer<number>({ clock });
    let calls = 0;
    const fn = async () => ++calls;
    assert.equal(await c.run('k', fn, undefined, undefined, 2_000), 1);
    await clock.advanceAsync(1_999);
    assert.equal(await c.run('k', fn, undefined, undefined, 2_000), 1, 'within the window');
    assert.equal(await c.run('k', fn, undefined, undefined, 1_000), 2, 'older than this caller takes');
    await clock.advanceAsync(2_000);
    assert.equal(await c.run('k', fn, undefined, undefined, 2_000), 3);
    const floored = new Coalescer<number>({ clock, ttlMs: 5_000 });
    await floored.run('k', fn);
    await clock.advanceAsync(4_000);
    assert.equal(await floored.run('k', fn, undefined, undefined, 1_000), 4, 'the configured TTL is a floor');
  });

  it('gives a caller with maxAgeMs 0 a fresh read: no kept result, no request started before it', async () => {
    const clock = new FakeClock();
    const c = new Coalescer<number>({ clock });
    let calls = 0;
    assert.equal(await c.run('k', async () => ++calls), 1);
    const d = deferred<number>();
    await clock.advanceAsync(10);
    const older = c.run('k', () => (calls++, d.promise), undefined, undefined, 1);
    await clock.advanceAsync(10);
    const fresh = c.run('k', async () => ++calls + 100, undefined, undefined, 0);
    assert.equal(await fresh, 103);
    d.resolve(2);
    assert.equal(await older, 2);
    assert.equal(
      await c.run('k', async () => ++calls, undefined, undefined, 60_000),
      103,
      'the newer answer is kept',
    );
  });

  it('without a TTL, still joins a request in flight that started earlier', async () => {
    const clock = new FakeClock();
    const c = new Coalescer<number>({ clock });
    let calls = 0;
    const d = deferred<number>();
    const first = c.run('k', () => (calls++, d.promise));
    await clock.advanceAsync(50);
    const second = c.run('k', async () => ++calls);
    d.resolve(1);
    assert.deepEqual(await Promise.all([first, second]), [1, 1]);
    assert.equal(calls, 1);
  });

  it('keeps no result longer than maxKeepMs, whatever a caller asks', async () => {
    const clock = new FakeClock();
    const c = new Coalescer<number>({ clock, maxKeepMs: 1_000 });
    let calls = 0;
    const fn = async () => ++calls;
    await c.run('k', fn, undefined, undefined, 60_000);
    await clock.advanceAsync(1_000);
    assert.equal(await c.run('k', fn, undefined, undefined, 60_000), 2);
  });

  it('invalidate drops kept results and stops sharing a request in flight', async () => {
    const clock = new FakeClock();
    const c = new Coalescer<number>({ clock, ttlMs: 60_000 });
    let calls = 0;
    const d = deferred<number>();
    const first = c.run('path\0a', () => (calls++, d.promise));
    c.invalidate('path\0');
    const second = c.run('path\0a', async () => (calls++, 2));
    d.resolve(1);
    assert.equal(await first, 1);
    assert.equal(await second, 2);
    // The stale result was not kept; the fresh one was.
    assert.equal(await c.run('path\0a', async () => (calls++, 3)), 2);
    assert.equal(calls, 2);
  });

  it('invalidateWhere drops only the kept results whose key passes the test', async () => {
    const c = new Coalescer<number>({ clock: new FakeClock(), ttlMs: 60_000 });
    let calls = 0;
    const run = (key: string) => c.run(key, async () => ++calls);
    await run('team-a/\0x');
    await run('team-b/\0x');
    c.invalidateWhere((key) => 'team-a/db'.startsWith(key.slice(0, key.indexOf('\0'))));
    assert.equal(await run('team-a/\0x'), 3, 'listed again');
    assert.equal(await run('team-b/\0x'), 2, 'kept');
  });

  it('lets one caller give up without cancelling the others', async () => {
    const c = new Coalescer<string>({ clock: new FakeClock() });
    const d = deferred<string>();
    let innerSignal: AbortSignal | undefined;
    const fn = (s: AbortSignal) => {
      innerSignal = s;
      return d.promise;
    };
    const quitter = new AbortController();
    const a = c.run('k', fn, quitter.signal);
    const b = c.run('k', fn, new AbortController().signal);
    quitter.abort(new Error('gave up'));
    await assert.rejects(a, /gave up/);
    assert.equal(innerSignal?.aborted, false);
    d.resolve('v');
    assert.equal(await b, 'v');
  });

  it('aborts the shared request when every caller gave up', async () => {
    const c = new Coalescer<string>({ clock: new FakeClock() });
    let innerSignal: AbortSignal | undefined;
    const fn = (s: AbortSignal) => {
      innerSignal = s;
      return new Promise<string>((_, reject) => s.addEventListener('abort', () => reject(s.reason)));
    };
    const x = new AbortController();
    const y = new AbortController();
    const a = c.run('k', fn, x.signal);
    const b = c.run('k', fn, y.signal);
    x.abort(new Error('x'));
    await assert.rejects(a, /x/);
    assert.equal(innerSignal?.aborted, false);
    y.abort(new Error('y'));
    await assert.rejects(b, /y/);
    await new Promise((r) => setImmediate(r));
    assert.equal(innerSignal?.aborted, true);
    assert.equal(c.inflight, 0);
  });
});
