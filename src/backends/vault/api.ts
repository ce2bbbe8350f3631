/**
 * The narrow Vault/OpenBao interface the backend uses, implemented with node-vault. Nothing
 * outside this file touches node-vault.
 *
 * node-vault is given our own transport (`transport.ts`, its `request-promise` hook) instead of its axios
 * instance, so that: the abort signal reaches the socket; a 429's Retry-After header is read
 * (node-vault drops headers); TLS uses exactly the configured CA (node-vault would honour
 * VAULT_SKIP_VERIFY from the environment); and no error object holding the token header is
 * ever created. The environment defaults node-vault reads (VAULT_TOKEN, VAULT_NAMESPACE,
 * VAULT_PREFIX) are overwritten, and its DEBUG logging (which prints bodies) is off.
 */
import nodeVault from 'node-vault';
import { Sensitive } from '../../secrets/sensitive.ts';
import { BackendError } from '../../resilience/errors.ts';
import { sanitizeServerText } from '../errors.ts';
import { mapVaultError } from './errors.ts';
import { createTransport } from './transport.ts';

export interface KvReadResult {
  /** `data.data`: values as Vault returns them (strings, or JSON for structured values). */
  readonly data: Readonly<Record<string, unknown>>;
  readonly version: number;
}

/** What a KV v2 metadata read tells (never values). */
export interface KvMetadata {
  /** `custom_metadata`: the tags a find matches; string values only. */
  readonly customMetadata: Readonly<Record<string, string>>;
  /** The newest version (0 when none): what a check-and-set write goes over. */
  readonly currentVersion: number;
  /** The newest version is soft-deleted or destroyed (a read of it is NotFound). */
  readonly latestDeleted: boolean;
}

export interface AuthResult {
  readonly token: Sensitive<string>;
  /** Seconds; 0 = does not expire. */
  readonly leaseDurationS: number;
  readonly renewable: boolean;
}

export interface HealthResult {
  readonly initialized: boolean;
  readonly sealed: boolean;
  readonly standby: boolean;
}

/** Every method rejects with BackendError (or the signal's reason when aborted). */
export interface VaultApi {
  kvRead(
    mount: string,
    path: string,
    version: number | undefined,
    token: Sensitive<string>,
    signal?: AbortSignal,
  ): Promise<KvReadResult>;
  /** `data`: strings, or structured values as a read returned them (a restore writes those back). */
  kvWrite(
    mount: string,
    path: string,
    data: Readonly<Record<string, unknown>>,
    cas: number | undefined,
    token: Sensitive<string>,
    signal?: AbortSignal,
  ): Promise<{ version: number }>;
  /** `LIST <mount>/metadata/<folder>`: the folder's keys (sub-folders end in "/"); none when it does not exist. */
  kvList(mount: string, folder: string, token: Sensitive<string>, signal?: AbortSignal): Promise<string[]>;
  /** `GET <mount>/metadata/<path>`: NotFound when the path does not exist. */
  kvMetadata(
    mount: string,
    path: string,
    token: Sensitive<string>,
    signal?: AbortSignal,
  ): Promise<KvMetadata>;
  /** `DELETE <mount>/data/<path>` (the newest version, recoverable) or `<mount>/metadata/<path>` (everything). */
  kvDelete(
    mount: string,
    path: string,
    scope: 'latest' | 'all',
    token: Sensitive<string>,
    signal?: AbortSignal,
  ): Promise<void>;
  /** `POST auth/<mountPath>/login` with `body` (role + jwt, role_id + secret_id, ...). */
  login(
    mountPath: string,
    body: Sensitive<Readonly<Record<string, string>>>,
    signal?: AbortSignal,
  ): Promise<AuthResult>;
  renewSelf(token: Sensitive<string>, signal?: AbortSignal): Promise<AuthResult>;
  lookupSelf(token: Sensitive<string>, signal?: AbortSignal): Promise<{ ttlS: number; renewable: boolean }>;
  health(signal?: AbortSignal): Promise<HealthResult>;
  close(): void;
}

