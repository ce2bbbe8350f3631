/**
 * Google Secret Manager backend (@google-cloud/secret-manager over gRPC).
 *   path    = segments joined with "--" into a secret ID: `team-a/db` → `team-a--db`
 *             (secret IDs cannot hold "/"; see `cloud/value.ts`)
 *   version = a version number or `latest`; reads report the number
 *   read:   AccessSecretVersion → payload (CRC32C checked) → `cloud/value.ts` mapping
 *   write:  AddSecretVersion (CRC32C sent), CreateSecret first when the secret does not exist
 *   list:   ListSecrets with a `name:` and `labels.` filter, checked exactly here
 *   restore: AccessSecretVersion of the chosen version, AddSecretVersion of its payload
 *   delete: DisableSecretVersion of every enabled version (recoverable: EnableSecretVersion);
 *           the secret itself is never deleted
 *   check:  ListSecrets (one item); PERMISSION_DENIED still proves reachability and credentials
 * gax retries are off (`retry: null`): the guard and the controller decide when to try again,
 * so nothing is sent inside a RESOURCE_EXHAUSTED window. The library (gax, gRPC) is loaded on
 * first use: an operator without this backend does not pay for it.
 */
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { GcpBackendConfig } from '../../config/schema.ts';
import { raceSignal } from '../../kube/clock.ts';
import { BackendError, checkAndSetFailed, isBackendError, withBackend } from '../../resilience/errors.ts';
import type { SecretsApi } from '../kube-client.ts';
import { secretRefReader } from '../cloud/credentials.ts';
import { requireCurrent } from '../cloud/check-and-set.ts';
import { listedPaths, pathOfFlatName } from '../cloud/listing.ts';
import { decodeValue, encodeData, flatName, type NameRules } from '../cloud/value.ts';
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
import { crc32c } from './crc32c.ts';
import { mapGcpError } from './errors.ts';
import { gcpListFilter } from './listing.ts';

/** The calls used here, as the generated client has them (a seam for unit tests). */
export interface GcpSecretsClient {
  accessSecretVersion(req: { name: string }, opts?: object): Promise<unknown[]>;
  getSecretVersion(req: { name: string }, opts?: object): Promise<unknown[]>;
  addSecretVersion(req: object, opts?: object): Promise<unknown[]>;
  createSecret(req: object, opts?: object): Promise<unknown[]>;
  listSecrets(req: object, opts?: object): Promise<unknown[]>;
  listSecretVersions(req: object, opts?: object): Promise<unknown[]>;
  disableSecretVersion(req: { name: string }, opts?: object): Promise<unknown[]>;
  close(): Promise<void>;
}

export interface GcpBackendDeps {
  readonly operatorNamespace: string;
  /** Needed for `auth.serviceAccountKeyRef`. */
  readonly secrets?: SecretsApi;
  /** Test seam: the client. */
  readonly client?: GcpSecretsClient;
  /** ListSecrets and ListSecretVersions page size; default 1000. Tests ask for small pages. */
  readonly listPageSize?: number;
}

const SECRET_ID: NameRules = { segmentChars: 'A-Za-z0-9_-', maxLength: 255, what: 'secret ID' };
const VERSION = /^(latest|[1-9][0-9]{0,17})$/;
/** ListSecretVersions pages read at most when disabling (1000 versions each). */
const MAX_VERSION_PAGES = 10;
/** ListSecrets page size: each match costs one more call (is its latest version enabled?). */
const LIST_PAGE_SIZE = 250;
/** Those calls in flight at once for one page. */
const LATEST_CHECKS_AT_ONCE = 10;

interface AccessResponse {
  name?: string | null;
  payload?: { data?: Uint8Array | string | null; dataCrc32c?: unknown } | null;
}

export class GcpSecretManagerBackend implements BackendAdapter {
  readonly name: string;
  readonly type = 'gcp-secret-manager';
  readonly #cfg: GcpBackendConfig;
  readonly #deps: GcpBackendDeps;
  #client: Promise<GcpSecretsClient> | undefined;

  constructor(cfg: GcpBackendConfig, deps: GcpBackendDeps) {
    this.name = cfg.name;
    this.#cfg = cfg;
    this.#deps = deps;
    if (deps.client) this.#client = Promise.resolve(deps.client);
  }

  identity(): string {
    return 'gcp';
  }

  async read(req: ReadRequest, ctx: CallContext): Promise<RemoteSecret> {
    const what = `read "${req.path}"${req.version === undefined ? '' : ` version ${req.version.slice(0, 64)}`}`;
    const { bytes, version } = await this.#access(req.path, req.version ?? 'latest', what, ctx.signal);
    return { data: decodeValue(bytes), version };
  }

