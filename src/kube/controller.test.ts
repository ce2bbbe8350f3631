import assert from 'node:assert/strict';
import { KeyedBackoff } from './backoff.ts';
import { FakeClock, settle } from './fake-clock.ts';
import {
  Controller,
  type ReconcileContext,
  type ReconcileResult,
  RetryAfterError,
  TerminalError,
} from './controller.ts';
import { LeadershipFence } from './fence.ts';
import type { ControllerMetrics, ReconcileResultLabel } from './metrics.ts';
import { RecordingLogger, apiError } from './testing.ts';
import { WorkQueue } from './workqueue.ts';

type Behaviour = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult> | ReconcileResult;

function setup(behaviour: Behaviour, opts: { workers?: number; shutdownTimeoutMs?: number } = {}) {
  const clock = new FakeClock(0);
  const queue = new WorkQueue({
    clock,
    rateLimiter: new KeyedBackoff({ baseMs: 100, capMs: 10_000, jitter: 'none' }),
  });
  const log = new RecordingLogger();
  const results: ReconcileResultLabel[] = [];
  const metrics: ControllerMetrics = {
    reconcileTotal: (r) => results.push(r),
    reconcileDuration: () => {},
    activeWorkers: () => {},
  };
  const calls: { key: string; at: number; ctx: ReconcileContext }[] = [];
  const controller = new Controller({
    name: 'test',
    clock,
    queue,
    logger: log,
    metrics,
    workers: opts.workers ?? 1,
    shutdownTimeoutMs: opts.shutdownTimeoutMs,
    reconcile: async (key, ctx) => {
      calls.push({ key, at: clock.now(), ctx });
      return behaviour(key, ctx);
    },
  });
  return { clock, queue, log, results, calls, controller };
}

