/**
 * What every issuer gets, in this order (as backends/guard.ts does for secret backends):
 *   tenancy (namespace, role, then the names and CA flag of sign / issue against the issuer's
 *   name policy) → circuit breaker → token bucket → per-request timeout → issuer,
 * with every call reported to the backend metrics (sign, issue and revoke count as writes).
 * Anything an issuer throws that is not a BackendError becomes `Unknown` without its message.
 */
import { Breaker } from '../backends/breaker.ts';
import type { Clock } from '../backends/clock.ts';
import { BackendError, isAbort, isBackendError, withBackend } from '../backends/errors.ts';
import type { BackendMetrics, BackendOutcome } from '../backends/metrics.ts';
import { TokenBucket } from '../backends/rate-limit.ts';
import {
  compileNamespaceGlob,
  compileRoleGlob,
  NAMESPACE_PLACEHOLDER,
  type NamespaceMatcher,
  type TemplatedMatcher,
} from '../backends/glob.ts';
import type { CallContext } from '../backends/types.ts';
import type { CertificateRequestSpec } from '../pki/index.ts';
import type { NamePolicy } from './name-policy.ts';
import type { IssuedCertificate, Issuer, IssueRequest, SignRequest } from './types.ts';

export interface IssuerGuardOptions {
  readonly allowedNamespaces: readonly string[];
  /** Role globs (`{namespace}` templated, see `roleGlobProblem`); undefined: roles are not checked. */
  readonly allowedRoles?: readonly string[];
  readonly rateLimit?: { readonly qps: number; readonly burst: number; readonly maxWait: number };
  readonly circuitBreaker?: { readonly failureThreshold: number; readonly halfOpenAfter: number };
  /** Per-request timeout, ms; undefined: none (in-process issuers). */
  readonly timeout?: number;
  /** What may be certified for a namespace (names, CA flag); undefined: not checked. */
  readonly namePolicy?: NamePolicy;
}

export interface IssuerGuardDeps {
  readonly clock: Clock;
  readonly metrics: BackendMetrics;
}

export class GuardedIssuer implements Issuer {
  readonly name: string;
  readonly type: Issuer['type'];
  readonly supportsRevocation: boolean;
  readonly #inner: Issuer;
  readonly #opts: IssuerGuardOptions;
  readonly #deps: IssuerGuardDeps;
  readonly #namespaces: readonly NamespaceMatcher[];
  readonly #roles: readonly TemplatedMatcher[] | undefined;
  readonly #bucket: TokenBucket | undefined;
  readonly #breaker: Breaker | undefined;
  #closed = false;

  constructor(inner: Issuer, opts: IssuerGuardOptions, deps: IssuerGuardDeps) {
    this.name = inner.name;
    this.type = inner.type;
    this.supportsRevocation = inner.supportsRevocation;
    this.#inner = inner;
    this.#opts = opts;
    this.#deps = deps;
    this.#namespaces = opts.allowedNamespaces.map(compileNamespaceGlob);
    this.#roles = opts.allowedRoles?.map(compileRoleGlob);
    this.#bucket = opts.rateLimit
      ? new TokenBucket({
          qps: opts.rateLimit.qps,
          burst: opts.rateLimit.burst,
          maxWaitMs: opts.rateLimit.maxWait,
          clock: deps.clock,
          name: inner.name,
        })
      : undefined;
    this.#breaker = opts.circuitBreaker
      ? new Breaker({
          name: inner.name,
          failureThreshold: opts.circuitBreaker.failureThreshold,
          halfOpenAfterMs: opts.circuitBreaker.halfOpenAfter,
          onStateChange: (state) => deps.metrics.circuitState(inner.name, state),
        })
      : undefined;
    if (this.#breaker) deps.metrics.circuitState(inner.name, 'closed');
  }

  sign(req: SignRequest, ctx: CallContext): Promise<IssuedCertificate> {
    return this.#call(ctx, req.role, (signal) => this.#inner.sign(req, { ...ctx, signal }), req);
  }

  issue(req: IssueRequest, ctx: CallContext): Promise<IssuedCertificate> {
    return this.#call(ctx, req.role, (signal) => this.#inner.issue(req, { ...ctx, signal }), req);
  }

  revoke(serialNumber: string, ctx: CallContext & { role?: string }): Promise<void> {
    return this.#call(ctx, ctx.role, (signal) => this.#inner.revoke(serialNumber, { ...ctx, signal }));
  }

  /** A reachability call, through the breaker and the bucket like any other (readiness caches it). */
  check(signal?: AbortSignal): Promise<void> {
    return this.#guarded('check', signal, (s) => this.#inner.check(s));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#bucket?.close(this.#shutDown());
    await this.#inner.close();
  }

  /** Tenancy: the namespace may use this issuer, and this role. */
  #denied(namespace: string, role: string | undefined): BackendError | undefined {
    if (this.#closed) return this.#shutDown();
    if (!this.#namespaces.some((n) => n.test(namespace))) {
      return new BackendError(
        'TenancyDenied',
        `namespace "${namespace}" may not use issuer "${this.name}" (allowedNamespaces: ${this.#opts.allowedNamespaces.join(', ')})`,
        { backend: this.name },
      );
    }
    const roles = this.#roles;
    if (roles && role !== undefined && !roles.some((g) => g.test(role, namespace))) {
      const resolved = roles.map((g) => g.glob.replaceAll(NAMESPACE_PLACEHOLDER, namespace)).join(', ');
      return new BackendError(
        'TenancyDenied',
        `role "${role}" of issuer "${this.name}" is not allowed for namespace "${namespace}" (allowedRoles: ${resolved})`,
        { backend: this.name },
      );
    }
    return undefined;
  }

  /** The issuer's name policy: every name, the CA flag and CA-only usages, before any signing. */
  #policyDenied(namespace: string, request: CertificateRequestSpec): BackendError | undefined {
    const refused = this.#opts.namePolicy?.violations(request, namespace) ?? [];
    if (refused.length === 0) return undefined;
    return new BackendError(
      'TenancyDenied',
      `issuer "${this.name}" does not certify for namespace "${namespace}": ${refused.join('; ')}`,
      { backend: this.name },
    );
  }