  /**
   * `cas: "0"` creates the secret first (ALREADY_EXISTS fails it unless the secret has no
   * version yet). Any other `cas` is compared with the latest version's number before
   * AddSecretVersion: Secret Manager has no conditional add, so racing writers both succeed.
   */
  async write(req: WriteRequest, ctx: CallContext): Promise<WriteResult> {
    const secret = this.#secretName(req.path);
    const encoded = encodeData(req.data, this.name);
    const what = `write "${req.path}"`;
    const add = () => this.#addVersion(secret, encoded.bytes, what, ctx.signal);
    const create = async (): Promise<boolean> => {
      try {
        await this.#call(
          (c, o) =>
            c.createSecret(
              {
                parent: `projects/${this.#cfg.project}`,
                secretId: secret.slice(secret.lastIndexOf('/') + 1),
                secret: { replication: this.#replication() },
              },
              o,
            ),
          what,
          ctx.signal,
        );
        return true;
      } catch (err) {
        if (isAlreadyExists(err)) return false;
        throw err;
      }
    };

    if (req.cas === '0') {
      if (!(await create())) {
        const latest = await this.#latestVersion(secret, req.path, ctx.signal);
        if (latest !== undefined) throw this.#casFailed(req, `found ${latest}`);
      }
      return add();
    }
    if (req.cas !== undefined) {
      const latest = await this.#latestVersion(secret, req.path, ctx.signal);
      if (latest !== req.cas) throw this.#casFailed(req, latest ? `found ${latest}` : 'no version exists');
      return add();
    }
    try {
      return await add();
    } catch (err) {
      if (!isBackendError(err) || err.code !== 'NotFound') throw err;
      await create();
      return add();
    }
  }

