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

/**
 * What to list (`dataFrom[].find`, issue 17): the secrets whose path starts with `prefix` and
 * that carry every tag. Names only — listing never returns values.
 */
export interface ListRequest {
  /** Path prefix: "" for everything the credentials can see, `team-a/` for a folder, `team-a/db` for names that start so. */
  readonly prefix: string;
  /**
   * Every pair must match: AWS and Azure tags, Google and kubernetes labels, Vault KV v2
   * `custom_metadata` (one metadata read per listed path), memory tags.
   */
  readonly tags?: Readonly<Record<string, string>>;
  /** Folder levels below the prefix to descend (hierarchical backends: Vault KV); default 4. */
  readonly maxDepth?: number;
}

/** One page of paths found by an adapter; `next` is the token for the following page. */
export interface ListPage {
  readonly paths: readonly string[];
  readonly next?: string;
}

/** A guarded list: the adapter's pages, filtered and bounded by the guard. */
export interface FindRequest extends ListRequest {
  /** A regular expression (RE2-safe: no backreferences or lookaround) the whole path must match. */
  readonly name?: string;
  /** At most this many paths are returned; more matches set `truncated`. */
  readonly maxItems: number;
}

export interface FoundPaths {
  /** Matching paths the caller's namespace may read, sorted; at most `maxItems`. */
  readonly paths: readonly string[];
  /** More than `maxItems` paths matched (the caller reports TooManyMatches). */
  readonly truncated: boolean;
  /** Matching paths outside the caller's tenancy rules: never read, never named to the caller. */
  readonly refused: number;
}

/**
 * Rollback: make version `version` of `path` the newest, by check-and-set against `cas` when
 * given. Vault KV and Google/Azure write its value as a new version; AWS moves AWSCURRENT.
 */
export interface RestoreRequest {
  readonly path: string;
  readonly version: string;
  readonly cas?: string;
}

/**
 * A recoverable delete: `latest` deletes the newest version (Vault KV soft delete, AWS with a
 * recovery window, Google disables the enabled versions, Azure soft delete); `all` also removes
 * the metadata and every version where the backend can (Vault KV metadata delete).
 */
export interface DeleteRequest {
  readonly path: string;
  readonly scope: 'latest' | 'all';
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
  /**
   * Paths matching `req` (tenancy filtered, bounded; one list shared by concurrent and recent
   * callers like reads). Left out by backends that cannot list.
   */
  find?(req: FindRequest, ctx: CallContext): Promise<FoundPaths>;
  /** Makes an earlier version the newest; tenancy as a write. */
  restore?(req: RestoreRequest, ctx: CallContext): Promise<WriteResult>;
  /** Deletes recoverably; tenancy as a write. Left out by backends that cannot delete. */
  delete?(req: DeleteRequest, ctx: CallContext): Promise<void>;
  /** Connectivity check for `/readyz`; resolves when reachable, else rejects with `BackendError`. */
  check(signal?: AbortSignal): Promise<void>;
  /** Releases connections, timers and cached tokens. */
  close(): Promise<void>;
}

/**
 * What a concrete backend implements; the registry wraps it with tenancy, coalescing, rate
 * limit, circuit breaker and metrics to give a `Backend`.
 */
export interface BackendAdapter extends Omit<Backend, 'find' | 'restore'> {
  /** One page of paths under the prefix with every tag (no name filter, no bound: the guard's). */
  list?(req: ListRequest, page: string | undefined, ctx: CallContext): Promise<ListPage>;
  /** Native restore (AWS: move AWSCURRENT); left out, the guard reads the version and writes it by check-and-set. */
  restore?(req: RestoreRequest, ctx: CallContext): Promise<WriteResult>;
  /**
   * The credentials a call runs with, for coalescing: two reads of one path share a request
   * only when their identities are equal. Constant for backends with one set of credentials.
   */
  identity(ctx: CallContext): string;
}
