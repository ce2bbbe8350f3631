/**
 * Vault / OpenBao KV v2 backend.
 *   read:  GET  <mount>/data/<path>[?version=N] → data.data, data.metadata.version
 *   write: POST <mount>/data/<path> {data, options.cas} → data.version
 *   list:  LIST <mount>/metadata/<folder> per page, one folder a page (`list.ts`); with tags,
 *          GET <mount>/metadata/<path> per listed secret (`custom_metadata`, every pair must match)
 *   delete: GET <mount>/metadata/<path> (NotFound when missing or the newest version is deleted
 *          already), then DELETE <mount>/data/<path> (the newest version, undeletable) or
 *          DELETE <mount>/metadata/<path> (scope `all`: every version and the metadata)
 *   restore: GET <mount>/data/<path>?version=N, then POST it as a new version by check-and-set
 *          over `cas` or the metadata's current_version (the newest may be deleted: unreadable)
 *   check: GET  sys/health
 * A permission error with a cached token triggers one check of the token (lookup-self): if
 * Vault no longer accepts it, it is dropped and the call retried once with a new token; a
 * valid token that lacks the policy is not retried (that would be a login per reconcile).
 */
import type { SecretFileReader } from '../../config/files.ts';
import type { VaultBackendConfig } from '../../config/schema.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import type { Clock } from '../../kube/clock.ts';
import { BackendError, isBackendError } from '../../resilience/errors.ts';
import type { SecretsApi, TokenSource } from '../kube-client.ts';
import { dataFromObject } from '../property.ts';
import pLimit from 'p-limit';
import type {
  BackendAdapter,
  CallContext,
  DeleteRequest,
  ListPage,
  ListRequest,
  ReadRequest,
  RemoteSecret,
  RestoreRequest,
  WriteRequest,
  WriteResult,
} from '../types.ts';
import { createVaultApi, type AuthResult, type VaultApi } from './api.ts';
import { LoginAuth, StaticTokenAuth, type VaultAuth } from './auth.ts';
import { hasEveryTag } from '../cloud/listing.ts';
import { withVaultToken } from './with-token.ts';
import { DEFAULT_MAX_DEPTH, decodeWalk, encodeWalk, nextPending, visitFolder } from './list.ts';

export interface VaultBackendDeps {
  readonly clock: Clock;
  /** The operator's namespace and ServiceAccount (defaults for secretRef and `serviceAccount: operator`). */
  readonly operator: { readonly namespace: string; readonly serviceAccountName: string };
  /** Needed for `auth.kubernetes`. */
  readonly tokenSource?: TokenSource;
  /** Needed for `secretRef` / `secretIdRef`. */
  readonly secrets?: SecretsApi;
  /** Needed for `tokenFile` / `secretIdFile`. */
  readonly readSecretFile?: SecretFileReader;
  /** Test seam: the Vault API (default: node-vault against `address`). */
  readonly api?: VaultApi;
  /** Told about logins and renewals. */
  readonly onAuthEvent?: (event: 'login' | 'renew' | 'renew-failed', identity: string) => void;
}

/** Metadata reads in flight at once when a page's secrets are matched against tags. */
const TAG_READS = 8;

