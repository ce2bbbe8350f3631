// The one narrow door to the API server for everything except watches.
//
// Why not the generated typed APIs or KubernetesObjectApi: they deserialise known kinds into
// model classes (timestamps become Date, MicroTime needs a special class) while watch events
// arrive as plain JSON, so cached and fetched objects would differ in shape; they cannot send a
// JSON-patch array or target a /status subresource generically; and their ApiException carries
// the raw body and headers. This client reuses client-node's authentication (KubeConfig
// applies the bearer token / client certificate and TLS to the request) and its connection pool (undici),
// returns plain JSON, and turns every failure into a KubeError (errors.ts) at the boundary.
import { type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { type Dispatcher, getGlobalDispatcher } from 'undici';
import { KubeError, fromResponse, toKubeError } from './errors.ts';
import type { WriteFence } from './fence.ts';
import { fencedDispatcher } from './fenced-dispatcher.ts';
import { http1Pool } from './http1-pool.ts';

export type HttpVerb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RestRequest {
  method: HttpVerb;
  /** Absolute API path, e.g. "/api/v1/namespaces/a/configmaps". */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Serialised as JSON (also for apply-patch+yaml: JSON is YAML). */
  body?: unknown;
  /** Content-Type of the body; default application/json. */
  contentType?: string;
  /** Overrides the client's default timeout. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface RestClient {
  /** Resolves the parsed JSON response; rejects with a KubeError. */
  request<T = unknown>(req: RestRequest): Promise<T>;
}

export interface RestClientOptions {
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  userAgent?: string;
  /**
   * Leadership fence for writes: a mutating request is refused (NotLeaderError, as thrown)
   * unless the fence holds right before it is sent, after authentication; the fence's signal
   * also aborts writes in flight. Reads (GET, LIST, WATCH) are never fenced.
   */
  fence?: WriteFence;
}

/** The verbs that change state: the fenced ones. */
export const isMutating = (method: HttpVerb): boolean => method !== 'GET';

export const PatchType = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/**
 * Which connection pool a request may share: the cluster and the TLS identity. client-node
 * builds a new undici Agent (so a new TLS handshake) for every request; keeping one per
 * identity lets requests reuse connections. Tokens travel in headers, so a refreshed token
 * does not need a new pool.
 */
function connectionKey(kc: KubeConfig): string {
  const c = kc.getCurrentCluster();
  const u = kc.getCurrentUser();
  return JSON.stringify([
    c?.server,
    c?.caData,
    c?.caFile,
    c?.skipTLSVerify,
    c?.tlsServerName,
    c?.proxyUrl,
    u?.certData,
    u?.certFile,
    u?.keyData,
    u?.keyFile,
  ]);
}

export function createRestClient(kc: KubeConfig, opts: RestClientOptions = {}): RestClient {
  const pools = new Map<string, Promise<Dispatcher>>();
  const fencedPools = new WeakMap<Dispatcher, Dispatcher>();
  const fenced = (pool: Dispatcher, fence: WriteFence): Dispatcher => {
    let view = fencedPools.get(pool);
    if (!view) fencedPools.set(pool, (view = fencedDispatcher(pool, fence)));
    return view;
  };
  const defaultTimeout = opts.timeoutMs ?? 30_000;
  const userAgent = opts.userAgent ?? 'vaultsync';

  return {
    async request<T>(req: RestRequest): Promise<T> {
      const cluster = kc.getCurrentCluster();
      if (!cluster)
        throw new KubeError({ code: 'Unknown', status: 0, message: 'Unknown: no current cluster' });
      const url = new URL(cluster.server.replace(/\/+$/, '') + req.path);
      for (const [k, v] of Object.entries(req.query ?? {}))
        if (v !== undefined) url.searchParams.set(k, String(v));

      const ctx = new RequestContext(url.toString(), req.method);
      ctx.setHeaderParam('Accept', 'application/json');
      ctx.setHeaderParam('User-Agent', userAgent);
      if (req.body !== undefined) ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
      const fence = opts.fence && isMutating(req.method) ? opts.fence : undefined;
      const signals = [AbortSignal.timeout(req.timeoutMs ?? defaultTimeout)];
      if (req.signal) signals.push(req.signal);
      if (fence) signals.push(fence.signal);

      let dispatcher: Dispatcher;
      try {
        await kc.applySecurityAuthentication(ctx);
        const key = connectionKey(kc);
        let pool = pools.get(key);
        if (!pool) {
          // No dispatcher from client-node (plain HTTP): undici's default, which writes must also fence.
          const fallback = () => (ctx.getDispatcher() as Dispatcher | undefined) ?? getGlobalDispatcher();
          pool = http1Pool(kc, fallback);
          pools.set(key, pool);
          pool.catch(() => pools.delete(key)); // a failed set-up is tried again next time
        }
        const ready = await pool;
        dispatcher = fence ? fenced(ready, fence) : ready;
      } catch (err) {
        throw toKubeError(err);
      }
      // Refused early here; checked again as the request is written (fenced-dispatcher.ts).
      fence?.assertHeld();
      let status: number;
      let headers: Record<string, string>;
      let text: string;
      try {
        // undici's request, not fetch: a string body is written in the same synchronous step as
        // the fence's last check, where fetch streams it a microtask or more later (a gap a
        // frozen process would resume in, sending a write it no longer may).
        const response = await dispatcher.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: req.method,
          headers: ctx.getHeaders(),
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          signal: signals.length === 1 ? signals[0]! : AbortSignal.any(signals),
        });
        status = response.statusCode;
        headers = flatHeaders(response.headers);
        text = await response.body.text();
      } catch (err) {
        // A write cut off by lost leadership says so (it may or may not have been applied).
        if (fence?.signal.aborted) throw fence.signal.reason;
        throw toKubeError(err);
      }
      if (status < 200 || status > 299) throw fromResponse(status, text, headers);
      if (text === '') return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new KubeError({
          code: 'Unknown',
          status,
          message: `Unknown (HTTP ${status}): response was not JSON`,
        });
      }
    },
  };
}

/** undici's response headers, one string per name (repeated headers joined as fetch does). */
function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}