export interface VaultApiOptions {
  readonly address: string;
  /** Vault Enterprise / OpenBao namespace (X-Vault-Namespace). */
  readonly namespace?: string;
  /** PEM CA bundle; the system CAs when left out. */
  readonly caPem?: string;
  /** Allow `http://` (config `tls.insecure`). */
  readonly allowHttp: boolean;
  /** Largest response body accepted. */
  readonly maxResponseBytes?: number;
}

/** The part of node-vault's client used here. */
interface NodeVaultClient {
  read(path: string, requestOptions?: object): Promise<unknown>;
  write(path: string, data: unknown, requestOptions?: object): Promise<unknown>;
  delete(path: string, requestOptions?: object): Promise<unknown>;
  request(options: {
    path: string;
    method: string;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  }): Promise<unknown>;
  token: string;
  namespace?: string;
  pathPrefix?: string;
}

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

function tokenHeaders(token: Sensitive<string>, signal?: AbortSignal) {
  return { headers: { 'X-Vault-Token': token.reveal() }, ...(signal ? { signal } : {}) };
}

function createClient(options: VaultApiOptions, transport: ReturnType<typeof createTransport>) {
  const client = nodeVault({
    endpoint: options.address,
    apiVersion: 'v1',
    debug: () => undefined,
    'request-promise': { defaults: () => transport.request },
  }) as unknown as NodeVaultClient;
  // node-vault falls back to VAULT_TOKEN / VAULT_NAMESPACE / VAULT_PREFIX: never use them.
  client.token = '';
  client.namespace = options.namespace ?? '';
  client.pathPrefix = '';
  return client;
}

/** Runs one Vault call; anything it throws but the caller's own abort is mapped. */
async function call<T>(what: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (signal?.aborted && err === signal.reason) throw err;
    throw mapVaultError(err, { what });
  }
}

/** The token of a login or renewal answer. */
function authResult(body: unknown, what: string): AuthResult {
  const auth = (body as { auth?: { client_token?: unknown; lease_duration?: unknown; renewable?: unknown } })
    ?.auth;
  if (!auth || typeof auth.client_token !== 'string' || auth.client_token === '') {
    throw new BackendError('Unknown', `vault ${what}: answer holds no token`);
  }
  return {
    token: new Sensitive(auth.client_token),
    leaseDurationS: typeof auth.lease_duration === 'number' ? auth.lease_duration : 0,
    renewable: auth.renewable === true,
  };
}

/** The data and version of a KV v2 read answer; a deleted version is NotFound, anything else not KV v2. */
function kvReadAnswer(
  body: unknown,
  what: string,
  mount: string,
): { data: Record<string, unknown>; version: number } {
  const answer = body as
    | {
        data?: {
          data?: unknown;
          metadata?: { version?: unknown; deletion_time?: unknown; destroyed?: unknown };
        };
      }
    | undefined;
  const data = answer?.data?.data;
  const meta = answer?.data?.metadata;
  const deleted =
    meta &&
    (meta.destroyed === true || (typeof meta.deletion_time === 'string' && meta.deletion_time !== ''));
  if ((data === null || data === undefined) && deleted) {
    throw new BackendError('NotFound', `vault ${what}: version was deleted`);
  }
  if (
    data === null ||
    data === undefined ||
    typeof data !== 'object' ||
    Array.isArray(data) ||
    typeof meta?.version !== 'number'
  ) {
    throw new BackendError(
      'InvalidRequest',
      `vault ${what}: answer is not KV version 2 (is "${mount}" a KV v2 mount?)`,
    );
  }
  return { data: data as Record<string, unknown>, version: meta.version };
}

