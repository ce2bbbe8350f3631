import assert from 'node:assert/strict';
import { FakeClock, settle } from '../kube/fake-clock.ts';
import { ReceiverDispatcher, type DispatcherOptions, type QueuedEvent } from './dispatcher.ts';
import type { AttemptResult, DeliveryOutcome, WebhookMetrics } from './metrics.ts';
import { HEADERS, verifySignature } from './signature.ts';
import type { DeliveryRequest, DeliveryResponse } from './transport.ts';

const KEY = 'dispatcher-test-key';

class RecordingMetrics implements WebhookMetrics {
  depth: number[] = [];
  drops: string[] = [];
  deliveries: { event: string; outcome: DeliveryOutcome }[] = [];
  attempts: { result: AttemptResult; seconds: number }[] = [];
  queueDepth(_r: string, n: number) {
    this.depth.push(n);
  }
  dropped(_r: string, event: string) {
    this.drops.push(event);
  }
  delivery(_r: string, event: string, outcome: DeliveryOutcome) {
    this.deliveries.push({ event, outcome });
  }
  attempt(_r: string, result: AttemptResult, seconds: number) {
    this.attempts.push({ result, seconds });
  }
}

type Reply = DeliveryResponse | Error | 'hang';

/**
 * A receiver in memory: answers each request with the next scripted reply (the last one
 * repeats), checks every signature, and records what it got.
 */
