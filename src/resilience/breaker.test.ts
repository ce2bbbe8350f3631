import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Breaker } from './breaker.ts';
import { BackendError } from './errors.ts';
import type { CircuitStateName } from './metrics.ts';

const unavailable = () => Promise.reject(new BackendError('Unavailable', 'down'));
const notFound = () => Promise.reject(new BackendError('NotFound', 'nope'));
const ok = () => Promise.resolve('ok');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof BackendError ? err.code : String(err);
  }
}

describe('Breaker', () => {
  let states: CircuitStateName[];
  let breaker: Breaker;
  beforeEach(() => {
    states = [];
    breaker = new Breaker({
      name: 'vault',
      failureThreshold: 3,
      halfOpenAfterMs: 50,
      onStateChange: (s) => states.push(s),
    });
  });

  it('opens after N consecutive transient failures and then fails fast', async () => {
    let calls = 0;
    const counted = () => (calls++, unavailable());
    assert.deepEqual(
      [await codeOf(breaker.execute(counted)), await codeOf(breaker.execute(counted))],
      ['Unavailable', 'Unavailable'],
    );
    assert.equal(breaker.state, 'closed');
    assert.equal(await codeOf(breaker.execute(counted)), 'Unavailable');
    assert.equal(breaker.state, 'open');
    try {
      await breaker.execute(counted);
      assert.fail('expected CircuitOpen');
    } catch (err) {
      assert.ok(err instanceof BackendError);
      assert.equal(err.code, 'CircuitOpen');
      assert.equal(err.transient, true);
      assert.equal(err.circuitOpen, true);
      assert.ok((err.retryAfterMs ?? -1) > 0 && (err.retryAfterMs ?? 0) <= 50);
      assert.match(err.message, /backend "vault" is failing/);
    }
    assert.equal(calls, 3);
    assert.deepEqual(states, ['open']);
  });

  it('refuses with the same message for the whole outage (it lands in status: no churn)', async () => {
    const slow = new Breaker({ name: 'vault', failureThreshold: 1, halfOpenAfterMs: 2500 });
    await codeOf(slow.execute(unavailable));
    const refusal = async () => {
      const err = await slow.execute(ok).catch((e: unknown) => e);
      assert.ok(err instanceof BackendError && err.code === 'CircuitOpen');
      return { message: err.message, retryAfterMs: err.retryAfterMs ?? 0 };
    };
    const first = await refusal();
    await sleep(1100);
    const second = await refusal();
    assert.equal(second.message, first.message);
    assert.ok(second.retryAfterMs < first.retryAfterMs - 1000, 'when to retry moves on, in its own field');
  });

  it('says on the failure that opened the circuit, and not before, when the probe is due', async () => {
    const first = await breaker.execute(unavailable).catch((e: unknown) => e);
    assert.ok(first instanceof BackendError && !first.circuitOpen && first.retryAfterMs === undefined);
    await breaker.execute(unavailable).catch(() => undefined);
    const opening = await breaker.execute(unavailable).catch((e: unknown) => e);
    assert.ok(opening instanceof BackendError);
    assert.deepEqual([opening.code, opening.message, opening.circuitOpen], ['Unavailable', 'down', true]);
    assert.ok((opening.retryAfterMs ?? 0) > 40 && (opening.retryAfterMs ?? 0) <= 50);
  });

  it('does not count answers that prove the backend is up, and they reset the count', async () => {
    await codeOf(breaker.execute(unavailable));
    await codeOf(breaker.execute(unavailable));
    assert.equal(await codeOf(breaker.execute(notFound)), 'NotFound');
    await codeOf(breaker.execute(unavailable));
    await codeOf(breaker.execute(unavailable));
    assert.equal(breaker.state, 'closed');
  });

  it('does not count throttling, check-and-set conflicts or cancellation', async () => {
    for (let i = 0; i < 5; i++) {
      await codeOf(breaker.execute(() => Promise.reject(new BackendError('Throttled', 'slow down'))));
      await codeOf(breaker.execute(() => Promise.reject(new BackendError('Conflict', 'changed'))));
      await codeOf(breaker.execute(() => Promise.reject(new DOMException('aborted', 'AbortError'))));
    }
    assert.equal(breaker.state, 'closed');
  });

  it('half-opens after the delay: a success closes it', async () => {
    for (let i = 0; i < 3; i++) await codeOf(breaker.execute(unavailable));
    assert.equal(await codeOf(breaker.execute(ok)), 'CircuitOpen');
    await sleep(60);
    assert.equal(await codeOf(breaker.execute(ok)), 'ok');
    assert.equal(breaker.state, 'closed');
    assert.deepEqual(states, ['open', 'half-open', 'closed']);
  });

  it('says when to retry: then one call is the probe, and calls made meanwhile wait for it', async () => {
    const slow = new Breaker({ name: 'vault', failureThreshold: 1, halfOpenAfterMs: 400 });
    await codeOf(slow.execute(unavailable));
    const opened = Date.now();
    await sleep(100);
    let retryAfterMs = 0;
    try {
      await slow.execute(ok);
    } catch (err) {
      retryAfterMs = err instanceof BackendError ? (err.retryAfterMs ?? 0) : 0;
    }
    const left = 400 - (Date.now() - opened);
    assert.ok(Math.abs(retryAfterMs - left) <= 5, `retry in ${retryAfterMs} ms: the ${left} ms left`);
    await sleep(retryAfterMs);
    let release = () => {};
    const probe = slow.execute(() => new Promise<string>((r) => (release = () => r('probed'))));
    const waiting = slow.execute(ok);
    assert.equal(slow.state, 'half-open');
    release();
    assert.deepEqual([await probe, await waiting], ['probed', 'ok']);
    assert.equal(slow.state, 'closed');
  });

  it('half-opens after the delay: a failure opens it again', async () => {
    for (let i = 0; i < 3; i++) await codeOf(breaker.execute(unavailable));
    await sleep(60);
    assert.equal(await codeOf(breaker.execute(unavailable)), 'Unavailable');
    assert.equal(breaker.state, 'open');
    assert.equal(await codeOf(breaker.execute(ok)), 'CircuitOpen');
    assert.deepEqual(states, ['open', 'half-open', 'open']);
  });
});