/** The HTTP status of node-vault's error for a non-2xx answer. */
function statusOf(err: unknown): number | undefined {
  const status = (err as { response?: { statusCode?: unknown } } | undefined)?.response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Tags (string `custom_metadata` values) and whether the newest version reads as deleted. */
function kvMetadataAnswer(body: unknown): KvMetadata {
  const data = (
    body as { data?: { custom_metadata?: unknown; current_version?: unknown; versions?: unknown } }
  )?.data;
  const custom = data?.custom_metadata;
  const customMetadata: Record<string, string> = {};
  if (typeof custom === 'object' && custom !== null) {
    for (const [k, v] of Object.entries(custom)) if (typeof v === 'string') customMetadata[k] = v;
  }
  const versions = (
    typeof data?.versions === 'object' && data.versions !== null ? data.versions : {}
  ) as Record<string, { deletion_time?: unknown; destroyed?: unknown } | undefined>;
  const latest = versions[String(data?.current_version)];
  const latestDeleted =
    latest === undefined ||
    latest.destroyed === true ||
    (typeof latest.deletion_time === 'string' && latest.deletion_time !== '');
  const current = data?.current_version;
  const currentVersion = typeof current === 'number' && Number.isSafeInteger(current) ? current : 0;
  return { customMetadata, currentVersion, latestDeleted };
}

/** The calls at `<mount>/metadata/` (and the delete at `data/`): what a find and a delete use. */
function kvMetadataCalls(client: NodeVaultClient): Pick<VaultApi, 'kvList' | 'kvMetadata' | 'kvDelete'> {
  return {
    kvList(mount, folder, token, signal) {
      return call(`list "${folder}"`, signal, async () => {
        let body: unknown;
        try {
          // GET with list=true is LIST (the same `list` capability), without a custom HTTP verb.
          body = await client.read(
            `${encodePath(mount)}/metadata/${encodePath(folder)}?list=true`,
            tokenHeaders(token, signal),
          );
        } catch (err) {
          if (statusOf(err) === 404) return []; // an empty or missing folder
          throw err;
        }
        const keys = (body as { data?: { keys?: unknown } } | undefined)?.data?.keys;
        if (!Array.isArray(keys))
          throw new BackendError('InvalidRequest', `vault list "${folder}": answer holds no keys`);
        return keys.filter((k): k is string => typeof k === 'string' && k !== '');
      });
    },

    kvMetadata(mount, path, token, signal) {
      return call(`read metadata of "${path}"`, signal, async () =>
        kvMetadataAnswer(
          await client.read(`${encodePath(mount)}/metadata/${encodePath(path)}`, tokenHeaders(token, signal)),
        ),
      );
    },

    kvDelete(mount, path, scope, token, signal) {
      const what = scope === 'all' ? `delete all versions of "${path}"` : `delete "${path}"`;
      return call(what, signal, async () => {
        const at = scope === 'all' ? 'metadata' : 'data';
        await client.delete(`${encodePath(mount)}/${at}/${encodePath(path)}`, tokenHeaders(token, signal));
      });
    },
  };
}

export function createVaultApi(options: VaultApiOptions): VaultApi {
  const transport = createTransport(options);
  const client = createClient(options, transport);

  return {
    ...kvMetadataCalls(client),
    kvRead(mount, path, version, token, signal) {
      const what = `read "${path}"${version === undefined ? '' : ` version ${version}`}`;
      return call(what, signal, async () => {
        const query = version === undefined ? '' : `?version=${version}`;
        const body = await client.read(
          `${encodePath(mount)}/data/${encodePath(path)}${query}`,
          tokenHeaders(token, signal),
        );
        return kvReadAnswer(body, what, mount);
      });
    },

    kvWrite(mount, path, data, cas, token, signal) {
      return call(`write "${path}"`, signal, async () => {
        const payload = { data, options: cas === undefined ? {} : { cas } };
        const body = (await client.write(
          `${encodePath(mount)}/data/${encodePath(path)}`,
          payload,
          tokenHeaders(token, signal),
        )) as { data?: { version?: unknown } };
        const version = body?.data?.version;
        if (typeof version !== 'number') {
          throw new BackendError('InvalidRequest', `vault write "${path}": answer is not KV version 2`);
        }
        return { version };
      });
    },

    login(mountPath, body, signal) {
      const what = `login at auth/${mountPath}`;
      return call(what, signal, async () =>
        authResult(
          await client.write(`auth/${encodePath(mountPath)}/login`, body.reveal(), {
            headers: {},
            ...(signal ? { signal } : {}),
          }),
          what,
        ),
      );
    },

    renewSelf(token, signal) {
      return call('renew token', signal, async () =>
        authResult(
          await client.write('auth/token/renew-self', {}, tokenHeaders(token, signal)),
          'renew token',
        ),
      );
    },

    lookupSelf(token, signal) {
      return call('look up token', signal, async () => {
        const body = (await client.read('auth/token/lookup-self', tokenHeaders(token, signal))) as {
          data?: { ttl?: unknown; renewable?: unknown };
        };
        return {
          ttlS: typeof body?.data?.ttl === 'number' ? body.data.ttl : 0,
          renewable: body?.data?.renewable === true,
        };
      });
    },

    health(signal) {
      return call('health check', signal, async () => {
        // node-vault returns the body of sys/health for every status (sealed = 503, ...).
        const body = (await client.request({
          path: '/sys/health?standbyok=true&perfstandbyok=true',
          method: 'GET',
          headers: {},
          ...(signal ? { signal } : {}),
        })) as { initialized?: unknown; sealed?: unknown; standby?: unknown } | undefined;
        if (typeof body !== 'object' || body === null || typeof body.sealed !== 'boolean') {
          throw new BackendError('Unavailable', 'vault health check: unexpected answer');
        }
        return {
          initialized: body.initialized !== false,
          sealed: body.sealed,
          standby: body.standby === true,
        };
      });
    },

    close() {
      transport.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Other engines (PKI): authenticated reads and writes of any path, on the same transport and
// with the same error mapping. Used by the Vault PKI certificate issuer (src/issuers).

/** A Vault answer: `data`, and Vault's `warnings` (sanitised, at most five). */
export interface VaultResponse {
  readonly data: Readonly<Record<string, unknown>>;
  readonly warnings: readonly string[];
}

/** Every method rejects with BackendError (or the signal's reason when aborted). */
export interface VaultRawApi {
  /** `POST <path>` with `body`; `what` names the call in error messages (`sign with role web`). */
  write(
    path: string,
    body: Readonly<Record<string, unknown>>,
    token: Sensitive<string>,
    what: string,
    signal?: AbortSignal,
  ): Promise<VaultResponse>;
  /** `GET <path>`. */
  read(path: string, token: Sensitive<string>, what: string, signal?: AbortSignal): Promise<VaultResponse>;
  close(): void;
}

export function createVaultRawApi(options: VaultApiOptions): VaultRawApi {
  const transport = createTransport(options);
  const client = createClient(options, transport);

  async function raw(what: string, signal: AbortSignal | undefined, fn: () => Promise<unknown>) {
    const body = await call(what, signal, fn);
    const b = (body ?? {}) as { data?: unknown; warnings?: unknown };
    const data = typeof b.data === 'object' && b.data !== null ? (b.data as Record<string, unknown>) : {};
    const warnings = Array.isArray(b.warnings)
      ? b.warnings.slice(0, 5).map((w) => sanitizeServerText(w, 300))
      : [];
    return { data, warnings };
  }

  return {
    write(path, body, token, what, signal) {
      return raw(what, signal, () => client.write(encodePath(path), body, tokenHeaders(token, signal)));
    },
    read(path, token, what, signal) {
      return raw(what, signal, () => client.read(encodePath(path), tokenHeaders(token, signal)));
    },
    close() {
      transport.close();
    },
  };
}
