/**
 * An issuer behind the resilience pipeline (`resilience/call-guard.ts`), as backends/guard.ts puts
 * a secret backend: what is checked here is tenancy — the namespace, the role, then the names and
 * CA flag of sign / issue against the issuer's name policy — before anything is queued or sent.
 * Sign, issue and revoke count as writes in the backend metrics; nothing is coalesced.
 */
import type { Clock } from '../kube/clock.ts';
import { CallGuard } from '../resilience/call-guard.ts';
import { BackendError } from '../resilience/errors.ts';
import type { BackendMetrics } from '../resilience/metrics.ts';
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
  readonly #guard: CallGuard;
  readonly #namespaces: readonly NamespaceMatcher[];
  readonly #roles: readonly TemplatedMatcher[] | undefined;
  #closed = false;

  constructor(inner: Issuer, opts: IssuerGuardOptions, deps: IssuerGuardDeps) {
    this.name = inner.name;
    this.type = inner.type;
    this.supportsRevocation = inner.supportsRevocation;
    this.#inner = inner;
    this.#opts = opts;
    const { rateLimit, circuitBreaker, timeout } = opts;
    this.#guard = new CallGuard(
      {
        kind: 'issuer',
        name: inner.name,
        ...(rateLimit && { rateLimit }),
        ...(circuitBreaker && { circuitBreaker }),
        ...(timeout !== undefined && { timeout }),
      },
      deps,
    );
    this.#namespaces = opts.allowedNamespaces.map(compileNamespaceGlob);
    this.#roles = opts.allowedRoles?.map(compileRoleGlob);
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
    return this.#guard.call('check', signal, (s) => this.#inner.check(s));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#guard.close();
    await this.#inner.close();
  }

  async #call<T>(
    ctx: CallContext,
    role: string | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    request?: CertificateRequestSpec,
  ): Promise<T> {
    this.#guard.admit(
      'write',
      () =>
        this.#denied(ctx.namespace, role) ??
        (request === undefined ? undefined : this.#policyDenied(ctx.namespace, request)),
    );
    return this.#guard.call('write', ctx.signal, fn);
  }

  /** Tenancy: the namespace may use this issuer, and this role. */
  #denied(namespace: string, role: string | undefined): BackendError | undefined {
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
}
