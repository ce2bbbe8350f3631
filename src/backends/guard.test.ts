import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { Sensitive } from '../secrets/sensitive.ts';
import { FakeClock } from '../kube/fake-clock.ts';
import { BackendError } from '../resilience/errors.ts';
import { GuardedBackend, type GuardOptions } from './guard.ts';
import { errorOf, guardOptions, RecordingMetrics } from './testing.ts';
import type { BackendAdapter, CallContext, ReadRequest, RemoteSecret, WriteRequest } from './types.ts';

type Behaviour = (req: ReadRequest, ctx: CallContext) => Promise<RemoteSecret>;

const secret = (value: string, version = '1'): RemoteSecret => ({
  data: new Sensitive<ReadonlyMap<string, Buffer>>(new Map([['k', Buffer.from(value)]])),
  version,
});

class FakeAdapter implements BackendAdapter {
  readonly name = 'fake';
  readonly type = 'fake';
  readonly reads: { req: ReadRequest; ctx: CallContext; at: number }[] = [];
  writes = 0;
  behaviour: Behaviour = async () => secret('v');
  readonly clock: FakeClock;
  constructor(clock: FakeClock) {
    this.clock = clock;
  }
  identity(ctx: CallContext): string {
    return `${ctx.namespace}/${ctx.serviceAccount ?? 'default'}`;
  }
  read(req: ReadRequest, ctx: CallContext): Promise<RemoteSecret> {
    this.reads.push({ req, ctx, at: this.clock.now() });
    return this.behaviour(req, ctx);
  }
  async write(_req: WriteRequest): Promise<{ version: string }> {
    this.writes++;
    return { version: '2' };
  }
  async check(): Promise<void> {}
  async close(): Promise<void> {}
}

function setup(over: Partial<GuardOptions> = {}) {
  const clock = new FakeClock();
  const adapter = new FakeAdapter(clock);
  const metrics = new RecordingMetrics();
  const backend = new GuardedBackend(adapter, guardOptions(over), { clock, metrics });
  return { clock, adapter, metrics, backend };
}

const ctx = { namespace: 'team-a' };