describe('Controller', () => {
  let stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(stops.map((s) => s()));
    stops = [];
  });
  const started = <T extends { controller: Controller }>(t: T): T => {
    t.controller.start();
    stops.push(() => t.controller.stop());
    return t;
  };

  it('reconciles a key enqueued twice once and counts a success', async () => {
    const t = setup(() => {});
    t.controller.enqueue('ns/a');
    t.controller.enqueue('ns/a');
    started(t);
    await settle();
    assert.deepEqual(
      t.calls.map((c) => [c.key, c.ctx.namespace, c.ctx.name]),
      [['ns/a', 'ns', 'a']],
    );
    assert.deepEqual(t.results, ['success']);
  });

  it('comes back after requeueAfter, at low priority', async () => {
    const t = started(setup(() => ({ requeueAfter: 5000 })));
    t.controller.enqueue('ns/a');
    await settle();
    assert.equal(t.queue.delayedLen(), 1);
    await t.clock.advanceAsync(5000);
    assert.deepEqual(
      t.calls.map((c) => c.at),
      [0, 5000],
    );
    assert.deepEqual(t.results.slice(0, 2), ['requeue_after', 'requeue_after']);
  });

  it('retries a transient error with growing per-key backoff, and forgets it on success', async () => {
    let failuresLeft = 3;
    const t = started(
      setup(() => {
        if (failuresLeft-- > 0) throw apiError(503, 'ServiceUnavailable');
      }),
    );
    t.controller.enqueue('ns/a');
    await t.clock.advanceAsync(10_000);
    assert.deepEqual(
      t.calls.map((c) => c.at),
      [0, 100, 300, 700],
    );
    assert.deepEqual(
      t.calls.map((c) => c.ctx.retries),
      [0, 1, 2, 3],
    );
    assert.deepEqual(t.results, ['error', 'error', 'error', 'success']);
    assert.equal(t.queue.numRequeues('ns/a'), 0);
  });

  it('does not retry a TerminalError and logs its reason', async () => {
    const t = started(
      setup(() => {
        throw new TerminalError('InvalidSpec', 'spec.data[0].remoteRef.path is empty');
      }),
    );
    t.controller.enqueue('ns/a');
    await t.clock.advanceAsync(60_000);
    assert.equal(t.calls.length, 1);
    assert.deepEqual(t.results, ['terminal_error']);
    assert.equal(t.queue.delayedLen(), 0);
    const rec = t.log.records.find((r) => r.message === 'Reconcile failed permanently');
    assert.equal(rec?.fields.reason, 'InvalidSpec');
    assert.equal(rec?.fields.controller, 'test');
    assert.equal(rec?.fields.name, 'a');
  });

  it('waits at least the Retry-After a failure carries', async () => {
    let first = true;
    const t = started(
      setup(() => {
        if (first) {
          first = false;
          throw new RetryAfterError('backend throttled', 7000);
        }
      }),
    );
    t.controller.enqueue('ns/a');
    await t.clock.advanceAsync(6999);
    assert.equal(t.calls.length, 1);
    await t.clock.advanceAsync(1);
    assert.equal(t.calls.length, 2);
  });

  it('comes back after a wait that is not a failure, its backoff neither grown nor reset', async () => {
    // Two real failures (backoff 100, 200), then three waits for an open circuit, then a failure.
    const script = ['fail', 'fail', 'wait', 'wait', 'wait', 'fail', 'ok'];
    const t = started(
      setup(() => {
        const step = script.shift();
        if (step === 'fail') throw apiError(503, 'ServiceUnavailable');
        if (step === 'wait') throw new RetryAfterError('circuit open', 5000, { countsAsFailure: false });
      }),
    );
    t.controller.enqueue('ns/a');
    await t.clock.advanceAsync(30_000);
    assert.deepEqual(
      t.calls.map((c) => c.at),
      [0, 100, 300, 5300, 10_300, 15_300, 15_700],
    );
    assert.deepEqual(
      t.calls.map((c) => c.ctx.retries),
      [0, 1, 2, 2, 2, 2, 3],
    );
  });

  it('survives reconciles that throw synchronously, throw non-errors or reject with undefined', async () => {
    const t = setup(() => {});
    const odd: (() => never)[] = [
      () => {
        throw 'a string';
      },
      () => {
        throw undefined;
      },
      () => {
        throw null;
      },
    ];
    let i = 0;
    const controller = new Controller({
      name: 'odd',
      clock: t.clock,
      queue: t.queue,
      // Deliberately not async: a synchronous throw must be caught too.
      reconcile: (() => odd[i++ % odd.length]!()) as never,
    });
    started({ controller });
    for (const k of ['ns/a', 'ns/b', 'ns/c']) controller.enqueue(k);
    await settle();
    assert.equal(t.queue.delayedLen(), 3, 'all three scheduled for retry');
  });

  it('retries keys that never synced before keys that did', async () => {
    const order: string[] = [];
    let failing = false;
    let gate: (() => void) | undefined;
    const t = started(
      setup(async (key) => {
        order.push(key);
        if (key === 'ns/gate') await new Promise<void>((r) => (gate = r));
        else if (failing) throw new Error('backend down');
      }),
    );
    t.controller.enqueue('ns/old');
    await settle();
    failing = true;
    t.controller.enqueue('ns/old'); // synced before: its retry is low priority
    await settle();
    t.controller.enqueue('ns/fresh'); // never synced: its retry is high priority
    await settle();
    t.controller.enqueue('ns/gate'); // holds the only worker while both retries fall due
    await settle();
    await t.clock.advanceAsync(100);
    assert.equal(t.queue.len(), 2);
    order.length = 0;
    failing = false;
    gate!();
    await settle();
    assert.deepEqual(order, ['ns/fresh', 'ns/old']);
  });

  it('never runs one key in two workers at once', async () => {
    let running = 0;
    let maxRunning = 0;
    const gates: (() => void)[] = [];
    const t = started(
      setup(
        async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await new Promise<void>((r) => gates.push(r));
          running--;
        },
        { workers: 4 },
      ),
    );
    t.controller.enqueue('ns/a');
    await settle();
    t.controller.enqueue('ns/a');
    t.controller.enqueue('ns/a');
    await settle();
    assert.equal(gates.length, 1);
    gates.shift()!();
    await settle();
    assert.equal(gates.length, 1, 'the key added while running ran once more, after');
    gates.shift()!();
    await settle();
    assert.equal(maxRunning, 1);
  });

  it('gives each run its own reconcile id, in the context and the log fields', async () => {
    const t = started(
      setup((_key, ctx) => {
        ctx.log.info('Reconciled');
      }),
    );
    t.controller.enqueue('ns/a');
    t.controller.enqueue('ns/b');
    await settle();
    const ids = t.calls.map((c) => c.ctx.reconcileId);
    assert.equal(new Set(ids).size, 2);
    const logged = t.log.records.filter((r) => r.message === 'Reconciled').map((r) => r.fields.reconcileId);
    assert.deepEqual(logged, ids);
  });

  it('on stop, waits for an in-flight reconcile and starts no new one', async () => {
    let release!: () => void;
    const t = setup(() => new Promise<void>((r) => (release = r)));
    t.controller.start();
    t.controller.enqueue('ns/a');
    await settle();
    t.controller.enqueue('ns/b');
    let stopped = false;
    const stopping = t.controller.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false);
    release();
    await stopping;
    assert.deepEqual(
      t.calls.map((c) => c.key),
      ['ns/a'],
    );
  });

  it('on stop, gives up after the timeout and aborts the reconcile signal', async () => {
    let signal: AbortSignal | undefined;
    const t = setup(
      (_k, ctx) => {
        signal = ctx.signal;
        return new Promise(() => {});
      },
      { shutdownTimeoutMs: 1000 },
    );
    t.controller.start();
    t.controller.enqueue('ns/a');
    await settle();
    const stopping = t.controller.stop();
    await t.clock.advanceAsync(1000);
    await stopping;
    assert.equal(signal?.aborted, true);
    assert.ok(t.log.records.some((r) => r.message === 'Stopped with reconciles still running'));
  });

  it('a fenced refusal (NotLeader) is a stand-down: logged once at info, never as a failure, not counted', async () => {
    const fence = new LeadershipFence({ renewDeadlineMs: 1000 });
    fence.lose('stepped down');
    const t = started(
      setup(() => {
        fence.assertHeld();
      }),
    );
    t.controller.enqueue('ns/a');
    t.controller.enqueue('ns/b');
    await t.clock.advanceAsync(60_000);
    assert.equal(t.calls.length, 2, 'each key tried once, neither retried');
    assert.deepEqual(t.results, []);
    const said = t.log.records.filter((r) => r.message === 'Stood down: not the leader');
    assert.deepEqual(
      said.map((r) => r.level),
      ['info', 'debug'],
    );
    assert.ok(
      !t.log.records.some((r) => r.level === 'error' || r.level === 'warn'),
      'nothing logged as a failure',
    );
  });

  it('abort() (leadership lost) aborts in-flight reconciles at once; NotLeader is not retried', async () => {
    let signal: AbortSignal | undefined;
    const t = setup(
      (_k, ctx) => {
        signal = ctx.signal;
        // A reconcile that honours its signal, as every write helper does.
        return new Promise((_resolve, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)),
        );
      },
      { shutdownTimeoutMs: 30_000 },
    );
    t.controller.start();
    t.controller.enqueue('ns/a');
    await settle();
    t.controller.enqueue('ns/b'); // waiting: one worker
    assert.equal(signal?.aborted, false);
    const fence = new LeadershipFence({ renewDeadlineMs: 1000 });
    fence.lose('stepped down');
    t.controller.abort(fence.signal.reason);
    assert.equal(signal?.aborted, true, 'aborted without waiting for the shutdown grace');
    await settle();
    assert.deepEqual(t.results, [], 'NotLeader is not counted as a reconcile result: no error');
    assert.equal(t.queue.delayedLen(), 0, 'NotLeader is not retried');
    assert.deepEqual(
      t.calls.map((c) => c.key),
      ['ns/a'],
      'no key taken after the loss',
    );
    const stopping = t.controller.stop(500);
    await t.clock.advanceAsync(0);
    await stopping;
    assert.ok(t.log.records.some((r) => r.message === 'Stopped workers'));
    assert.equal(t.queue.len(), 0);
  });

  it('keeps keys enqueued before start (a standby) and works them off when started', async () => {
    const t = setup(() => {});
    t.controller.enqueue('ns/a');
    t.controller.enqueue('ns/b');
    await settle();
    assert.equal(t.calls.length, 0);
    started(t);
    await settle();
    assert.deepEqual(
      t.calls.map((c) => c.key),
      ['ns/a', 'ns/b'],
    );
  });

  it('logs an API error without its raw body', async () => {
    const t = started(
      setup(() => {
        throw Object.assign(new Error('HTTP-Code: 500 Body: {"token":"planted-secret"}'), {
          code: 500,
          body: '{"kind":"Status","reason":"InternalError","message":"etcd timeout"}',
          headers: { authorization: 'Bearer planted-secret' },
        });
      }),
    );
    t.controller.enqueue('ns/a');
    await settle();
    assert.ok(t.log.text().includes('etcd timeout'));
    assert.ok(!t.log.text().includes('planted-secret'));
  });
});
