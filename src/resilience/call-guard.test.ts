import assert from 'node:assert/strict';
import { FakeClock } from '../kube/fake-clock.ts';
import { CallGuard, DEFAULT_THROTTLE_MS, errorName, outcomeOf, throttlePauseMs } from './call-guard.ts';
import { BackendError } from './errors.ts';
import { noopBackendMetrics, type BackendMetrics } from './metrics.ts';

function recording(): { metrics: BackendMetrics; requests: string[] } {
  const requests: string[] = [];
  return {
    requests,
    metrics: {
      ...noopBackendMetrics,
      request: (name, op, outcome) => void requests.push(`${name} ${op} ${outcome}`),
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<BackendError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof BackendError, String(err));
    return err;
  }
  assert.fail('expected a rejection');
}

describe('CallGuard', () => {
  it('runs without breaker, bucket or timeout (an in-process issuer) and reports the call', async () => {
    const { metrics, requests } = recording();
    const guard = new CallGuard({ kind: 'issuer', name: 'local' }, { clock: new FakeClock(), metrics });
    assert.equal(await guard.call('write', undefined, async () => 'signed'), 'signed');
    assert.equal(guard.circuitState, 'closed');
    assert.deepEqual(requests, ['local write success']);
  });

  it('refuses at admission without calling, names what is guarded, and refuses everything once closed', async () => {
    const { metrics, requests } = recording();
    const guard = new CallGuard({ kind: 'issuer', name: 'pki' }, { clock: new FakeClock(), metrics });
    const denied = new BackendError('TenancyDenied', 'no');
    assert.throws(() => guard.admit('write', () => denied), denied);
    guard.admit('write', () => undefined);
    guard.close();
    assert.throws(
      () => guard.admit('read', () => undefined),
      (err: unknown) => err instanceof BackendError && err.message === 'issuer "pki" is shut down',
    );
    assert.deepEqual(requests, ['pki write TenancyDenied', 'pki read Unavailable']);
  });

  it('turns anything that is not a BackendError into Unknown without its message', async () => {
    const guard = new CallGuard(
      { kind: 'issuer', name: 'pki' },
      { clock: new FakeClock(), metrics: noopBackendMetrics },
    );
    const err = await rejection(
      guard.call('write', undefined, () => Promise.reject(new TypeError('secret-ish text'))),
    );
    assert.equal(err.code, 'Unknown');
    assert.equal(err.message, 'unexpected TypeError in issuer "pki"');
    assert.equal(err.backend, 'pki');
  });

  it('gives a throttle answer without a usable Retry-After the default pause', async () => {
    const guard = new CallGuard(
      { kind: 'issuer', name: 'pki' },
      { clock: new FakeClock(), metrics: noopBackendMetrics },
    );
    const err = await rejection(
      guard.call('write', undefined, () =>
        Promise.reject(new BackendError('Throttled', 'slow', { retryAfterMs: 0 })),
      ),
    );
    assert.equal(err.retryAfterMs, DEFAULT_THROTTLE_MS);
  });

  it('tells the caller when the open circuit tries again, on the opening failure and each refusal', async () => {
    const { metrics, requests } = recording();
    const guard = new CallGuard(
      { kind: 'backend', name: 'vault', circuitBreaker: { failureThreshold: 1, halfOpenAfter: 30_000 } },
      { clock: new FakeClock(), metrics },
    );
    // The adapter does not name the backend: the guard does, and keeps circuitOpen.
    const down = () => Promise.reject(new BackendError('Unavailable', 'connection refused'));
    const opening = await rejection(guard.call('read', undefined, down));
    const refused = await rejection(guard.call('read', undefined, down));
    for (const err of [opening, refused]) {
      assert.equal(err.backend, 'vault');
      assert.equal(err.circuitOpen, true);
      assert.ok((err.retryAfterMs ?? 0) > 29_000 && (err.retryAfterMs ?? 0) <= 30_000);
    }
    assert.deepEqual(requests, ['vault read Unavailable', 'vault read CircuitOpen']);
  });

  it('times out on its clock with a message naming what is guarded', async () => {
    const clock = new FakeClock();
    const guard = new CallGuard(
      { kind: 'backend', name: 'vault', timeout: 50 },
      { clock, metrics: noopBackendMetrics },
    );
    const pending = rejection(guard.call('read', undefined, () => new Promise<never>(() => undefined)));
    await clock.advanceAsync(50);
    const err = await pending;
    assert.equal(err.code, 'Unavailable');
    assert.equal(err.message, 'backend "vault" did not answer within 50ms');
  });

  it('passes the caller’s own abort through untouched', async () => {
    const guard = new CallGuard(
      { kind: 'backend', name: 'vault' },
      { clock: new FakeClock(), metrics: noopBackendMetrics },
    );
    const controller = new AbortController();
    const reason = new Error('caller left');
    const pending = guard.call('read', controller.signal, () => new Promise<never>(() => undefined));
    controller.abort(reason);
    await assert.rejects(pending, (err: unknown) => err === reason);
  });
});

describe('call-guard decisions', () => {
  it('pauses after a 429 for its Retry-After, never less than the default', () => {
    assert.equal(throttlePauseMs(undefined), DEFAULT_THROTTLE_MS);
    assert.equal(throttlePauseMs(0), DEFAULT_THROTTLE_MS);
    assert.equal(throttlePauseMs(5000), 5000);
  });

  it('reports a failure by its code, a cancellation as Cancelled', () => {
    assert.equal(outcomeOf(new BackendError('NotFound', 'x')), 'NotFound');
    assert.equal(outcomeOf(new Error('aborted')), 'Cancelled');
  });

  it('prints only a plain class name of an unknown error', () => {
    assert.equal(errorName(new TypeError('x')), 'TypeError');
    assert.equal(errorName('text'), 'string');
    assert.equal(errorName(Object.assign(new Error('x'), { name: 'pw=hunter2 <b>' })), 'error');
  });
});