class FakeReceiver {
  readonly requests: (DeliveryRequest & { at: number; verified: boolean })[] = [];
  #replies: Reply[];
  readonly #clock: FakeClock;
  constructor(clock: FakeClock, replies: Reply[]) {
    this.#clock = clock;
    this.#replies = replies;
  }
  script(replies: Reply[]) {
    this.#replies = replies;
  }
  send = (req: DeliveryRequest): Promise<DeliveryResponse> => {
    const verified = verifySignature({
      key: KEY,
      body: req.body,
      signature: req.headers[HEADERS.signature],
      timestamp: req.headers[HEADERS.timestamp],
      now: this.#clock.now(),
    }).ok;
    this.requests.push({ ...req, at: this.#clock.now(), verified });
    const reply = this.#replies.length > 1 ? this.#replies.shift()! : this.#replies[0]!;
    if (reply === 'hang') {
      // Like a real socket: only the abort signal ends it.
      return new Promise((_resolve, reject) =>
        req.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    }
    return reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply);
  };
  ids() {
    return this.requests.map((r) => r.headers[HEADERS.eventId]);
  }
}

function setup(replies: Reply[], opts: Partial<DispatcherOptions> = {}) {
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  const receiver = new FakeReceiver(clock, replies);
  const metrics = new RecordingMetrics();
  const dispatcher = new ReceiverDispatcher({
    name: 'test',
    url: 'http://receiver.invalid/hook',
    queueSize: 10,
    timeoutMs: 5000,
    maxAttempts: 5,
    retry: { initialDelayMs: 1000, maxDelayMs: 60_000 },
    signingKey: () => KEY,
    transport: receiver.send,
    clock,
    random: () => 0.999999, // delays at the top of the jitter range: 999, 1999, 3999, ...
    metrics,
    ...opts,
  });
  return { clock, receiver, metrics, dispatcher };
}

const event = (n: number, type = 'synced'): QueuedEvent => ({
  id: `id-${n}`,
  type,
  body: JSON.stringify({ id: `id-${n}`, type, n }),
});

const ok: DeliveryResponse = { status: 204 };

describe('webhook ReceiverDispatcher', () => {
  it('delivers a signed event with its id, type and attempt in headers', async () => {
    const { receiver, metrics, dispatcher, clock } = setup([ok]);
    dispatcher.enqueue(event(1));
    await settle();
    assert.equal(receiver.requests.length, 1);
    const r = receiver.requests[0]!;
    assert.equal(r.verified, true);
    assert.equal(r.body, event(1).body);
    assert.equal(r.headers[HEADERS.eventId], 'id-1');
    assert.equal(r.headers[HEADERS.event], 'synced');
    assert.equal(r.headers[HEADERS.attempt], '1');
    assert.equal(r.headers[HEADERS.timestamp], String(Math.floor(clock.now() / 1000)));
    assert.equal(r.headers['Content-Type'], 'application/json');
    assert.deepEqual(metrics.deliveries, [{ event: 'synced', outcome: 'delivered' }]);
    assert.deepEqual(
      metrics.attempts.map((a) => a.result),
      ['2xx'],
    );
    assert.equal(dispatcher.depth, 0);
    assert.equal(metrics.depth.at(-1), 0);
  });

  it('retries a receiver answering 500 after the backoff, then delivers on 200 (same id, new signature)', async () => {
    const { receiver, metrics, dispatcher, clock } = setup([
      { status: 500 },
      { status: 500 },
      { status: 200 },
    ]);
    const start = clock.now();
    dispatcher.enqueue(event(1));
    await settle();
    assert.equal(receiver.requests.length, 1);
    await clock.advanceAsync(998);
    assert.equal(receiver.requests.length, 1, 'not before the first backoff (999 ms)');
    await clock.advanceAsync(1);
    assert.equal(receiver.requests.length, 2);
    await clock.advanceAsync(1998);
    assert.equal(receiver.requests.length, 2, 'second backoff is twice as long');
    await clock.advanceAsync(1);
    assert.equal(receiver.requests.length, 3);
    assert.deepEqual(
      receiver.requests.map((r) => r.at - start),
      [0, 999, 999 + 1999],
    );
    assert.deepEqual(
      receiver.requests.map((r) => r.headers[HEADERS.attempt]),
      ['1', '2', '3'],
    );
    assert.deepEqual(receiver.ids(), ['id-1', 'id-1', 'id-1']);
    assert.ok(receiver.requests.every((r) => r.verified));
    assert.notEqual(
      receiver.requests[0]!.headers[HEADERS.timestamp],
      receiver.requests[2]!.headers[HEADERS.timestamp],
    );
    assert.deepEqual(
      metrics.attempts.map((a) => a.result),
      ['5xx', '5xx', '2xx'],
    );
    assert.deepEqual(metrics.deliveries, [{ event: 'synced', outcome: 'delivered' }]);
  });

  it('aborts an attempt at the timeout, counts it, and retries', async () => {
    const { receiver, metrics, dispatcher, clock } = setup(['hang', ok], { timeoutMs: 2000 });
    dispatcher.enqueue(event(1));
    await settle();
    assert.equal(receiver.requests.length, 1);
    await clock.advanceAsync(1999);
    assert.deepEqual(metrics.attempts, [], 'still waiting for the receiver');
    await clock.advanceAsync(1);
    assert.deepEqual(metrics.attempts, [{ result: 'timeout', seconds: 2 }]);
    assert.equal(receiver.requests[0]!.signal.aborted, true);
    await clock.advanceAsync(999);
    assert.equal(receiver.requests.length, 2);
    assert.deepEqual(metrics.deliveries, [{ event: 'synced', outcome: 'delivered' }]);
  });

  it('times out even a transport that ignores the abort signal', async () => {
    const { receiver, metrics, dispatcher, clock } = setup([ok], { timeoutMs: 1000 });
    let calls = 0;
    const never = (req: DeliveryRequest) =>
      ++calls === 1 ? new Promise<DeliveryResponse>(() => {}) : receiver.send(req);
    const d = new ReceiverDispatcher({
      name: 'deaf',
      url: 'http://x.invalid',
      queueSize: 5,
      timeoutMs: 1000,
      maxAttempts: 3,
      retry: { initialDelayMs: 100, maxDelayMs: 100 },
      signingKey: () => KEY,
      transport: never,
      clock,
      metrics,
    });
    void dispatcher;
    d.enqueue(event(1));
    await clock.advanceAsync(1000);
    assert.deepEqual(
      metrics.attempts.map((a) => a.result),
      ['timeout'],
    );
    await clock.advanceAsync(100);
    assert.deepEqual(metrics.deliveries, [{ event: 'synced', outcome: 'delivered' }]);
  });

  it('counts network errors, honours Retry-After, gives up after maxAttempts', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const { receiver, metrics, dispatcher, clock } = setup(
      [refused, { status: 429, retryAfter: '30' }, { status: 503 }],
      { maxAttempts: 3 },
    );
    const start = clock.now();
    dispatcher.enqueue(event(1, 'rotated'));
    await clock.advanceAsync(999);
    assert.equal(receiver.requests.length, 2);
    await clock.advanceAsync(29_999);
    assert.equal(receiver.requests.length, 2, 'Retry-After: 30 is longer than the backoff');
    await clock.advanceAsync(1);
    assert.equal(receiver.requests.length, 3);
    assert.equal(receiver.requests[2]!.at - start, 999 + 30_000);
    await clock.advanceAsync(120_000);
    assert.equal(receiver.requests.length, 3, 'no fourth attempt');
    assert.deepEqual(
      metrics.attempts.map((a) => a.result),
      ['error', '4xx', '5xx'],
    );
    assert.deepEqual(metrics.deliveries, [{ event: 'rotated', outcome: 'failed' }]);
    assert.equal(dispatcher.depth, 0);
  });

  it('does not retry a 4xx such as 400 or 401', async () => {
    const { receiver, metrics, dispatcher, clock } = setup([{ status: 401 }, ok]);
    dispatcher.enqueue(event(1));
    dispatcher.enqueue(event(2));
    await clock.advanceAsync(10_000);
    assert.deepEqual(receiver.ids(), ['id-1', 'id-2']);
    assert.deepEqual(
      metrics.deliveries.map((d) => d.outcome),
      ['rejected', 'delivered'],
    );
  });

  it('delivers in order, one at a time', async () => {
    const { receiver, dispatcher, clock } = setup([{ status: 500 }, ok]);
    for (let n = 1; n <= 4; n++) dispatcher.enqueue(event(n));
    await clock.advanceAsync(10_000);
    assert.deepEqual(receiver.ids(), ['id-1', 'id-1', 'id-2', 'id-3', 'id-4']);
  });

  it('keeps at most queueSize waiting while the receiver is stuck, dropping (and counting) the oldest', async () => {
    const { receiver, metrics, dispatcher, clock } = setup(['hang'], { queueSize: 3, timeoutMs: 60_000 });
    dispatcher.enqueue(event(1));
    await settle();
    for (let n = 2; n <= 10; n++) dispatcher.enqueue(event(n, n % 2 ? 'synced' : 'sync_failed'));
    // id-1 is in flight (stuck); of the 9 behind it, only the newest 3 wait.
    assert.equal(receiver.requests.length, 1);
    assert.equal(dispatcher.depth, 4);
    assert.equal(metrics.drops.length, 6);
    assert.deepEqual(metrics.drops, [
      'sync_failed',
      'synced',
      'sync_failed',
      'synced',
      'sync_failed',
      'synced',
    ]);
    assert.ok(Math.max(...metrics.depth) <= 4, 'the gauge never exceeds queueSize + 1');
    receiver.script([ok]);
    await clock.advanceAsync(120_000);
    assert.deepEqual(receiver.ids(), ['id-1', 'id-1', 'id-8', 'id-9', 'id-10']);
    assert.equal(dispatcher.depth, 0);
    assert.equal(metrics.depth.at(-1), 0);
  });

  it('enqueue returns at once and does no I/O, even with a dead receiver and a full queue', async () => {
    const { receiver, dispatcher } = setup(['hang'], { queueSize: 1000 });
    const started = performance.now();
    for (let n = 0; n < 50_000; n++) dispatcher.enqueue(event(n));
    const ms = performance.now() - started;
    assert.equal(receiver.requests.length, 0, 'nothing sent inside enqueue');
    assert.ok(ms < 500, `50,000 enqueues took ${ms.toFixed(1)} ms`);
    await settle();
    assert.equal(receiver.requests.length, 1);
    assert.equal(dispatcher.depth, 1000, 'one in flight, 999 waiting');
  });

  it('close() delivers what it can within the drain time, then abandons the rest', async () => {
    const { receiver, metrics, dispatcher, clock } = setup([ok, ok, 'hang'], { timeoutMs: 60_000 });
    for (let n = 1; n <= 5; n++) dispatcher.enqueue(event(n));
    await settle();
    const closing = dispatcher.close(2000);
    dispatcher.enqueue(event(99));
    await clock.advanceAsync(2000);
    await closing;
    assert.deepEqual(receiver.ids(), ['id-1', 'id-2', 'id-3']);
    assert.deepEqual(
      metrics.deliveries.map((d) => d.outcome),
      ['delivered', 'delivered', 'abandoned', 'abandoned', 'abandoned'],
    );
    assert.equal(receiver.requests[2]!.signal.aborted, true, 'the attempt in flight is aborted');
    assert.equal(dispatcher.depth, 0);
    assert.equal(metrics.depth.at(-1), 0);
  });

  it('close() returns at once when nothing is queued', async () => {
    const { dispatcher } = setup([ok]);
    await dispatcher.close(60_000);
  });

  it('a signing key that cannot be had fails the attempt (retried), not the loop', async () => {
    let fail = true;
    const { receiver, metrics, dispatcher, clock } = setup([ok], {
      signingKey: () => {
        if (fail) throw new Error('no key');
        return KEY;
      },
    });
    dispatcher.enqueue(event(1));
    await settle();
    assert.equal(receiver.requests.length, 0);
    fail = false;
    await clock.advanceAsync(999);
    assert.equal(receiver.requests.length, 1);
    assert.equal(receiver.requests[0]!.verified, true);
    assert.deepEqual(
      metrics.attempts.map((a) => a.result),
      ['error', '2xx'],
    );
  });
});