describe('GuardedBackend', () => {
  it('checks tenancy before any request', async () => {
    const { adapter, backend, metrics } = setup();
    const err = await errorOf(backend.read({ path: 'team-b/db' }, ctx));
    assert.equal(err.code, 'TenancyDenied');
    const err2 = await errorOf(
      backend.write({ path: 'x/db', data: secret('v').data }, { namespace: 'shop' }),
    );
    assert.equal(err2.code, 'TenancyDenied');
    assert.equal(adapter.reads.length, 0);
    assert.equal(adapter.writes, 0);
    assert.deepEqual(metrics.requests, ['fake read TenancyDenied', 'fake write TenancyDenied']);
  });

  it('checks writes against allowedWritePaths, not allowedPaths', async () => {
    const { adapter, backend, metrics } = setup({ allowedWritePaths: ['{namespace}/rotated/*'] });
    await backend.read({ path: 'team-a/db' }, ctx);
    const err = await errorOf(backend.write({ path: 'team-a/db', data: secret('v').data }, ctx));
    assert.equal(err.code, 'TenancyDenied');
    assert.match(err.message, /is not writable .*allowedWritePaths: \{namespace\}\/rotated\/\*/);
    await backend.write({ path: 'team-a/rotated/db', data: secret('v').data }, ctx);
    assert.equal(adapter.writes, 1);
    assert.deepEqual(metrics.requests, [
      'fake read success',
      'fake write TenancyDenied',
      'fake write success',
    ]);
  });

  it('coalesces N concurrent reads of one path and identity into one request', async () => {
    const { adapter, backend, metrics } = setup();
    let release!: () => void;
    adapter.behaviour = () => new Promise((r) => (release = () => r(secret('shared'))));
    const reads = Array.from({ length: 25 }, () => backend.read({ path: 'team-a/db' }, ctx));
    await new Promise((r) => setImmediate(r));
    release();
    const results = await Promise.all(reads);
    assert.equal(adapter.reads.length, 1);
    assert.ok(results.every((s) => s.data.reveal().get('k')?.toString() === 'shared'));
    assert.equal(metrics.coalescedCount, 24);
    assert.deepEqual(metrics.requests, ['fake read success']);
  });

  it('does not share a request between identities or versions', async () => {
    const { adapter, backend } = setup();
    await Promise.all([
      backend.read({ path: 'team-a/db' }, ctx),
      backend.read({ path: 'team-a/db' }, { namespace: 'team-a', serviceAccount: 'other' }),
      backend.read({ path: 'team-a/db', version: '2' }, ctx),
      backend.read({ path: 'team-a/db' }, ctx),
    ]);
    assert.equal(adapter.reads.length, 3);
  });

  it('with a coalescing TTL, reads once per window and drops the result on write', async () => {
    const { adapter, backend, clock } = setup({ coalesce: { ttl: 2000 } });
    await backend.read({ path: 'team-a/db' }, ctx);
    await clock.advanceAsync(1000);
    await backend.read({ path: 'team-a/db' }, ctx);
    assert.equal(adapter.reads.length, 1);
    await backend.write({ path: 'team-a/db', data: secret('new').data }, ctx);
    await backend.read({ path: 'team-a/db' }, ctx);
    assert.equal(adapter.reads.length, 2);
  });

  it("shares a result within the caller's maxAgeMs, checks tenancy for every caller first, reads fresh for 0", async () => {
    const { adapter, backend, clock, metrics } = setup({ allowedPaths: ['{namespace}/**', 'shared/**'] });
    const first = await backend.read({ path: 'shared/db' }, { ...ctx, maxAgeMs: 2000 });
    await clock.advanceAsync(1000);
    const shared = await backend.read({ path: 'shared/db' }, { ...ctx, maxAgeMs: 2000 });
    assert.equal(adapter.reads.length, 1, 'served the kept result');
    assert.equal(shared.readAt, first.readAt, 'as old as the read it shares');
    assert.equal(clock.now() - shared.readAt!, 1000);
    // Another tenant whose rules do not allow the path is refused, kept result or not.
    const err = await errorOf(backend.read({ path: 'shared/db' }, { namespace: 'shop', maxAgeMs: 2000 }));
    assert.equal(err.code, 'TenancyDenied');
    await backend.read({ path: 'shared/db' }, { ...ctx, maxAgeMs: 0 });
    assert.equal(adapter.reads.length, 2, 'a fresh read was asked for');
    assert.equal(metrics.coalescedCount, 1);
  });

  it('after a 429 with Retry-After sends nothing until then', async () => {
    const { adapter, backend, clock, metrics } = setup();
    adapter.behaviour = async () => {
      throw new BackendError('Throttled', 'vault read: rate limit reached (HTTP 429)', {
        retryAfterMs: 3000,
      });
    };
    const first = await errorOf(backend.read({ path: 'team-a/a' }, ctx));
    assert.equal(first.code, 'Throttled');
    assert.equal(first.retryAfterMs, 3000);
    assert.equal(first.backend, 'fake');
    adapter.behaviour = async () => secret('ok');
    const second = backend.read({ path: 'team-a/b' }, ctx);
    await clock.advanceAsync(2999);
    assert.equal(adapter.reads.length, 1);
    await clock.advanceAsync(200);
    await second;
    assert.equal(adapter.reads.length, 2);
    assert.ok((adapter.reads[1]?.at ?? 0) - (adapter.reads[0]?.at ?? 0) >= 3000);
    assert.deepEqual(metrics.throttles, ['remote']);
  });

  it('after a 429 fails fast with Throttled when the window is longer than maxWait', async () => {
    const { adapter, backend, metrics } = setup({ rateLimit: { qps: 10, burst: 10, maxWait: 1000 } });
    adapter.behaviour = async () => {
      throw new BackendError('Throttled', 'slow down', { retryAfterMs: 30_000 });
    };
    await errorOf(backend.read({ path: 'team-a/a' }, ctx));
    const err = await errorOf(backend.read({ path: 'team-a/b' }, ctx));
    assert.equal(err.code, 'Throttled');
    assert.ok((err.retryAfterMs ?? 0) >= 30_000);
    assert.equal(adapter.reads.length, 1);
    assert.deepEqual(metrics.throttles, ['remote', 'local']);
  });

  it('a throttle without Retry-After closes the bucket for a default second', async () => {
    const { adapter, backend } = setup();
    adapter.behaviour = async () => {
      throw new BackendError('Throttled', 'slow down');
    };
    const err = await errorOf(backend.read({ path: 'team-a/a' }, ctx));
    assert.equal(err.retryAfterMs, 1000);
  });

  it('a 429 with Retry-After: 0 pauses the default second too, so the workers do not retry at once (OpenBao quotas)', async () => {
    const { adapter, backend, clock, metrics } = setup();
    adapter.behaviour = async () => {
      throw new BackendError('Throttled', 'vault read: rate limit reached (HTTP 429)', { retryAfterMs: 0 });
    };
    const err = await errorOf(backend.read({ path: 'team-a/a' }, ctx));
    assert.equal(err.retryAfterMs, 1000, 'the caller requeues after the default pause, not at once');
    adapter.behaviour = async () => secret('ok');
    const next = backend.read({ path: 'team-a/b' }, ctx);
    await clock.advanceAsync(999);
    assert.equal(adapter.reads.length, 1, 'nothing sent before the pause ends');
    await clock.advanceAsync(200); // the pause, then the bucket reopens at its sustained rate
    await next;
    assert.equal(adapter.reads.length, 2);
    assert.deepEqual(metrics.throttles, ['remote']);
  });

  it('times out a request that does not answer, and counts it as a failure', async () => {
    const { adapter, backend, clock } = setup({
      circuitBreaker: { failureThreshold: 1, halfOpenAfter: 60_000 },
    });
    let seen: AbortSignal | undefined;
    adapter.behaviour = (_req, c) => {
      seen = c.signal;
      return new Promise(() => undefined);
    };
    const pending = errorOf(backend.read({ path: 'team-a/a' }, ctx));
    await clock.advanceAsync(5000);
    const err = await pending;
    assert.equal(err.code, 'Unavailable');
    assert.match(err.message, /did not answer within 5000ms/);
    assert.equal(seen?.aborted, true);
    assert.equal(backend.circuitState, 'open');
  });

  it('opens the circuit after consecutive failures and then sends nothing', async () => {
    const { adapter, backend, metrics } = setup();
    adapter.behaviour = async () => {
      throw new BackendError('Unavailable', 'down');
    };
    for (let i = 0; i < 3; i++) await errorOf(backend.read({ path: `team-a/${i}` }, ctx));
    const err = await errorOf(backend.read({ path: 'team-a/x' }, ctx));
    assert.equal(err.code, 'CircuitOpen');
    assert.equal(adapter.reads.length, 3);
    assert.deepEqual(metrics.states, ['closed', 'open']);
    assert.equal(metrics.requests.at(-1), 'fake read CircuitOpen');
  });

  it('turns a foreign error into Unknown without its message', async () => {
    const { adapter, backend } = setup();
    adapter.behaviour = async () => {
      throw Object.assign(new TypeError('token hvs.CANARY leaked'), {
        config: { headers: { 'X-Vault-Token': 'hvs.CANARY' } },
      });
    };
    const err = await errorOf(backend.read({ path: 'team-a/a' }, ctx));
    assert.equal(err.code, 'Unknown');
    assert.equal(err.message, 'unexpected TypeError in backend "fake"');
    assert.equal(
      `${JSON.stringify(err)}${inspect(err, { depth: 10, showHidden: true })}`.includes('CANARY'),
      false,
    );
  });

  it("rejects with the caller's abort reason and reports Cancelled", async () => {
    const { adapter, backend, metrics } = setup();
    adapter.behaviour = (_req, c) =>
      new Promise((_, reject) => c.signal?.addEventListener('abort', () => reject(c.signal?.reason)));
    const ac = new AbortController();
    const p = backend.read({ path: 'team-a/a' }, { ...ctx, signal: ac.signal });
    await new Promise((r) => setImmediate(r));
    const reason = new Error('reconcile cancelled');
    ac.abort(reason);
    await assert.rejects(p, (err) => err === reason);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(metrics.requests, ['fake read Cancelled']);
  });

  it('refuses calls after close', async () => {
    const { backend } = setup();
    await backend.close();
    const err = await errorOf(backend.read({ path: 'team-a/a' }, ctx));
    assert.equal(err.code, 'Unavailable');
  });
});

