/**
 * Azure Key Vault backend (@azure/keyvault-secrets with @azure/identity).
 *   path    = segments joined with "--" into a secret name: `team-a/db` → `team-a--db`
 *             (names hold only letters, digits and "-", and are case-insensitive: paths must
 *             be lower case so that two paths never name one secret)
 *   version = a version ID (32 hex characters); reads report it
 *   read:   GET secret → value (base64-decoded for binary content types) → `cloud/value.ts`
 *   write:  setSecret (a new version; binary as base64 with content type
 *           `application/octet-stream;base64`)
 *   list:   list secret properties, every page in one call (no server-side filter: prefix and
 *           tags are checked here; secrets whose current version is disabled are left out)
 *   restore: GET the chosen version, setSecret of its value, content type and tags
 *   delete: DELETE (soft delete: recoverable for the vault's retention period)
 *   check:  list secrets (one page of one); 403 still proves reachability and credentials
 * The pipeline's retries are off (`maxRetries: 0`, which also stops its own 429 handling):
 * the guard blocks the bucket for the Retry-After and nothing is sent inside it. The SDK is
 * loaded on first use: an operator without this backend does not pay for it.
 */
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { AccessToken, ClientSecretCredential, GetTokenOptions, TokenCredential } from '@azure/identity';
import type { AzureBackendConfig } from '../../config/schema.ts';
import { BackendError, checkAndSetFailed, isBackendError } from '../../resilience/errors.ts';
import type { SecretsApi } from '../kube-client.ts';
import { secretRefReader } from '../cloud/credentials.ts';
import { requireCurrent } from '../cloud/check-and-set.ts';
import { listedPaths, pathOfFlatName } from '../cloud/listing.ts';
import { decodeValue, encodeData, flatName, utf8, VALUE_KEY, type NameRules } from '../cloud/value.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
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
import { mapAzureError } from './errors.ts';

