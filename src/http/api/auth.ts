// Who is calling, and may they? The caller's bearer token is checked with a TokenReview for
// our own audience and each action with a SubjectAccessReview, both answered by the
// kube-apiserver. Decisions are cached for a few seconds (keyed by a hash of the token, never
// the token itself) so a busy caller costs the apiserver one review per TTL, not one per
// request; an accepted token is never cached past its own expiry.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { KubeClient } from '../../kube/client.ts';

export const API_GROUP = 'vaultsync.io';

/** The authenticated caller, as the TokenReview described it. */
export interface Caller {
  readonly user: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  /** Set for ServiceAccount tokens (`system:serviceaccount:<namespace>:<name>`). */
  readonly serviceAccount?: { readonly namespace: string; readonly name: string };
  /** Set for bound tokens of a pod. */
  readonly pod?: string;
  /** The token's extra attributes, passed on to the SubjectAccessReview. */
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** One action on our API group, in RBAC terms. */
export interface AccessRequest {
  readonly verb: 'get' | 'create' | 'update' | 'delete';
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace: string;
  readonly name?: string;
}

export interface Authenticator {
  /** The caller, or undefined when the token is not valid. Rejects when the apiserver cannot answer. */
  authenticate(token: string): Promise<Caller | undefined>;
  /** The caller of a token accepted recently (from the cache, no review sent), else undefined. */
  known(token: string): Caller | undefined;
  /** The review of this token already under way, if one is: a call may wait for it instead. */
  underway?(token: string): Promise<Caller | undefined> | undefined;
}

export interface Authorizer {
  /** Rejects when the apiserver cannot answer. */
  authorize(caller: Caller, access: AccessRequest): Promise<{ allowed: boolean; reason?: string }>;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  /** The requested audiences the token was found valid for. */
  audiences?: string[];
}

const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';
const POD_NAME_EXTRA = 'authentication.kubernetes.io/pod-name';

/**
 * Reads the caller out of a TokenReview status (pure). With `audience`, the status must name it:
 * an authenticator that ignores audiences answers without it, and is not taken at its word.
 */
export function callerFromReview(status: TokenReviewStatus, audience?: string): Caller | undefined {
  const user = status.user;
  if (!status.authenticated || !user?.username) return undefined;
  if (audience !== undefined && !status.audiences?.includes(audience)) return undefined;
  const [namespace, name] = user.username.startsWith(SERVICE_ACCOUNT_PREFIX)
    ? user.username.slice(SERVICE_ACCOUNT_PREFIX.length).split(':')
    : [];
  const pod = user.extra?.[POD_NAME_EXTRA]?.[0];
  return {
    user: user.username,
    ...(user.uid && { uid: user.uid }),
    groups: user.groups ?? [],
    ...(namespace && name && { serviceAccount: { namespace, name } }),
    ...(pod && { pod }),
    ...(user.extra && { extra: user.extra }),
  };
}

const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

/**
 * Concurrent askers of one key share the request under way: a burst of calls with a token not
 * yet cached (a client's first, or the first after the TTL) costs the apiserver one review.
 */
function sharedReviews<T>() {
  const underway = new Map<string, Promise<T>>();
  return {
    underway: (key: string) => underway.get(key),
    run(key: string, review: () => Promise<T>): Promise<T> {
      const running = underway.get(key);
      if (running) return running;
      const started = review().finally(() => underway.delete(key));
      underway.set(key, started);
      return started;
    },
  };
}

/**
 * The `exp` of a JWT, in ms since the epoch; undefined when the token is not a JWT or has none.
 * Read without verifying the signature: it only shortens how long an answer is cached.
 */
export function tokenExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    const exp = (payload as { exp?: unknown } | null)?.exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** How long an accepted token's answer may be reused: the TTL, cut at the token's expiry (≤ 0: not cached). */
export function acceptedTokenTtl(token: string, ttlMs: number, now: number): number {
  const expiry = tokenExpiry(token);
  return expiry === undefined ? ttlMs : Math.min(ttlMs, expiry - now);
}

export interface TokenReviewOptions {
  /** How long an answer is reused, ms. */
  ttlMs: number;
  /** The audience tokens must carry (`api.audience`). */
  audience: string;
  now?: () => number;
}

export function tokenReviewAuthenticator(client: KubeClient, opts: TokenReviewOptions): Authenticator {
  const now = opts.now ?? Date.now;
  // Both answers are cached: a flood of bad tokens must not become a flood of reviews.
  const cache = new LRUCache<string, { caller: Caller | null }>({ max: 10_000, ttl: opts.ttlMs });
  const reviews = sharedReviews<Caller | undefined>();
  const review = async (token: string, key: string) => {
    const answer = await client.rest.request<{ status?: TokenReviewStatus }>({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/tokenreviews',
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, audiences: [opts.audience] },
      },
    });
    const caller = callerFromReview(answer.status ?? {}, opts.audience);
    if (!caller) {
      cache.set(key, { caller: null });
    } else {
      const ttl = acceptedTokenTtl(token, opts.ttlMs, now());
      if (ttl >= 1) cache.set(key, { caller }, { ttl: Math.floor(ttl) });
    }
    return caller;
  };
  return {
    known(token) {
      return cache.get(digest(token))?.caller ?? undefined;
    },
    underway(token) {
      return reviews.underway(digest(token));
    },
    async authenticate(token) {
      const key = digest(token);
      const hit = cache.get(key);
      if (hit) return hit.caller ?? undefined;
      return reviews.run(key, () => review(token, key));
    },
  };
}

export function subjectAccessReviewAuthorizer(client: KubeClient, ttlMs: number): Authorizer {
  const cache = new LRUCache<string, { allowed: boolean; reason?: string }>({ max: 10_000, ttl: ttlMs });
  const reviews = sharedReviews<{ allowed: boolean; reason?: string }>();
  return {
    async authorize(caller, access) {
      const key = JSON.stringify([caller.user, caller.uid, caller.groups, caller.extra, access]);
      const hit = cache.get(key);
      if (hit) return hit;
      return reviews.run(key, async () => {
        const review = await client.rest.request<{ status?: { allowed?: boolean; reason?: string } }>({
          method: 'POST',
          path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: caller.user,
              ...(caller.uid && { uid: caller.uid }),
              groups: caller.groups,
              ...(caller.extra && { extra: caller.extra }),
              resourceAttributes: {
                group: API_GROUP,
                verb: access.verb,
                resource: access.resource,
                ...(access.subresource && { subresource: access.subresource }),
                namespace: access.namespace,
                ...(access.name && { name: access.name }),
              },
            },
          },
        });
        const decision = {
          allowed: review.status?.allowed === true,
          ...(review.status?.reason && { reason: review.status.reason }),
        };
        cache.set(key, decision);
        return decision;
      });
    },
  };
}

/** `Authorization: Bearer <token>` → the token; undefined when absent or malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+([^\s]+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** RBAC wording of an access request, for messages: `create vaultsecrets/sync "db" in "shop"`. */
export function describeAccess(a: AccessRequest): string {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return `${a.verb} ${resource}.${API_GROUP}${a.name ? ` "${a.name}"` : ''} in namespace "${a.namespace}"`;
}