describe('GuardedBackend reachability checks', () => {
  /** An adapter whose check fails while `down` is set, counting the checks that reach it. */
  class CheckedAdapter extends FakeAdapter {
    checks = 0;
    down = false;
    override async check(): Promise<void> {
      this.checks++;
      if (this.down) throw new BackendError('Unavailable', 'connection refused', { transient: true });
    }
  }
  const checked = (over: Partial<GuardOptions> = {}) => {
    const clock = new FakeClock();
    const adapter = new CheckedAdapter(clock);
    const metrics = new RecordingMetrics();
    return { adapter, metrics, backend: new GuardedBackend(adapter, guardOptions(over), { clock, metrics }) };
  };

  it('go through the circuit breaker: once open, checks fail fast without reaching the backend', async () => {
    const { adapter, backend, metrics } = checked();
    adapter.down = true;
    for (let i = 0; i < 3; i++) assert.equal((await errorOf(backend.check())).code, 'Unavailable');
    assert.equal(backend.circuitState, 'open');
    for (let i = 0; i < 10; i++) assert.equal((await errorOf(backend.check())).code, 'CircuitOpen');
    assert.equal(adapter.checks, 3);
    assert.deepEqual(metrics.requests.slice(-1), ['fake check CircuitOpen']);
  });

  it('go through the token bucket: a flood of checks is throttled, not sent', async () => {
    const { adapter, backend, metrics } = checked({ rateLimit: { qps: 1, burst: 2, maxWait: 0 } });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => backend.check()));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2);
    assert.equal(adapter.checks, 2);
    assert.ok(metrics.throttles.every((t) => t === 'local') && metrics.throttles.length === 18);
  });
});