/** The calls used here, as SecretClient has them (a seam for unit tests). */
export interface AzureSecretsClient {
  getSecret(
    name: string,
    options?: { version?: string; abortSignal?: AbortSignal },
  ): Promise<{
    value?: string;
    properties: { version?: string; contentType?: string; tags?: Record<string, string> };
  }>;
  setSecret(
    name: string,
    value: string,
    options?: { contentType?: string; tags?: Record<string, string>; abortSignal?: AbortSignal },
  ): Promise<{ properties: { version?: string } }>;
  listPropertiesOfSecrets(options?: { abortSignal?: AbortSignal }): {
    byPage(settings?: { maxPageSize?: number; continuationToken?: string }): AsyncIterableIterator<unknown>;
  };
  beginDeleteSecret(name: string, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** What a listed page holds per secret (SecretProperties). */
interface ListedItem {
  name?: string;
  enabled?: boolean;
  tags?: Record<string, string>;
}

export interface AzureBackendDeps {
  readonly operatorNamespace: string;
  /** Needed for `auth.clientSecret`. */
  readonly secrets?: SecretsApi;
  /** Test seam: the client. */
  readonly client?: AzureSecretsClient;
  /** List page size (maxresults, 1–25); default 25. Tests ask for small pages. */
  readonly listPageSize?: number;
}

const SECRET_NAME: NameRules = { segmentChars: 'a-z0-9-', maxLength: 127, what: 'Key Vault secret name' };
const VERSION_ID = /^[0-9a-fA-F]{32}$/;
/** List pages walked at most (10,000 secrets at 25 a page, the guard's own bound on a find). */
const MAX_LIST_PAGES = 400;
/** Content type of binary values vaultsync writes (stored base64). */
export const BINARY_CONTENT_TYPE = 'application/octet-stream;base64';
/** Content types whose values are base64 of bytes (Key Vault's own for PFX certificates). */
const BASE64_CONTENT_TYPES = /^(application\/octet-stream;\s*base64|application\/x-pkcs12)\s*$/i;
/** How long a client secret read from a Secret is used before the Secret is read again. */
const CLIENT_SECRET_TTL_MS = 15 * 60_000;

export class AzureKeyVaultBackend implements BackendAdapter {
  readonly name: string;
  readonly type = 'azure-key-vault';
  readonly #cfg: AzureBackendConfig;
  readonly #deps: AzureBackendDeps;
  #client: Promise<AzureSecretsClient> | undefined;

  constructor(cfg: AzureBackendConfig, deps: AzureBackendDeps) {
    this.name = cfg.name;
    this.#cfg = cfg;
    this.#deps = deps;
    if (deps.client) this.#client = Promise.resolve(deps.client);
  }

  identity(): string {
    return 'azure';
  }

  async read(req: ReadRequest, ctx: CallContext): Promise<RemoteSecret> {
    const name = this.#secretName(req.path);
    const what = `read "${req.path}"${req.version === undefined ? '' : ` version ${req.version.slice(0, 64)}`}`;
    if (req.version !== undefined && !VERSION_ID.test(req.version)) {
      throw new BackendError(
        'NotFound',
        `azure ${what}: not found (Key Vault version IDs are 32 hexadecimal characters)`,
        { backend: this.name },
      );
    }
    const secret = await this.#call(
      (client, signal) =>
        client.getSecret(name, {
          ...(req.version ? { version: req.version } : {}),
          abortSignal: signal,
        }),
      what,
      ctx.signal,
    );
    const value = secret.value ?? '';
    const contentType = secret.properties.contentType ?? '';
    const bytes = BASE64_CONTENT_TYPES.test(contentType)
      ? Buffer.from(value, 'base64')
      : Buffer.from(value, 'utf8');
    return { data: decodeValue(bytes), version: secret.properties.version ?? '' };
  }

  /**
   * Key Vault has no conditional write: `cas` is compared with the current version
   * (`cas: "0"`: the secret must not exist) right before setSecret, so racing writers both
   * succeed.
   */
  async write(req: WriteRequest, ctx: CallContext): Promise<WriteResult> {
    const name = this.#secretName(req.path);
    const encoded = encodeData(req.data, this.name);
    const what = `write "${req.path}"`;
    if (req.cas !== undefined) {
      const current = await this.#currentVersion(name, req.path, ctx.signal);
      const expected = req.cas === '0' ? undefined : req.cas;
      if (current !== expected) {
        const found = current ? `found ${current}` : 'the secret does not exist';
        throw checkAndSetFailed(`"${req.path}"`, req.cas, found, this.name);
      }
    }
    const single = req.data.reveal().size === 1 && req.data.reveal().has(VALUE_KEY);
    const binary = encoded.text === undefined && single;
    const text = binary ? encoded.bytes.toString('base64') : (encoded.text ?? utf8(encoded.bytes) ?? '');
    const out = await this.#call(
      (client, signal) =>
        client.setSecret(name, text, {
          ...(binary ? { contentType: BINARY_CONTENT_TYPE } : {}),
          abortSignal: signal,
        }),
      what,
      ctx.signal,
    );
    return { version: out.properties.version ?? '' };
  }

