/**
 * A backend behind the resilience pipeline (`resilience/call-guard.ts`): what is checked here is
 * its tenancy — reads by `allowedPaths`, writes by `allowedWritePaths`, before anything else — and
 * what is coalesced: reads of one path, version and identity — concurrent ones, and a kept result
 * no older than the caller's `maxAgeMs` (a refresh's sharing window) or the configured TTL. The
 * tenancy check runs for every caller before it is served anything, kept or not. A write forgets
 * what was read of its path.
 */
import type { Clock } from '../kube/clock.ts';
import { CallGuard } from '../resilience/call-guard.ts';
import type { BackendMetrics, CircuitStateName } from '../resilience/metrics.ts';
import { compileTenancy, type TenancyRules } from './tenancy.ts';
import type {
  Backend,
  BackendAdapter,
  CallContext,
  ReadRequest,
  RemoteSecret,
  WriteRequest,
  WriteResult,
} from './types.ts';

export interface GuardOptions extends TenancyRules {
  readonly rateLimit: { readonly qps: number; readonly burst: number; readonly maxWait: number };
  readonly circuitBreaker: { readonly failureThreshold: number; readonly halfOpenAfter: number };
  readonly coalesce: { readonly ttl: number };
  /** Per-request timeout, ms. */
  readonly timeout: number;
}

export interface GuardDeps {
  readonly clock: Clock;
  readonly metrics: BackendMetrics;
}

export class GuardedBackend implements Backend {
  readonly name: string;
  readonly type: string;
  readonly #adapter: BackendAdapter;
  readonly #tenancy: ReturnType<typeof compileTenancy>;
  readonly #guard: CallGuard<RemoteSecret>;
  readonly #clock: Clock;
  #closed = false;

  constructor(adapter: BackendAdapter, options: GuardOptions, deps: GuardDeps) {
    this.name = adapter.name;
    this.type = adapter.type;
    this.#adapter = adapter;
    this.#clock = deps.clock;
    this.#tenancy = compileTenancy(adapter.name, options);
    this.#guard = new CallGuard<RemoteSecret>({ ...options, kind: 'backend', name: adapter.name }, deps);
  }

  /** Circuit state, for status and tests. */
  get circuitState(): CircuitStateName {
    return this.#guard.circuitState;
  }

  async read(req: ReadRequest, ctx: CallContext): Promise<RemoteSecret> {
    this.#guard.admit('read', () => this.#tenancy(ctx.namespace, req.path, 'read'));
    const key = coalesceKey(req.path, req.version, this.#adapter.identity(ctx));
    let readAt = this.#clock.now();
    const secret = await this.#guard.read(
      key,
      ctx.signal,
      (signal) => this.#adapter.read(req, { ...ctx, signal }),
      ctx.maxAgeMs,
      (startedAt) => (readAt = startedAt),
    );
    return { ...secret, readAt };
  }

  async write(req: WriteRequest, ctx: CallContext): Promise<WriteResult> {
    this.#guard.admit('write', () => this.#tenancy(ctx.namespace, req.path, 'write'));
    try {
      return await this.#guard.call('write', ctx.signal, (signal) =>
        this.#adapter.write(req, { ...ctx, signal }),
      );
    } finally {
      // Whatever happened, what was read before may be old now.
      this.#guard.invalidate(`${req.path}\u0000`);
    }
  }

  /** A reachability call, through the breaker and the bucket like any other (readiness caches it). */
  check(signal?: AbortSignal): Promise<void> {
    return this.#guard.call('check', signal, (s) => this.#adapter.check(s));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#guard.close();
    await this.#adapter.close();
  }
}

export function coalesceKey(path: string, version: string | undefined, identity: string): string {
  return `${path}\u0000${version ?? ''}\u0000${identity}`;
}
