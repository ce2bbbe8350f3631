/**
 * Vault tokens: where they come from and how long they are kept.
 *
 * - `StaticTokenAuth`: a token given to us (file, Secret, inline). Kept until Vault rejects
 *   it, then read again from its source.
 * - `LoginAuth`: a token from a login (AppRole, Kubernetes), cached per identity (for
 *   Kubernetes auth: namespace/ServiceAccount). When two thirds of its TTL have passed the
 *   next use renews it (renew-self); if renewal fails, is refused or leaves too little time,
 *   it logs in again. Concurrent refreshes for one identity share one request, so there is
 *   never a login per reconcile. Identities unused for long are dropped (LRU bound).
 */
import { LRUCache } from 'lru-cache';
import type { Sensitive } from '../../secrets/sensitive.ts';
import { raceSignal, type Clock } from '../../kube/clock.ts';
import { withTimeout } from '../../resilience/timeout.ts';
import { BackendError } from '../../resilience/errors.ts';
import type { CallContext } from '../types.ts';
import type { AuthResult, VaultApi } from './api.ts';

export interface AuthToken {
  readonly identity: string;
  readonly value: Sensitive<string>;
  /** True when the token was cached (it may have been revoked since). */
  readonly fromCache: boolean;
}

export interface VaultAuth {
  /** The identity a call runs as (cache key and coalescing key). */
  identity(ctx: CallContext): string;
  /** A token for `ctx`; rejects with BackendError (Unauthenticated for bad credentials). */
  token(ctx: CallContext, signal?: AbortSignal): Promise<AuthToken>;
  /** Forget `value` for `identity` (Vault rejected it); the next `token()` gets a new one. */
  invalidate(identity: string, value: Sensitive<string>): void;
  close(): void;
}

// ---------------------------------------------------------------------------------------------

export class StaticTokenAuth implements VaultAuth {
  readonly #load: () => Promise<Sensitive<string>>;
  #value: Sensitive<string> | undefined;
  #loading: Promise<Sensitive<string>> | undefined;

  /** `load` reads the token from its source (file, Secret, config). */
  constructor(load: () => Promise<Sensitive<string>>) {
    this.#load = load;
  }

  identity(): string {
    return 'token';
  }