  /**
   * Every page of secret properties, in one call: the SDK follows each nextLink itself and does
   * not hand it out (4.11's byPage maps each page to a new array, dropping continuationToken),
   * so a listing cannot resume from a token. Bounded by MAX_LIST_PAGES; the guard's timeout
   * covers the whole listing.
   */
  async list(req: ListRequest, _page: string | undefined, ctx: CallContext): Promise<ListPage> {
    const what = `list "${req.prefix.slice(0, 80)}"`;
    const items = await this.#call(
      async (client, signal) => {
        const all: ListedItem[] = [];
        let pages = 0;
        const byPage = client
          .listPropertiesOfSecrets({ abortSignal: signal })
          .byPage({ maxPageSize: this.#deps.listPageSize ?? 25 });
        for await (const page of byPage) {
          if (++pages > MAX_LIST_PAGES) {
            throw new BackendError(
              'InvalidRequest',
              `azure ${what}: the vault lists more than ${MAX_LIST_PAGES} pages of secrets; find cannot walk it`,
            );
          }
          all.push(...(page as ListedItem[]));
        }
        return all;
      },
      what,
      ctx.signal,
    );
    const paths = listedPaths(
      items.filter((p) => p.enabled !== false),
      (p) => (p.name === undefined ? undefined : pathOfFlatName(p.name, SECRET_NAME)),
      (p) => p.tags,
      req,
    );
    return { paths };
  }

  /**
   * Sets the chosen version's value, content type and tags as a new version (a disabled version
   * answers NotFound). `cas` is compared with the current version first, as for `write`.
   */
  async restore(req: RestoreRequest, ctx: CallContext): Promise<WriteResult> {
    const name = this.#secretName(req.path);
    const what = `restore "${req.path}" version ${req.version.slice(0, 64)}`;
    if (!VERSION_ID.test(req.version)) {
      throw new BackendError(
        'NotFound',
        `azure ${what}: not found (Key Vault version IDs are 32 hexadecimal characters)`,
        {
          backend: this.name,
        },
      );
    }
    const source = await this.#call(
      (client, signal) => client.getSecret(name, { version: req.version, abortSignal: signal }),
      what,
      ctx.signal,
    );
    if (req.cas !== undefined) {
      const current = await this.#currentVersion(name, req.path, ctx.signal);
      requireCurrent(req.path, req.cas, current, 'the secret does not exist', this.name);
    }
    const { contentType, tags } = source.properties;
    const out = await this.#call(
      (client, signal) =>
        client.setSecret(name, source.value ?? '', {
          ...(contentType ? { contentType } : {}),
          ...(tags ? { tags } : {}),
          abortSignal: signal,
        }),
      what,
      ctx.signal,
    );
    return { version: out.properties.version ?? '' };
  }

  /**
   * Soft delete, for both scopes: the name reads as not found, cannot be written until it is
   * recovered or purged, and `recover` brings every version back within the vault's retention
   * period. Never purged from here.
   */
  async delete(req: DeleteRequest, ctx: CallContext): Promise<void> {
    const name = this.#secretName(req.path);
    await this.#call(
      async (client, signal) => {
        await client.beginDeleteSecret(name, { abortSignal: signal });
      },
      `delete "${req.path}"`,
      ctx.signal,
    );
  }

  async check(signal?: AbortSignal): Promise<void> {
    try {
      await this.#call(
        async (client, s) => {
          await client.listPropertiesOfSecrets({ abortSignal: s }).byPage({ maxPageSize: 1 }).next();
        },
        'check',
        signal,
      );
    } catch (err) {
      if (isBackendError(err) && err.code === 'PermissionDenied') return;
      throw err;
    }
  }

  async close(): Promise<void> {}

  // -------------------------------------------------------------------------------------------

  async #call<T>(
    fn: (client: AzureSecretsClient, signal?: AbortSignal) => Promise<T>,
    what: string,
    signal?: AbortSignal,
  ): Promise<T> {
    try {
      this.#client ??= createClient(this.#cfg, this.#deps).catch((err: unknown) => {
        this.#client = undefined;
        throw err;
      });
      return await fn(await this.#client, signal);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const mapped = mapAzureError(err, what);
      throw new BackendError(mapped.code, mapped.message, {
        transient: mapped.transient,
        backend: this.name,
        ...(mapped.retryAfterMs === undefined ? {} : { retryAfterMs: mapped.retryAfterMs }),
      });
    }
  }

  async #currentVersion(name: string, path: string, signal?: AbortSignal): Promise<string | undefined> {
    try {
      const secret = await this.#call(
        (client, s) => client.getSecret(name, { abortSignal: s }),
        `describe "${path}"`,
        signal,
      );
      return secret.properties.version;
    } catch (err) {
      if (isBackendError(err) && err.code === 'NotFound') return undefined;
      throw err;
    }
  }

  #secretName(path: string): string {
    if (path !== path.toLowerCase()) {
      throw new BackendError(
        'InvalidRequest',
        `path "${path.slice(0, 80)}" must be lower case: Key Vault secret names are case-insensitive`,
        { backend: this.name },
      );
    }
    return flatName(path, SECRET_NAME, this.name);
  }
}