const SA_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export class VaultBackend implements BackendAdapter {
  readonly name: string;
  readonly type = 'vault';
  readonly #cfg: VaultBackendConfig;
  readonly #api: VaultApi;
  readonly #auth: VaultAuth;

  constructor(cfg: VaultBackendConfig, deps: VaultBackendDeps) {
    this.name = cfg.name;
    this.#cfg = cfg;
    this.#api =
      deps.api ??
      createVaultApi({
        address: cfg.address,
        ...(cfg.namespace === undefined ? {} : { namespace: cfg.namespace }),
        ...(cfg.tls.caPem === undefined ? {} : { caPem: cfg.tls.caPem }),
        allowHttp: cfg.tls.insecure,
      });
    this.#auth = createAuth(cfg, deps, this.#api);
  }

  identity(ctx: CallContext): string {
    return this.#auth.identity(ctx);
  }

  async read(req: ReadRequest, ctx: CallContext): Promise<RemoteSecret> {
    const version = req.version === undefined ? undefined : parseVersion(req.version, this.name);
    const result = await this.#withToken(ctx, (token, signal) =>
      this.#api.kvRead(this.#cfg.kv.mount, req.path, version, token, signal),
    );
    return { data: dataFromObject(result.data), version: String(result.version) };
  }

  async write(req: WriteRequest, ctx: CallContext): Promise<WriteResult> {
    const cas = req.cas === undefined ? undefined : parseVersion(req.cas, this.name, true);
    const data: Record<string, string> = {};
    for (const [key, value] of req.data.reveal()) {
      const text = value.toString('utf8');
      if (!Buffer.from(text, 'utf8').equals(value)) {
        throw new BackendError(
          'InvalidRequest',
          `value of key "${key}" is not UTF-8 text; Vault KV stores strings`,
          {
            backend: this.name,
          },
        );
      }
      data[key] = text;
    }
    const result = await this.#withToken(ctx, (token, signal) =>
      this.#api.kvWrite(this.#cfg.kv.mount, req.path, data, cas, token, signal),
    );
    return { version: String(result.version) };
  }

  async list(req: ListRequest, page: string | undefined, ctx: CallContext): Promise<ListPage> {
    const maxDepth = req.maxDepth ?? DEFAULT_MAX_DEPTH;
    const pending = decodeWalk(page, req.prefix, maxDepth, this.name);
    const folder = pending[pending.length - 1] as (typeof pending)[number];
    const keys = await this.#withToken(ctx, (token, signal) =>
      this.#api.kvList(this.#cfg.kv.mount, folder.path, token, signal),
    );
    const { paths, folders } = visitFolder(folder, keys, req.prefix, maxDepth);
    const tags = req.tags ?? {};
    const found = Object.keys(tags).length === 0 ? paths : await this.#tagged(paths, tags, ctx);
    const next = encodeWalk(nextPending(pending, folders));
    return { paths: found, ...(next === undefined ? {} : { next }) };
  }

  /**
   * KV v2 rollback: the version's value written as the newest version. Not the guard's default
   * (read the latest for its version): after a delete of the newest version nothing reads as the
   * latest, but the metadata still says which version a check-and-set must go over.
   */
  async restore(req: RestoreRequest, ctx: CallContext): Promise<WriteResult> {
    const version = parseVersion(req.version, this.name);
    const given = req.cas === undefined ? undefined : parseVersion(req.cas, this.name, true);
    const mount = this.#cfg.kv.mount;
    const written = await this.#withToken(ctx, async (token, signal) => {
      const old = await this.#api.kvRead(mount, req.path, version, token, signal);
      const cas = given ?? (await this.#api.kvMetadata(mount, req.path, token, signal)).currentVersion;
      // As read: structured (JSON) values stay structured.
      return this.#api.kvWrite(mount, req.path, old.data, cas, token, signal);
    });
    return { version: String(written.version) };
  }

  async delete(req: DeleteRequest, ctx: CallContext): Promise<void> {
    const mount = this.#cfg.kv.mount;
    await this.#withToken(ctx, async (token, signal) => {
      // KV answers a delete of nothing with success: look first, so a wrong path says so.
      const meta = await this.#api.kvMetadata(mount, req.path, token, signal);
      if (req.scope === 'latest' && meta.latestDeleted) {
        throw new BackendError(
          'NotFound',
          `vault delete "${req.path}": the newest version is deleted already`,
          {
            backend: this.name,
          },
        );
      }
      await this.#api.kvDelete(mount, req.path, req.scope, token, signal);
    });
  }

  /** The paths whose `custom_metadata` holds every pair of `tags`; one gone since the listing is left out. */
  async #tagged(paths: readonly string[], tags: Readonly<Record<string, string>>, ctx: CallContext) {
    const limit = pLimit(TAG_READS);
    const mount = this.#cfg.kv.mount;
    const matched = await Promise.all(
      paths.map((path) =>
        limit(async () => {
          try {
            const meta = await this.#withToken(ctx, (token, signal) =>
              this.#api.kvMetadata(mount, path, token, signal),
            );
            return hasEveryTag(meta.customMetadata, tags) ? path : undefined;
          } catch (err) {
            if (isBackendError(err) && err.code === 'NotFound') return undefined;
            throw err;
          }
        }),
      ),
    );
    return matched.filter((p): p is string => p !== undefined);
  }

  async check(signal?: AbortSignal): Promise<void> {
    const health = await this.#api.health(signal);
    if (!health.initialized)
      throw new BackendError('Unavailable', 'vault is not initialized', { backend: this.name });
    if (health.sealed) throw new BackendError('Unavailable', 'vault is sealed', { backend: this.name });
  }

  async close(): Promise<void> {
    this.#auth.close();
    this.#api.close();
  }

  #withToken<T>(
    ctx: CallContext,
    fn: (token: Sensitive<string>, signal?: AbortSignal) => Promise<T>,
  ): Promise<T> {
    return withVaultToken(this.#auth, this.#api, ctx, fn);
  }
}

