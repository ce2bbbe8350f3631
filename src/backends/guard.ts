/**
 * A backend behind the resilience pipeline (`resilience/call-guard.ts`): what is checked here is
 * its tenancy — reads by `allowedPaths`, writes, restores and deletes by `allowedWritePaths`, a
 * find's prefix by where `allowedPaths` lets the namespace read, before anything else — and
 * what is coalesced: reads of one path, version and identity, and finds of one request and
 * identity — concurrent ones, and a kept result no older than the caller's `maxAgeMs` (a
 * refresh's sharing window) or the configured TTL. The tenancy check runs for every caller
 * before it is served anything, kept or not, and a shared find is filtered for each caller. A
 * write, restore or delete forgets what was read of its path and the finds whose prefix covers it.
 */
import type { Clock } from '../kube/clock.ts';
import { CallGuard } from '../resilience/call-guard.ts';
import { Coalescer } from '../resilience/coalesce.ts';
import { BackendError } from '../resilience/errors.ts';
import type { BackendMetrics, CircuitStateName } from '../resilience/metrics.ts';
import { findRequestProblem, foundFor, walkCovers, walkKey, walkListing, type Walk } from './find.ts';
import { compileFindPattern, findPatternProblem } from './find-pattern.ts';
import { compilePrefixTenancy, compileTenancy, type PrefixCheck, type TenancyRules } from './tenancy.ts';
import type {
  Backend,
  BackendAdapter,
  CallContext,
  DeleteRequest,
  FindRequest,
  FoundPaths,
  ReadRequest,
  RemoteSecret,
  RestoreRequest,
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
  /** Present when the adapter can list. */
  readonly find?: (req: FindRequest, ctx: CallContext) => Promise<FoundPaths>;
  /** Present when the adapter can delete. */
  readonly delete?: (req: DeleteRequest, ctx: CallContext) => Promise<void>;
  readonly #adapter: BackendAdapter;
  readonly #tenancy: ReturnType<typeof compileTenancy>;
  readonly #prefixTenancy: PrefixCheck;
  readonly #guard: CallGuard<RemoteSecret>;
  /** Finds' walks, shared like reads (the breaker, bucket and metrics are the guard's). */
  readonly #walks: Coalescer<Walk>;
  readonly #deps: GuardDeps;
  readonly #clock: Clock;
  #closed = false;

  constructor(adapter: BackendAdapter, options: GuardOptions, deps: GuardDeps) {
    this.name = adapter.name;
    this.type = adapter.type;
    this.#adapter = adapter;
    this.#deps = deps;
    this.#clock = deps.clock;
    this.#tenancy = compileTenancy(adapter.name, options);
    this.#prefixTenancy = compilePrefixTenancy(adapter.name, options);
    this.#guard = new CallGuard<RemoteSecret>({ ...options, kind: 'backend', name: adapter.name }, deps);
    this.#walks = new Coalescer<Walk>({ clock: deps.clock, ttlMs: options.coalesce.ttl });
    if (adapter.list) this.find = (req, ctx) => this.#find(req, ctx);
    if (adapter.delete) this.delete = (req, ctx) => this.#delete(req, ctx);
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
      this.#forget(req.path);
    }
  }

  /**
   * Makes `req.version` the newest: the adapter's own restore, else Vault KV's way — read that
   * version, write it by check-and-set over `req.cas` or the latest version read just before.
   */
  async restore(req: RestoreRequest, ctx: CallContext): Promise<WriteResult> {
    this.#guard.admit('restore', () => this.#tenancy(ctx.namespace, req.path, 'write'));
    const adapter = this.#adapter;
    const call = <T>(op: 'read' | 'restore', fn: (c: CallContext) => Promise<T>) =>
      this.#guard.call(op, ctx.signal, (signal) => fn({ ...ctx, signal }));
    try {
      const native = adapter.restore?.bind(adapter);
      if (native) return await call('restore', (c) => native(req, c));
      const old = await call('read', (c) => adapter.read({ path: req.path, version: req.version }, c));
      const cas = req.cas ?? (await call('read', (c) => adapter.read({ path: req.path }, c))).version;
      return await call('restore', (c) => adapter.write({ path: req.path, data: old.data, cas }, c));
    } finally {
      this.#forget(req.path);
    }
  }

  async #delete(req: DeleteRequest, ctx: CallContext): Promise<void> {
    this.#guard.admit('delete', () => this.#tenancy(ctx.namespace, req.path, 'write'));
    const remove = this.#adapter.delete?.bind(this.#adapter);
    if (!remove) throw new BackendError('InvalidRequest', 'cannot delete', { backend: this.name });
    try {
      await this.#guard.call('delete', ctx.signal, (signal) => remove(req, { ...ctx, signal }));
    } finally {
      this.#forget(req.path);
    }
  }

  /**
   * One walk of the adapter's pages per request and identity, shared by concurrent and recent
   * callers (`maxAgeMs`), each page a guarded `list` call; every caller then gets the paths its
   * own rules let it read. Refused before any call: a namespace or prefix outside the rules, a
   * pattern RE2 cannot take, a bound out of range.
   */
  async #find(req: FindRequest, ctx: CallContext): Promise<FoundPaths> {
    this.#guard.admit('list', () => this.#findDenial(req, ctx.namespace));
    const list = this.#adapter.list?.bind(this.#adapter);
    if (!list) throw new BackendError('InvalidRequest', 'cannot list', { backend: this.name });
    const walk = await this.#walks.run(
      walkKey(req, this.#adapter.identity(ctx)),
      (shared) =>
        walkListing(
          req,
          (page) => this.#guard.call('list', shared, (signal) => list(req, page, { ...ctx, signal })),
          // Compiled by the caller that walks, not by each caller served its result.
          req.name === undefined ? () => true : compileFindPattern(req.name),
          this.name,
        ),
      ctx.signal,
      () => this.#deps.metrics.coalesced(this.name),
      ctx.maxAgeMs,
    );
    return foundFor(walk, (path) => !this.#tenancy(ctx.namespace, path, 'read'), req.maxItems);
  }

  #findDenial(req: FindRequest, namespace: string): BackendError | undefined {
    const denied = this.#prefixTenancy(namespace, req.prefix);
    if (denied) return denied;
    const nameProblem = req.name === undefined ? undefined : findPatternProblem(req.name);
    const problem = findRequestProblem(req) ?? (nameProblem && `name ${nameProblem}`);
    return problem ? new BackendError('InvalidRequest', problem, { backend: this.name }) : undefined;
  }

  /** What was read of `path`, and the finds that could list it, may be old now. */
  #forget(path: string): void {
    this.#guard.invalidate(`${path}\u0000`);
    this.#walks.invalidateWhere((key) => walkCovers(key, path));
  }

  /** A reachability call, through the breaker and the bucket like any other (readiness caches it). */
  check(signal?: AbortSignal): Promise<void> {
    return this.#guard.call('check', signal, (s) => this.#adapter.check(s));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#guard.close();
    this.#walks.clear();
    await this.#adapter.close();
  }
}

export function coalesceKey(path: string, version: string | undefined, identity: string): string {
  return `${path}\u0000${version ?? ''}\u0000${identity}`;
}
