/**
 * The two things the backend layer needs from the Kubernetes API, as narrow interfaces with
 * implementations over @kubernetes/client-node: Secrets in one namespace (the `kubernetes`
 * backend, `secretRef` credentials) and ServiceAccount tokens (Vault Kubernetes auth).
 * `ApiException` messages embed raw bodies and headers: they are mapped here to BackendError
 * from the status code only.
 */
import {
  ApiException,
  CoreV1Api,
  PatchStrategy,
  VersionApi,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { FieldManager } from '../apis/v1alpha1/field-managers.ts';
import { Sensitive } from '../secrets/sensitive.ts';
import { raceSignal } from '../kube/clock.ts';
import { BackendError } from '../resilience/errors.ts';
import { mapNetworkErrorCode, parseRetryAfter, sanitizeServerText } from './errors.ts';

/** The parts of a Secret the backends use. `data` values are base64, as on the wire. */
export interface KubeSecret {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
}

export interface SecretsApi {
  /** The Secret, or undefined when it does not exist. */
  get(namespace: string, name: string, signal?: AbortSignal): Promise<KubeSecret | undefined>;
  create(namespace: string, secret: KubeSecret, signal?: AbortSignal): Promise<KubeSecret>;
  /**
   * Sets the Secret's `data` with a JSON merge patch (keys set to null are removed) that carries
   * `metadata.resourceVersion` as a precondition: when the Secret changed since that version the
   * API server answers 409 and this fails with a check-and-set InvalidRequest. A patch, not a PUT:
   * the operator is granted `patch` on Secrets, never `update`.
   */
  patchData(
    namespace: string,
    name: string,
    resourceVersion: string,
    data: Readonly<Record<string, string | null>>,
    signal?: AbortSignal,
  ): Promise<KubeSecret>;
  /**
   * One page of the namespace's Secrets matching `labelSelector`, values left out (name, type,
   * labels, resourceVersion only); `continue` is the token of the next page.
   */
  list(namespace: string, page: SecretListPage, signal?: AbortSignal): Promise<SecretList>;
  /**
   * Deletes the Secret if it is still at `resourceVersion` (a precondition: changed since → a
   * check-and-set Conflict); NotFound when it is gone.
   */
  delete(namespace: string, name: string, resourceVersion: string, signal?: AbortSignal): Promise<void>;
  /** Resolves when the API server answers. */
  ping(signal?: AbortSignal): Promise<void>;
}

export interface SecretListPage {
  readonly labelSelector?: string;
  readonly limit: number;
  readonly continue?: string;
}

export interface SecretList {
  readonly items: readonly KubeSecret[];
  readonly continue?: string;
}

export interface TokenSource {
  /** A ServiceAccount token from the TokenRequest API (never cached by the caller for long). */
  getServiceAccountToken(
    namespace: string,
    name: string,
    audiences: readonly string[] | undefined,
    expirationSeconds: number,
    signal?: AbortSignal,
  ): Promise<Sensitive<string>>;
}

// ---------------------------------------------------------------------------------------------

/** Maps anything client-node throws to a BackendError built from codes only. */
export function mapKubeError(err: unknown, what: string, now = Date.now()): BackendError {
  if (err instanceof BackendError) return err;
  if (err instanceof ApiException) {
    const status = err.code;
    const headers = (err.headers ?? {}) as Record<string, string>;
    const reason = statusMessage(err.body);
    switch (true) {
      case status === 401:
        return new BackendError(
          'Unauthenticated',
          `${what}: the API server rejected the operator's credentials (HTTP 401)`,
        );
      case status === 403:
        return new BackendError(
          'PermissionDenied',
          `${what}: forbidden; check the operator's RBAC (HTTP 403)`,
        );
      case status === 404:
        return new BackendError('NotFound', `${what}: not found (HTTP 404)`);
      case status === 409:
        return new BackendError('Conflict', `${what}: conflict, changed concurrently (HTTP 409)`);
      case status === 429: {
        const retryAfterMs = parseRetryAfter(headers['retry-after'] ?? headers['Retry-After'], now);
        return new BackendError('Throttled', `${what}: API server asked to slow down (HTTP 429)`, {
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        });
      }
      case status >= 500:
        return new BackendError('Unavailable', `${what}: API server error (HTTP ${status})`);
      case status >= 400:
        return new BackendError('InvalidRequest', `${what}: ${reason || 'rejected'} (HTTP ${status})`);
      default:
        return new BackendError('Unknown', `${what}: unexpected answer (HTTP ${status})`);
    }
  }
  const code =
    (err as { code?: unknown } | undefined)?.code ?? (err as { cause?: { code?: unknown } })?.cause?.code;
  const net = mapNetworkErrorCode(code);
  if (net) return new BackendError(net.code, `${what}: ${net.phrase}`, { transient: net.transient });
  const kind = err instanceof Error ? err.name : typeof err;
  return new BackendError('Unknown', `${what}: unexpected ${kind}`);
}

function statusMessage(body: unknown): string {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return '';
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return sanitizeServerText(message, 160);
}

/** Options of the client-node APIs built here. */
export interface KubeApiOptions {
  /** Sent as User-Agent: names the replica in the apiserver's audit log (`version.ts`). */
  userAgent?: string;
}

/** Per-request options that pass the abort signal down to fetch and set the User-Agent. */
function withSignalAndAgent(signal: AbortSignal | undefined, userAgent?: string): never | undefined {
  if (!signal && !userAgent) return undefined;
  // client-node's object API runs Observable-style middleware: `pre`/`post` return something
  // with `toPromise()` (its own rxjs stub).
  const resolved = <T>(value: T) => ({ toPromise: () => Promise.resolve(value) });
  const middleware = {
    pre: (ctx: { setSignal(s: AbortSignal): void; setHeaderParam(k: string, v: string): void }) => {
      if (signal) ctx.setSignal(signal);
      if (userAgent) ctx.setHeaderParam('User-Agent', userAgent);
      return resolved(ctx);
    },
    post: (ctx: unknown) => resolved(ctx),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' } as never;
}

async function call<T>(what: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await raceSignal(fn(), signal);
  } catch (err) {
    if (signal?.aborted && err === signal.reason) throw err;
    throw mapKubeError(err, what);
  }
}

const isConflict = (err: unknown) => err instanceof BackendError && err.code === 'Conflict';

/** A precondition on `resourceVersion` failed: the Secret changed since it was read. */
function casConflict(namespace: string, name: string, resourceVersion: string): BackendError {
  return new BackendError(
    'Conflict',
    `check-and-set failed for Secret ${namespace}/${name}: it changed since version ${resourceVersion.slice(0, 40)} (HTTP 409)`,
  );
}

export function kubeSecretsApi(kc: KubeConfig, opts: KubeApiOptions = {}): SecretsApi {
  const core = kc.makeApiClient(CoreV1Api);
  const version = kc.makeApiClient(VersionApi);
  const withSignal = (signal: AbortSignal | undefined) => withSignalAndAgent(signal, opts.userAgent);
  return {
    async get(namespace, name, signal) {
      try {
        return (await call(`read Secret ${namespace}/${name}`, signal, () =>
          core.readNamespacedSecret({ namespace, name }, withSignal(signal)),
        )) as KubeSecret;
      } catch (err) {
        if (err instanceof BackendError && err.code === 'NotFound') return undefined;
        throw err;
      }
    },
    async create(namespace, secret, signal) {
      const body = {
        apiVersion: 'v1',
        kind: 'Secret',
        ...secret,
        metadata: { ...secret.metadata, namespace },
      };
      return (await call(`create Secret ${namespace}/${secret.metadata.name}`, signal, () =>
        core.createNamespacedSecret(
          { namespace, body, fieldManager: FieldManager.KubernetesBackend },
          withSignal(signal),
        ),
      )) as KubeSecret;
    },
    async patchData(namespace, name, resourceVersion, data, signal) {
      const what = `patch Secret ${namespace}/${name}`;
      try {
        return (await raceSignal(
          core.patchNamespacedSecret(
            {
              namespace,
              name,
              body: { metadata: { resourceVersion }, data },
              fieldManager: FieldManager.KubernetesBackend,
            },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch, withSignal(signal)),
          ),
          signal,
        )) as KubeSecret;
      } catch (err) {
        if (signal?.aborted && err === signal.reason) throw err;
        if (err instanceof ApiException && err.code === 409)
          throw casConflict(namespace, name, resourceVersion);
        throw mapKubeError(err, what);
      }
    },
    async list(namespace, page, signal) {
      const list = await call(`list Secrets in ${namespace}`, signal, () =>
        core.listNamespacedSecret(
          {
            namespace,
            limit: page.limit,
            ...(page.labelSelector ? { labelSelector: page.labelSelector } : {}),
            ...(page.continue ? { _continue: page.continue } : {}),
          },
          withSignal(signal),
        ),
      );
      // Values are dropped at once: a listing only names Secrets.
      const items = list.items.map((s) => ({
        metadata: {
          name: s.metadata?.name ?? '',
          ...(s.metadata?.resourceVersion ? { resourceVersion: s.metadata.resourceVersion } : {}),
          ...(s.metadata?.labels ? { labels: s.metadata.labels } : {}),
        },
        ...(s.type ? { type: s.type } : {}),
      }));
      const next = list.metadata?._continue;
      return { items, ...(next ? { continue: next } : {}) };
    },
    async delete(namespace, name, resourceVersion, signal) {
      const what = `delete Secret ${namespace}/${name}`;
      try {
        await call(what, signal, () =>
          core.deleteNamespacedSecret(
            { namespace, name, body: { preconditions: { resourceVersion } } },
            withSignal(signal),
          ),
        );
      } catch (err) {
        throw isConflict(err) ? casConflict(namespace, name, resourceVersion) : err;
      }
    },
    async ping(signal) {
      await call('reach the API server', signal, () => version.getCode(undefined, withSignal(signal)));
    },
  };
}

export function kubeTokenSource(kc: KubeConfig, opts: KubeApiOptions = {}): TokenSource {
  const core = kc.makeApiClient(CoreV1Api);
  const withSignal = (signal: AbortSignal | undefined) => withSignalAndAgent(signal, opts.userAgent);
  return {
    async getServiceAccountToken(namespace, name, audiences, expirationSeconds, signal) {
      const body = {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          ...(audiences && audiences.length > 0 ? { audiences: [...audiences] } : { audiences: [] }),
          expirationSeconds: Math.max(600, Math.round(expirationSeconds)),
        },
      };
      const res = await call(`request a token for ServiceAccount ${namespace}/${name}`, signal, () =>
        core.createNamespacedServiceAccountToken({ namespace, name, body }, withSignal(signal)),
      );
      const token = res.status?.token;
      if (!token) {
        throw new BackendError(
          'Unknown',
          `request a token for ServiceAccount ${namespace}/${name}: empty answer`,
        );
      }
      return new Sensitive(token);
    },
  };
}
