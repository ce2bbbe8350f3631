import assert from 'node:assert/strict';
import { batchPaths, openLoop, outcomeOf, phaseStats, requestCount, scheduledAt } from './api-load.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('bench api load', () => {
  it('schedules the ith request at i / rate seconds', () => {
    assert.equal(scheduledAt(0, 200), 0);
    assert.equal(scheduledAt(200, 200), 1000);
    assert.equal(scheduledAt(3, 200), 15);
    assert.equal(requestCount(200, 60), 12_000);
  });

  it('starts requests on schedule while earlier ones are still out (open loop)', async () => {
    let inFlight = 0;
    let peak = 0;
    const samples = await openLoop(500, 20, async () => {
      peak = Math.max(peak, ++inFlight);
      await sleep(50);
      inFlight--;
      return 'ok';
    });
    assert.equal(samples.length, 20);
    // 20 requests 2 ms apart, each taking 50 ms: a closed loop would never have two out.
    assert.ok(peak >= 10, `peak concurrency ${peak}`);
  });

  it('charges a server that serves one at a time for the queue it builds', async () => {
    let busy = Promise.resolve();
    const samples = await openLoop(1000, 20, () => {
      const done = busy.then(() => sleep(10)).then(() => 'ok');
      busy = done.then(() => undefined);
      return done;
    });
    const stats = phaseStats(samples);
    // The 20th is scheduled at 19 ms and answered after 20 × 10 ms: ~180 ms late, not ~10 ms.
    assert.ok((stats.maxMs ?? 0) >= 150, `max ${stats.maxMs} ms`);
    assert.ok((stats.achievedRate ?? Infinity) < 120, `achieved ${stats.achievedRate}/s`);
  });

  it('does not send a start that finds the backlog full, and counts it as an error', async () => {
    const samples = await openLoop(1000, 10, () => sleep(100).then(() => 'ok'), 4);
    const stats = phaseStats(samples);
    assert.equal(stats.scheduled, 10);
    assert.equal(stats.sent, 4);
    assert.deepEqual(stats.errorsByKind, { backlog: 6 });
    assert.ok((stats.p50Ms ?? 0) >= 90, 'latencies are those of the requests sent');
  });

  it('counts failures by kind, a thrown request as transport', async () => {
    const samples = await openLoop(1000, 6, async (i) => {
      if (i === 0) throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      return ['ok', '429', 'wrong value'][i % 3]!;
    });
    const stats = phaseStats(samples);
    assert.equal(stats.sent, 6);
    assert.equal(stats.errors, 5);
    assert.deepEqual(stats.errorsByKind, { 'transport ECONNRESET': 1, '429': 2, 'wrong value': 2 });
  });

  it('takes each batch’s paths in turn, wrapping around the bench paths', () => {
    assert.deepEqual(batchPaths(0, 3, 7), ['p0', 'p1', 'p2']);
    assert.deepEqual(batchPaths(2, 3, 7), ['p6', 'p0', 'p1']);
    assert.equal(new Set(batchPaths(5, 100, 1000)).size, 100);
  });

  it('judges an answer by its status, then by its values', () => {
    const right = (b: unknown) => (b as { v?: string }).v === 'x';
    assert.equal(outcomeOf({ status: 200, body: { v: 'x' } }, right), 'ok');
    assert.equal(outcomeOf({ status: 200, body: { v: 'y' } }, right), 'wrong value');
    assert.equal(outcomeOf({ status: 503, body: { v: 'x' } }, right), '503');
  });
});