  async #call<T>(
    ctx: CallContext,
    role: string | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    request?: CertificateRequestSpec,
  ) {
    const denied =
      this.#denied(ctx.namespace, role) ??
      (request === undefined ? undefined : this.#policyDenied(ctx.namespace, request));
    if (denied) {
      this.#deps.metrics.request(this.name, 'write', denied.code, 0);
      throw denied;
    }
    return this.#guarded('write', ctx.signal, fn);
  }

  /** One request through breaker, bucket and timeout, reported to the metrics. */
  async #guarded<T>(
    op: 'write' | 'check',
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const started = this.#deps.clock.now();
    try {
      const run = async () => {
        if (this.#bucket) {
          try {
            await this.#bucket.acquire(signal);
          } catch (err) {
            if (isBackendError(err) && err.code === 'Throttled')
              this.#deps.metrics.throttled(this.name, 'local');
            throw err;
          }
        }
        return this.#withTimeout(signal, fn);
      };
      const result = await (this.#breaker ? this.#breaker.execute(run) : run());
      this.#deps.metrics.request(this.name, op, 'success', this.#deps.clock.now() - started);
      return result;
    } catch (err) {
      const e = this.#clean(err, signal);
      if (isBackendError(e) && e.code === 'Throttled' && e.retryAfterMs !== undefined) {
        this.#bucket?.blockUntil(this.#deps.clock.now() + e.retryAfterMs);
      }
      this.#deps.metrics.request(this.name, op, outcome(e), this.#deps.clock.now() - started);
      throw e;
    }
  }

  async #withTimeout<T>(outer: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (outer?.aborted) throw outer.reason;
    const controller = new AbortController();
    const onAbort = () => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onAbort, { once: true });
    const timeoutMs = this.#opts.timeout;
    const timer =
      timeoutMs === undefined
        ? undefined
        : this.#deps.clock.setTimeout(
            () =>
              controller.abort(
                new BackendError(
                  'Unavailable',
                  `issuer "${this.name}" did not answer within ${timeoutMs}ms`,
                  {
                    backend: this.name,
                  },
                ),
              ),
            timeoutMs,
          );
    try {
      return await new Promise<T>((resolve, reject) => {
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
        fn(controller.signal).then(resolve, reject);
      });
    } finally {
      if (timer !== undefined) this.#deps.clock.clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  }

  #clean(err: unknown, signal: AbortSignal | undefined): unknown {
    if (isAbort(err, signal) && signal?.aborted) return err;
    if (isBackendError(err)) return withBackend(err, this.name);
    return new BackendError('Unknown', `issuer "${this.name}": unexpected ${errorName(err)}`, {
      backend: this.name,
    });
  }

  #shutDown(): BackendError {
    return new BackendError('Unavailable', `issuer "${this.name}" is shut down`, { backend: this.name });
  }
}

function outcome(err: unknown): BackendOutcome {
  return isBackendError(err) ? err.code : 'Cancelled';
}

function errorName(err: unknown): string {
  const name = err instanceof Error ? err.name : typeof err;
  return /^[A-Za-z][\w.]{0,63}$/.test(name) ? name : 'error';
}