function parseVersion(text: string, backend: string, allowZero = false): number {
  const n = /^[0-9]{1,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || (n === 0 && !allowZero)) {
    throw new BackendError(
      'InvalidRequest',
      `version "${text.slice(0, 40)}" must be a positive integer (KV v2)`,
      {
        backend,
      },
    );
  }
  return n;
}

// ---------------------------------------------------------------------------------------------

/** Exported for the Vault PKI issuer (src/issuers), which authenticates the same way. */
export function createAuth(
  cfg: Pick<VaultBackendConfig, 'name' | 'auth' | 'timeout'>,
  deps: VaultBackendDeps,
  api: VaultApi,
): VaultAuth {
  const { token, appRole, kubernetes } = cfg.auth;
  const c = credentials(cfg, deps, api);
  if (token) {
    if (token.value) {
      const value = token.value;
      return new StaticTokenAuth(async () => value);
    }
    if (token.tokenFile) return new StaticTokenAuth(c.readFile(token.tokenFile, 'the Vault token'));
    if (token.secretRef) return new StaticTokenAuth(c.readRef(token.secretRef, 'the Vault token'));
  }
  if (appRole) return appRoleAuth(appRole, c);
  if (kubernetes) return kubernetesAuth(kubernetes, c);
  throw new Error(`backend "${cfg.name}": no auth method configured`);
}

type AuthConfig = VaultBackendConfig['auth'];
type Credentials = ReturnType<typeof credentials>;

/** Where an auth method gets its credentials from, and its login, with this backend's messages. */
function credentials(
  cfg: Pick<VaultBackendConfig, 'name' | 'timeout'>,
  deps: VaultBackendDeps,
  api: VaultApi,
) {
  const need = <T>(dep: T | undefined, what: string): T => {
    if (dep === undefined) throw new Error(`backend "${cfg.name}": ${what} is required by its auth config`);
    return dep;
  };
  const readRef = (ref: { name: string; key: string; namespace?: string }, what: string) => {
    const secrets = need(deps.secrets, 'a Kubernetes Secrets client');
    return async (signal?: AbortSignal): Promise<Sensitive<string>> => {
      const ns = ref.namespace ?? deps.operator.namespace;
      const where = `Secret ${ns}/${ref.name}`;
      let secret;
      try {
        secret = await secrets.get(ns, ref.name, signal);
      } catch (err) {
        throw unauthenticated(err, `cannot read ${what} from ${where}`, cfg.name);
      }
      const b64 = secret?.data?.[ref.key];
      if (b64 === undefined) {
        const why = secret ? `has no key "${ref.key}"` : 'not found';
        throw new BackendError('Unauthenticated', `cannot read ${what}: ${where} ${why}`, {
          backend: cfg.name,
        });
      }
      return new Sensitive(
        Buffer.from(b64, 'base64')
          .toString('utf8')
          .replace(/\r?\n$/, ''),
      );
    };
  };
  const readFile = (path: string, what: string) => {
    const reader = need(deps.readSecretFile, 'a secret file reader');
    return async (): Promise<Sensitive<string>> => {
      try {
        return await reader(path);
      } catch {
        throw new BackendError('Unauthenticated', `cannot read ${what} from ${path}`, { backend: cfg.name });
      }
    };
  };
  const login = (mountPath: string, identity: string, body: Record<string, string>, signal: AbortSignal) =>
    api.login(mountPath, new Sensitive(body), signal).catch((err: unknown) => {
      throw unauthenticated(err, `login at auth/${mountPath} as ${identity} failed`, cfg.name);
    });
  /** What every login-based method shares. */
  const base = {
    clock: deps.clock,
    api,
    timeoutMs: cfg.timeout,
    ...(deps.onAuthEvent ? { onEvent: deps.onAuthEvent } : {}),
  };
  return { name: cfg.name, deps, need, readRef, readFile, login, base };
}

