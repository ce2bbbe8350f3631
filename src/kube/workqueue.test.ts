import assert from 'node:assert/strict';
import { KeyedBackoff } from './backoff.ts';
import { FakeClock } from './fake-clock.ts';
import type { WorkqueueMetrics } from './metrics.ts';
import { WorkQueue } from './workqueue.ts';

function setup() {
  const clock = new FakeClock(0);
  const queue = new WorkQueue({
    clock,
    rateLimiter: new KeyedBackoff({ baseMs: 100, capMs: 1000, jitter: 'none' }),
  });
  return { clock, queue };
}

/** Takes every key that is ready now, without waiting. */
async function takeReady(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) keys.push((await queue.get())!);
  return keys;
}

describe('WorkQueue', () => {
  it('drops a duplicate of a key that is already waiting', async () => {
    const { queue } = setup();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    assert.deepEqual(await takeReady(queue), ['ns/a', 'ns/b']);
  });

  it('holds back a key added while it is processed and queues it once after done', async () => {
    const { queue } = setup();
    queue.add('ns/a');
    const key = await queue.get();
    queue.add('ns/a');
    queue.add('ns/a');
    assert.equal(queue.len(), 0, 'not handed out a second time while processing');
    queue.done(key!);
    assert.deepEqual(await takeReady(queue), ['ns/a']);
  });

  it('never gives one key to two waiting workers at once', async () => {
    const { queue } = setup();
    const first = queue.get();
    const second = queue.get();
    queue.add('ns/a');
    queue.add('ns/a');
    assert.equal(await first, 'ns/a');
    let secondGot: string | undefined = 'pending';
    void second.then((k) => (secondGot = k));
    await new Promise((r) => setImmediate(r));
    assert.equal(secondGot, 'pending');
    queue.done('ns/a');
    assert.equal(await second, 'ns/a');
  });

  it('serves high priority keys before low priority ones', async () => {
    const { queue } = setup();
    queue.add('ns/refresh-1', { priority: 'low' });
    queue.add('ns/refresh-2', { priority: 'low' });
    queue.add('ns/new-1', { priority: 'high' });
    queue.add('ns/new-2');
    assert.deepEqual(await takeReady(queue), ['ns/new-1', 'ns/new-2', 'ns/refresh-1', 'ns/refresh-2']);
  });

  it('promotes a waiting low key to high when it is added with high priority, serving it once', async () => {
    const { queue } = setup();
    queue.add('ns/a', { priority: 'low' });
    queue.add('ns/b', { priority: 'low' });
    queue.add('ns/b', { priority: 'high' });
    assert.deepEqual(await takeReady(queue), ['ns/b', 'ns/a']);
  });

  it('keeps the higher priority for a key added again while processing', async () => {
    const { queue } = setup();
    queue.add('ns/a', { priority: 'low' });
    queue.add('ns/b', { priority: 'low' });
    const a = await queue.get();
    queue.add('ns/a', { priority: 'high' });
    queue.add('ns/a', { priority: 'low' });
    queue.done(a!);
    assert.deepEqual(await takeReady(queue), ['ns/a', 'ns/b']);
  });

  it('uses one timer for many delayed keys and adds each when due', async () => {
    const { clock, queue } = setup();
    for (let i = 0; i < 100; i++) queue.addAfter(`ns/k${i}`, 1000 + i * 10);
    assert.equal(clock.pendingTimers(), 1);
    assert.equal(queue.delayedLen(), 100);
    clock.advance(1000);
    assert.deepEqual(await takeReady(queue), ['ns/k0']);
    assert.equal(clock.pendingTimers(), 1);
    clock.advance(25);
    assert.deepEqual(await takeReady(queue), ['ns/k1', 'ns/k2']);
    clock.advance(10_000);
    assert.equal((await takeReady(queue)).length, 97);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('keeps the earlier due time when a delayed key is added again', async () => {
    const { clock, queue } = setup();
    queue.addAfter('ns/a', 500);
    queue.addAfter('ns/a', 100);
    queue.addAfter('ns/a', 900);
    assert.equal(queue.delayedLen(), 1);
    clock.advance(100);
    assert.deepEqual(await takeReady(queue), ['ns/a']);
    clock.advance(1000);
    assert.equal(queue.len(), 0, 'the superseded later entries do not fire');
    assert.equal(clock.pendingTimers(), 0);
  });

  it('addUnlessPending adds only a key with nothing pending (waiting, processing or delayed)', async () => {
    const { clock, queue } = setup();
    queue.add('ns/waiting', { priority: 'low' });
    queue.addAfter('ns/delayed', 60_000);
    queue.add('ns/held');
    assert.equal(await queue.get(), 'ns/held');
    for (const key of ['ns/waiting', 'ns/delayed', 'ns/held', 'ns/free']) {
      queue.addUnlessPending(key, { priority: 'low' });
    }
    queue.done('ns/held');
    assert.deepEqual(
      await takeReady(queue),
      ['ns/waiting', 'ns/free'],
      'held and delayed keys not brought forward',
    );
    clock.advance(60_000);
    assert.deepEqual(await takeReady(queue), ['ns/delayed'], 'the delayed key comes at its time, once');
  });

  it('adds at once when the delay is zero or negative', async () => {
    const { clock, queue } = setup();
    queue.addAfter('ns/a', 0);
    queue.addAfter('ns/b', -5);
    assert.equal(clock.pendingTimers(), 0);
    assert.deepEqual(await takeReady(queue), ['ns/a', 'ns/b']);
  });

  it('grows the per-key backoff with each rate-limited add and resets it on forget', async () => {
    const { clock, queue } = setup();
    const dueAfter = async (key: string) => {
      queue.addRateLimited(key);
      let waited = 0;
      while (queue.len() === 0) {
        clock.advance(10);
        waited += 10;
      }
      const k = await queue.get();
      queue.done(k!);
      return waited;
    };
    assert.deepEqual(
      [await dueAfter('ns/a'), await dueAfter('ns/a'), await dueAfter('ns/a')],
      [100, 200, 400],
    );
    assert.equal(queue.numRequeues('ns/a'), 3);
    assert.equal(await dueAfter('ns/other'), 100, 'other keys have their own backoff');
    queue.forget('ns/a');
    assert.equal(queue.numRequeues('ns/a'), 0);
    assert.equal(await dueAfter('ns/a'), 100);
  });

  it('waits at least a minimum delay (Retry-After) on a rate-limited add', () => {
    const { clock, queue } = setup();
    queue.addRateLimited('ns/a', { minDelayMs: 5000 });
    clock.advance(4999);
    assert.equal(queue.len(), 0);
    clock.advance(1);
    assert.equal(queue.len(), 1);
  });

  it('resolves pending gets with undefined on shutdown and ignores later adds', async () => {
    const { clock, queue } = setup();
    const waiting = queue.get();
    queue.addAfter('ns/later', 100);
    queue.shutDown();
    assert.equal(await waiting, undefined);
    queue.add('ns/a');
    assert.equal(await queue.get(), undefined);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('drain waits until keys being processed are done', async () => {
    const { queue } = setup();
    queue.add('ns/a');
    const key = await queue.get();
    queue.shutDown();
    let drained = false;
    const d = queue.drain().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false);
    queue.done(key!);
    await d;
    assert.equal(drained, true);
  });

  it('reports depth, adds, latency, work duration and retries to its metrics sink', async () => {
    const clock = new FakeClock(0);
    const seen: Record<string, number[]> = {
      depth: [],
      add: [],
      queueLatency: [],
      workDuration: [],
      retry: [],
    };
    const metrics: WorkqueueMetrics = {
      depth: (n) => seen.depth!.push(n),
      add: () => seen.add!.push(1),
      queueLatency: (s) => seen.queueLatency!.push(s),
      workDuration: (s) => seen.workDuration!.push(s),
      retry: () => seen.retry!.push(1),
    };
    const queue = new WorkQueue({ clock, metrics });
    queue.add('ns/a');
    queue.add('ns/a');
    clock.advance(2000);
    const k = await queue.get();
    clock.advance(500);
    queue.done(k!);
    queue.addRateLimited('ns/a');
    assert.deepEqual(seen.add, [1]);
    assert.deepEqual(seen.depth, [1, 0]);
    assert.deepEqual(seen.queueLatency, [2]);
    assert.deepEqual(seen.workDuration, [0.5]);
    assert.deepEqual(seen.retry, [1]);
  });

  it('keeps working when the metrics sink throws', async () => {
    const boom = () => {
      throw new Error('sink broken');
    };
    const queue = new WorkQueue({
      clock: new FakeClock(0),
      metrics: { depth: boom, add: boom, queueLatency: boom, workDuration: boom, retry: boom },
    });
    queue.add('ns/a');
    const k = await queue.get();
    queue.done(k!);
    assert.equal(k, 'ns/a');
  });
});