  async token(_ctx: CallContext, signal?: AbortSignal): Promise<AuthToken> {
    if (this.#value) return { identity: 'token', value: this.#value, fromCache: true };
    if (!this.#loading) {
      const loading = this.#load()
        .then((v) => (this.#value = v))
        .finally(() => {
          if (this.#loading === loading) this.#loading = undefined;
        });
      loading.catch(() => undefined);
      this.#loading = loading;
    }
    const value = await raceSignal(this.#loading, signal);
    return { identity: 'token', value, fromCache: false };
  }

  invalidate(_identity: string, value: Sensitive<string>): void {
    if (this.#value === value) this.#value = undefined;
  }

  close(): void {
    this.#value = undefined;
  }
}

// ---------------------------------------------------------------------------------------------

export interface LoginAuthOptions {
  readonly clock: Clock;
  readonly api: Pick<VaultApi, 'renewSelf'>;
  readonly identity: (ctx: CallContext) => string;
  /** Logs in for `ctx`; rejects with BackendError. */
  readonly login: (ctx: CallContext, signal: AbortSignal) => Promise<AuthResult>;
  /** Timeout of one login or renewal, ms. */
  readonly timeoutMs: number;
  /** Fraction of the TTL after which the token is renewed (default 2/3). */
  readonly renewFraction?: number;
  /** Identities kept (least recently used dropped first). */
  readonly maxIdentities?: number;
  /** Told about every login and renewal (for metrics and tests). */
  readonly onEvent?: (event: 'login' | 'renew' | 'renew-failed', identity: string) => void;
}

interface Entry {
  readonly token: Sensitive<string>;
  readonly expiresAt: number;
  readonly renewAt: number;
  readonly renewable: boolean;
  /** TTL granted by the login, ms: a renewal granting much less means max TTL is near. */
  readonly loginTtlMs: number;
}

/** Renewed tokens must keep at least this long, or we log in again. */
const MIN_RENEWED_TTL_MS = 10_000;

export class LoginAuth implements VaultAuth {
  readonly #o: LoginAuthOptions;
  readonly #fraction: number;
  /** Tokens per identity, the least recently used dropped past `maxIdentities`. */
  readonly #cache: LRUCache<string, Entry>;
  readonly #inflight = new Map<string, Promise<Entry>>();

  constructor(options: LoginAuthOptions) {
    this.#o = options;
    this.#fraction = options.renewFraction ?? 2 / 3;
    this.#cache = new LRUCache({ max: options.maxIdentities ?? 10_000 });
  }

  identity(ctx: CallContext): string {
    return this.#o.identity(ctx);
  }

  /** Cached identities (for tests and metrics). */
  get size(): number {
    return this.#cache.size;
  }

  async token(ctx: CallContext, signal?: AbortSignal): Promise<AuthToken> {
    const id = this.#o.identity(ctx);
    const entry = this.#cache.get(id);
    if (entry && this.#o.clock.now() < entry.renewAt) {
      return { identity: id, value: entry.token, fromCache: true };
    }
    const fresh = await raceSignal(this.#refresh(id, entry, ctx), signal);
    return { identity: id, value: fresh.token, fromCache: false };
  }

  invalidate(identity: string, value: Sensitive<string>): void {
    if (this.#cache.peek(identity)?.token === value) this.#cache.delete(identity);
  }

  close(): void {
    this.#cache.clear();
  }

  #refresh(id: string, old: Entry | undefined, ctx: CallContext): Promise<Entry> {
    const running = this.#inflight.get(id);
    if (running) return running;
    const work = (async () => {
      const { clock } = this.#o;
      if (old && old.renewable && clock.now() < old.expiresAt - MIN_RENEWED_TTL_MS) {
        try {
          const renewed = await this.#withTimeout((s) => this.#o.api.renewSelf(old.token, s));
          const entry = this.#entry(old.token, renewed, old.loginTtlMs);
          const left = entry.expiresAt - clock.now();
          if (left >= MIN_RENEWED_TTL_MS && left >= old.loginTtlMs / 10) {
            this.#o.onEvent?.('renew', id);
            return this.#store(id, entry);
          }
        } catch {
          // Renewal refused or failed: fall through to a new login.
        }
        this.#o.onEvent?.('renew-failed', id);
      }
      const result = await this.#withTimeout((s) => this.#o.login(ctx, s));
      this.#o.onEvent?.('login', id);
      return this.#store(id, this.#entry(result.token, result, undefined));
    })();
    const tracked = work.finally(() => this.#inflight.delete(id));
    tracked.catch(() => undefined);
    this.#inflight.set(id, tracked);
    return tracked;
  }

  #entry(token: Sensitive<string>, result: AuthResult, loginTtlMs: number | undefined): Entry {
    const now = this.#o.clock.now();
    const ttlMs = result.leaseDurationS * 1000;
    if (ttlMs <= 0) {
      return { token, expiresAt: Infinity, renewAt: Infinity, renewable: false, loginTtlMs: Infinity };
    }
    return {
      token,
      expiresAt: now + ttlMs,
      renewAt: now + ttlMs * this.#fraction,
      renewable: result.renewable,
      loginTtlMs: loginTtlMs ?? ttlMs,
    };
  }

  #store(id: string, entry: Entry): Entry {
    this.#cache.set(id, entry);
    return entry;
  }

  #withTimeout<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { clock, timeoutMs } = this.#o;
    const timedOut = () =>
      new BackendError('Unavailable', `vault login or renewal did not answer within ${timeoutMs}ms`);
    return withTimeout(clock, timeoutMs, undefined, timedOut, fn);
  }
}