type Identity = typeof import('@azure/identity');

async function createClient(cfg: AzureBackendConfig, deps: AzureBackendDeps): Promise<AzureSecretsClient> {
  const [identity, { SecretClient }] = await Promise.all([
    import('@azure/identity'),
    import('@azure/keyvault-secrets'),
  ]);
  const credential = createCredential(identity, cfg, deps);
  return new SecretClient(cfg.vaultUrl, credential, {
    retryOptions: { maxRetries: 0 },
    // The placeholder token is for emulators, whose challenge names their own host.
    disableChallengeResourceVerification: cfg.auth.emulator !== undefined,
    ...(cfg.tls.caPem === undefined
      ? {}
      : { agent: new Agent({ keepAlive: true, ca: [...rootCertificates, cfg.tls.caPem] }) }),
  });
}

function createCredential(
  identity: Identity,
  cfg: AzureBackendConfig,
  deps: AzureBackendDeps,
): TokenCredential {
  const { DefaultAzureCredential, ManagedIdentityCredential, WorkloadIdentityCredential } = identity;
  const { workloadIdentity, managedIdentity, clientSecret, emulator } = cfg.auth;
  if (emulator) {
    return {
      getToken: async (): Promise<AccessToken> => ({
        token: 'vaultsync-emulator-placeholder-token',
        expiresOnTimestamp: Date.now() + 3_600_000,
      }),
    };
  }
  if (workloadIdentity) {
    return new WorkloadIdentityCredential({
      ...(workloadIdentity.clientId ? { clientId: workloadIdentity.clientId } : {}),
      ...(workloadIdentity.tenantId ? { tenantId: workloadIdentity.tenantId } : {}),
    });
  }
  if (managedIdentity) {
    return managedIdentity.clientId
      ? new ManagedIdentityCredential({ clientId: managedIdentity.clientId })
      : new ManagedIdentityCredential();
  }
  if (clientSecret) {
    const reader = secretRefReader(deps.secrets, deps.operatorNamespace, cfg.name);
    return new SecretRefClientCredential(identity, clientSecret.tenantId, clientSecret.clientId, () =>
      reader.read(clientSecret.clientSecretRef, 'the Azure client secret'),
    );
  }
  return new DefaultAzureCredential();
}

/**
 * ClientSecretCredential whose secret lives in a Kubernetes Secret: read on first use and
 * again every CLIENT_SECRET_TTL_MS, so a rotated client secret is picked up.
 */
class SecretRefClientCredential implements TokenCredential {
  readonly #identity: Identity;
  readonly #tenantId: string;
  readonly #clientId: string;
  readonly #readSecret: () => Promise<Sensitive<string>>;
  #inner: { credential: ClientSecretCredential; secret: Sensitive<string>; readAt: number } | undefined;

  constructor(
    identity: Identity,
    tenantId: string,
    clientId: string,
    readSecret: () => Promise<Sensitive<string>>,
  ) {
    this.#identity = identity;
    this.#tenantId = tenantId;
    this.#clientId = clientId;
    this.#readSecret = readSecret;
  }

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    if (!this.#inner || Date.now() - this.#inner.readAt > CLIENT_SECRET_TTL_MS) {
      const secret = await this.#readSecret();
      if (this.#inner?.secret.reveal() !== secret.reveal()) {
        this.#inner = {
          credential: new this.#identity.ClientSecretCredential(
            this.#tenantId,
            this.#clientId,
            secret.reveal(),
          ),
          secret,
          readAt: Date.now(),
        };
      } else {
        this.#inner.readAt = Date.now();
      }
    }
    return this.#inner.credential.getToken(scopes, options);
  }
}