  /**
   * One ListSecrets page. IDs no path maps to (`a---b`) are left out, and so are secrets whose
   * latest version is not enabled (deleted here, or never written): ListSecrets says nothing of
   * versions, so each match costs one GetSecretVersion (metadata, no payload).
   */
  async list(req: ListRequest, page: string | undefined, ctx: CallContext): Promise<ListPage> {
    const filter = gcpListFilter(req);
    if (filter === undefined) return { paths: [] };
    const [secrets, , response] = (await this.#call(
      (c, o) =>
        c.listSecrets(
          {
            parent: `projects/${this.#cfg.project}`,
            pageSize: this.#deps.listPageSize ?? LIST_PAGE_SIZE,
            ...(filter === '' ? {} : { filter }),
            ...(page === undefined ? {} : { pageToken: page }),
          },
          { ...o, autoPaginate: false },
        ),
      `list "${req.prefix.slice(0, 80)}"`,
      ctx.signal,
    )) as [ListedSecret[] | null, unknown, { nextPageToken?: string | null } | null | undefined];
    const matches = listedPaths(
      secrets ?? [],
      (s) => pathOfFlatName(versionOf(s.name), SECRET_ID),
      (s) => s.labels ?? undefined,
      req,
    );
    const paths: string[] = [];
    for (let i = 0; i < matches.length; i += LATEST_CHECKS_AT_ONCE) {
      const batch = matches.slice(i, i + LATEST_CHECKS_AT_ONCE);
      const enabled = await Promise.all(batch.map((path) => this.#latestEnabled(path, ctx.signal)));
      paths.push(...batch.filter((_, j) => enabled[j]));
    }
    const next = response?.nextPageToken;
    return next ? { paths, next } : { paths };
  }

  /**
   * Adds the chosen version's payload, byte for byte, as a new version (a disabled or destroyed
   * version answers NotFound). `cas` is compared with the latest version's number first.
   */
  async restore(req: RestoreRequest, ctx: CallContext): Promise<WriteResult> {
    const secret = this.#secretName(req.path);
    const what = `restore "${req.path}" version ${req.version.slice(0, 64)}`;
    const { bytes } = await this.#access(req.path, req.version, what, ctx.signal);
    if (req.cas !== undefined) {
      const latest = await this.#latestVersion(secret, req.path, ctx.signal);
      requireCurrent(req.path, req.cas, latest, 'no version exists', this.name);
    }
    return this.#addVersion(secret, bytes, what, ctx.signal);
  }

  /**
   * Disables every enabled version, newest first, for both scopes: reads answer NotFound
   * ("the version is disabled") and EnableSecretVersion undoes it. The secret and its
   * versions are never deleted or destroyed. No enabled version: NotFound.
   */
  async delete(req: DeleteRequest, ctx: CallContext): Promise<void> {
    const secret = this.#secretName(req.path);
    const what = `delete "${req.path}"`;
    const enabled = await this.#enabledVersions(secret, what, ctx.signal);
    if (enabled.length === 0) {
      throw new BackendError('NotFound', `gcp ${what}: the secret has no enabled version`, {
        backend: this.name,
      });
    }
    for (const name of enabled) {
      await this.#call((c, o) => c.disableSecretVersion({ name }, o), what, ctx.signal);
    }
  }

  async check(signal?: AbortSignal): Promise<void> {
    try {
      await this.#call(
        (c, o) =>
          c.listSecrets(
            { parent: `projects/${this.#cfg.project}`, pageSize: 1 },
            { ...o, autoPaginate: false },
          ),
        'check',
        signal,
      );
    } catch (err) {
      if (isBackendError(err) && err.code === 'PermissionDenied') return;
      throw err;
    }
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.then((c) => c.close()).catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------

  async #call(
    fn: (client: GcpSecretsClient, options: object) => Promise<unknown[]>,
    what: string,
    signal?: AbortSignal,
  ): Promise<unknown[]> {
    try {
      const client = await raceSignal(this.#getClient(signal), signal);
      return await raceSignal(fn(client, { retry: null, timeout: this.#cfg.timeout }), signal);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const mapped = mapGcpError(err, what);
      if (mapped.code === 'Unauthenticated') this.#dropClient();
      throw withBackend(mapped, this.name);
    }
  }

  /** The client, made on first use (a service-account key is read from its Secret then). */
  #getClient(signal?: AbortSignal): Promise<GcpSecretsClient> {
    this.#client ??= this.#makeClient(signal).catch((err: unknown) => {
      this.#client = undefined;
      throw err;
    });
    return this.#client;
  }

  /** After a credentials failure the next call builds a new client (and reads the key again). */
  #dropClient(): void {
    if (this.#deps.client) return;
    const old = this.#client;
    this.#client = undefined;
    void old?.then((c) => c.close()).catch(() => undefined);
  }

  async #makeClient(signal?: AbortSignal): Promise<GcpSecretsClient> {
    const cfg = this.#cfg;
    const options: ConstructorParameters<typeof SecretManagerServiceClient>[0] & Record<string, unknown> = {
      projectId: cfg.project,
      fallback: false,
      // Known up front: the library would otherwise ask ADC (and the metadata server) for it.
      universeDomain: 'googleapis.com',
    };
    if (cfg.endpoint !== undefined) {
      const at = cfg.endpoint.lastIndexOf(':');
      options.apiEndpoint = cfg.endpoint.slice(0, at).replace(/^\[(.*)\]$/, '$1');
      options.port = Number(cfg.endpoint.slice(at + 1));
    }
    const [{ SecretManagerServiceClient: Client }, grpc] = await Promise.all([
      import('@google-cloud/secret-manager'),
      import('@grpc/grpc-js'),
    ]);
    if (cfg.tls.insecure) options.sslCreds = grpc.credentials.createInsecure();
    const ref = cfg.auth.serviceAccountKeyRef;
    if (ref) {
      const reader = secretRefReader(this.#deps.secrets, this.#deps.operatorNamespace, cfg.name);
      const key = await reader.read(ref, 'the service-account key', signal);
      options.credentials = parseKey(key.reveal(), ref, this.#deps.operatorNamespace, cfg.name);
    }
    return new Client(options) as unknown as GcpSecretsClient;
  }

  /** The payload of one version, its CRC32C checked, and the version's number. */
  async #access(
    path: string,
    version: string,
    what: string,
    signal?: AbortSignal,
  ): Promise<{ bytes: Buffer; version: string }> {
    const secret = this.#secretName(path);
    if (!VERSION.test(version)) {
      throw new BackendError(
        'InvalidRequest',
        `version "${version.slice(0, 64)}" must be a version number or "latest"`,
        { backend: this.name },
      );
    }
    const [res] = (await this.#call(
      (c, o) => c.accessSecretVersion({ name: `${secret}/versions/${version}` }, o),
      what,
      signal,
    )) as [AccessResponse];
    const raw = res.payload?.data;
    const bytes = typeof raw === 'string' ? Buffer.from(raw, 'base64') : Buffer.from(raw ?? new Uint8Array());
    const expected = res.payload?.dataCrc32c;
    if (expected !== undefined && expected !== null && Number(String(expected)) !== crc32c(bytes)) {
      throw new BackendError('Unavailable', `gcp ${what}: payload checksum (CRC32C) mismatch`, {
        backend: this.name,
      });
    }
    return { bytes, version: versionOf(res.name) };
  }