function appRoleAuth(appRole: NonNullable<AuthConfig['appRole']>, c: Credentials): VaultAuth {
  const secretId = appRole.secretIdFile
    ? c.readFile(appRole.secretIdFile, 'the AppRole secret_id')
    : c.readRef(c.need(appRole.secretIdRef, 'secretIdFile or secretIdRef'), 'the AppRole secret_id');
  return new LoginAuth({
    ...c.base,
    identity: () => 'approle',
    login: async (_ctx, signal): Promise<AuthResult> => {
      const id = await secretId(signal);
      return c.login(
        appRole.mountPath,
        'AppRole',
        { role_id: appRole.roleId, secret_id: id.reveal() },
        signal,
      );
    },
  });
}

function kubernetesAuth(kubernetes: NonNullable<AuthConfig['kubernetes']>, c: Credentials): VaultAuth {
  const { deps, name } = c;
  const tokenSource = c.need(deps.tokenSource, 'a ServiceAccount TokenSource');
  const who = (ctx: CallContext): [string, string] => {
    if (kubernetes.serviceAccount === 'operator')
      return [deps.operator.namespace, deps.operator.serviceAccountName];
    const sa = ctx.serviceAccount ?? kubernetes.serviceAccountName;
    if (sa.length > 253 || !SA_NAME.test(sa)) {
      throw new BackendError('InvalidRequest', `"${sa.slice(0, 80)}" is not a ServiceAccount name`, {
        backend: name,
      });
    }
    return [ctx.namespace, sa];
  };
  return new LoginAuth({
    ...c.base,
    identity: (ctx) => who(ctx).join('/'),
    login: async (ctx, signal): Promise<AuthResult> => {
      const [ns, sa] = who(ctx);
      let jwt: Sensitive<string>;
      try {
        jwt = await tokenSource.getServiceAccountToken(
          ns,
          sa,
          kubernetes.audiences,
          Math.round(kubernetes.tokenExpiration / 1000),
          signal,
        );
      } catch (err) {
        if (isBackendError(err) && err.code === 'NotFound') {
          throw new BackendError(
            'Unauthenticated',
            `ServiceAccount ${ns}/${sa} not found; create it or name another one for Vault Kubernetes auth`,
            { backend: name },
          );
        }
        throw unauthenticated(err, `cannot get a token for ServiceAccount ${ns}/${sa}`, name, false);
      }
      const role = kubernetes.role.replaceAll('{namespace}', ns);
      return c.login(kubernetes.mountPath, `${ns}/${sa} (role ${role})`, { role, jwt: jwt.reveal() }, signal);
    },
  });
}

/**
 * Wraps a credential failure: transient problems stay as they are (retry later); anything
 * else becomes Unauthenticated with our context (or keeps its code when `recode` is false).
 */
function unauthenticated(err: unknown, context: string, backend: string, recode = true): unknown {
  if (!isBackendError(err)) return err;
  if (err.transient)
    return new BackendError(err.code, `${context}: ${err.message}`, {
      transient: true,
      backend,
      ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
    });
  return new BackendError(recode ? 'Unauthenticated' : err.code, `${context}: ${err.message}`, { backend });
}
