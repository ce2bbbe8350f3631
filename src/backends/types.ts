/**
 * The one interface controllers use to reach a secret backend. Controllers import this file
 * (and `errors.ts`, `property.ts`); only the registry knows the concrete backends.
 */
import type { Sensitive } from '../secrets/sensitive.ts';

/** Secret data: key → bytes, wrapped so it prints as `[REDACTED]`. Treat it as read-only. */
export type SecretData = Sensitive<ReadonlyMap<string, Buffer>>;

export interface ReadRequest {
  /** Backend path, e.g. `shop/db` (no mount prefix, no leading "/"). */
  readonly path: string;
  /** Pin a version (as returned in `RemoteSecret.version`); latest when left out. */
  readonly version?: string;
}

export interface RemoteSecret {
  /** Every key of the remote secret. Non-string values (Vault JSON) are JSON-encoded. */
  readonly data: SecretData;
  /** The version read: KV v2 version, Secret resourceVersion, memory counter. */
  readonly version: string;
  /**
   * When the request that read it started (ms since the epoch): earlier than now when a result
   * read for another caller was shared (CallContext.maxAgeMs). Set by the guarded backend.
   */
  readonly readAt?: number;
}

export interface WriteRequest {
  readonly path: string;
  readonly data: SecretData;
  /**
   * Check-and-set: write only if the current version is this one ("0": only if the path
   * does not exist yet). A mismatch fails with `InvalidRequest`.
   */
  readonly cas?: string;
}

export interface WriteResult {
  /** The version created by the write. */
  readonly version: string;
}

/** Who is asking: used for tenancy rules and, for Vault Kubernetes auth, the identity. */
export interface CallContext {
  /** Namespace of the resource the call is made for. */
  readonly namespace: string;
  /**
   * ServiceAccount in `namespace` to authenticate as, where the backend supports it (Vault
   * Kubernetes auth with `serviceAccount: resource`); default from the backend's config.
   */
  readonly serviceAccount?: string;
  /** Cancels waiting (rate limit) and the request. Rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /**
   * Reads: a result another caller read this recently (ms) may be served instead of a new read
   * (default: the backend's `coalesce.ttl`); 0 asks for a fresh read. Tenancy is checked first.
   */
  readonly maxAgeMs?: number;
}

export interface Backend {
  readonly name: string;
  readonly type: string;
  /** Reads every key of the secret at `path`. Rejects with `BackendError` (`NotFound`, ...). */
  read(req: ReadRequest, ctx: CallContext): Promise<RemoteSecret>;
  /** Writes a new version (replacing all keys) and returns it. */
  write(req: WriteRequest, ctx: CallContext): Promise<WriteResult>;
  /** Connectivity check for `/readyz`; resolves when reachable, else rejects with `BackendError`. */
  check(signal?: AbortSignal): Promise<void>;
  /** Releases connections, timers and cached tokens. */
  close(): Promise<void>;
}

/**
 * What a concrete backend implements; the registry wraps it with tenancy, coalescing, rate
 * limit, circuit breaker and metrics to give a `Backend`.
 */
export interface BackendAdapter extends Backend {
  /**
   * The credentials a call runs with, for coalescing: two reads of one path share a request
   * only when their identities are equal. Constant for backends with one set of credentials.
   */
  identity(ctx: CallContext): string;
}