  async #addVersion(secret: string, bytes: Buffer, what: string, signal?: AbortSignal): Promise<WriteResult> {
    const [res] = (await this.#call(
      (c, o) =>
        c.addSecretVersion({ parent: secret, payload: { data: bytes, dataCrc32c: crc32c(bytes) } }, o),
      what,
      signal,
    )) as [{ name?: string | null }];
    return { version: versionOf(res.name) };
  }

  /** Names of the enabled versions, newest first. */
  async #enabledVersions(secret: string, what: string, signal?: AbortSignal): Promise<string[]> {
    const enabled: { name: string; number: number }[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_VERSION_PAGES; page++) {
      const [versions, , response] = (await this.#call(
        (c, o) =>
          c.listSecretVersions(
            {
              parent: secret,
              pageSize: this.#deps.listPageSize ?? 1000,
              ...(pageToken === undefined ? {} : { pageToken }),
            },
            { ...o, autoPaginate: false },
          ),
        what,
        signal,
      )) as [ListedVersion[] | null, unknown, { nextPageToken?: string | null } | null | undefined];
      for (const v of versions ?? []) {
        if (v.name && isEnabled(v)) enabled.push({ name: v.name, number: Number(versionOf(v.name)) });
      }
      pageToken = response?.nextPageToken || undefined;
      if (!pageToken) break;
    }
    return enabled.sort((a, b) => b.number - a.number).map((v) => v.name);
  }

  /** Whether the latest version of `path` is enabled (so that a read finds a value). */
  async #latestEnabled(path: string, signal?: AbortSignal): Promise<boolean> {
    try {
      const [res] = (await this.#call(
        (c, o) => c.getSecretVersion({ name: `${this.#secretName(path)}/versions/latest` }, o),
        `list: describe "${path}"`,
        signal,
      )) as [ListedVersion];
      return isEnabled(res);
    } catch (err) {
      if (isBackendError(err) && err.code === 'NotFound') return false;
      throw err;
    }
  }

  async #latestVersion(secret: string, path: string, signal?: AbortSignal): Promise<string | undefined> {
    try {
      const [res] = (await this.#call(
        (c, o) => c.getSecretVersion({ name: `${secret}/versions/latest` }, o),
        `describe "${path}"`,
        signal,
      )) as [{ name?: string | null }];
      return versionOf(res.name);
    } catch (err) {
      if (isBackendError(err) && err.code === 'NotFound') return undefined;
      throw err;
    }
  }

  #replication(): object {
    const locations = this.#cfg.replicaLocations;
    return locations
      ? { userManaged: { replicas: locations.map((location) => ({ location })) } }
      : { automatic: {} };
  }

  #casFailed(req: WriteRequest, found: string): BackendError {
    return checkAndSetFailed(`"${req.path}"`, req.cas ?? '', found, this.name);
  }

  #secretName(path: string): string {
    return `projects/${this.#cfg.project}/secrets/${flatName(path, SECRET_ID, this.name)}`;
  }
}

interface ListedSecret {
  name?: string | null;
  labels?: Record<string, string> | null;
}

interface ListedVersion {
  name?: string | null;
  /** gax gives enums as their names; 1 is ENABLED should one come as a number. */
  state?: string | number | null;
}

const isEnabled = (v: ListedVersion | undefined): boolean => v?.state === 'ENABLED' || v?.state === 1;

/** CreateSecret over an existing secret (ALREADY_EXISTS, mapped to Conflict). */
const isAlreadyExists = (err: unknown): boolean => isBackendError(err) && err.code === 'Conflict';

/** `projects/p/secrets/s/versions/7` → `7`. */
function versionOf(name: string | null | undefined): string {
  return name?.slice(name.lastIndexOf('/') + 1) ?? '';
}

function parseKey(
  json: string,
  ref: { name: string; key: string; namespace?: string },
  operatorNamespace: string,
  backend: string,
): { client_email: string; private_key: string } {
  const where = `Secret ${ref.namespace ?? operatorNamespace}/${ref.name} key "${ref.key}"`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new BackendError('Unauthenticated', `${where} is not a JSON service-account key`, { backend });
  }
  const k = parsed as { type?: unknown; client_email?: unknown; private_key?: unknown };
  if (typeof k.client_email !== 'string' || typeof k.private_key !== 'string') {
    throw new BackendError(
      'Unauthenticated',
      `${where} is not a service-account key (needs client_email and private_key)`,
      { backend },
    );
  }
  return { client_email: k.client_email, private_key: k.private_key };
}
