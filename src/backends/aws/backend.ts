/**
 * AWS Secrets Manager backend (SDK v3).
 *   path    = the secret's name (`team-a/db`); ARNs are refused so tenancy rules see names.
 *   version = a version ID (a UUID, or `uuid/<id>` for one that is not) or a staging label
 *             (`AWSCURRENT`, `AWSPREVIOUS`, custom); reads report the version ID.
 *   read:   GetSecretValue → SecretString or SecretBinary → `cloud/value.ts` mapping
 *   write:  PutSecretValue (stage AWSCURRENT; AWS moves AWSPREVIOUS to the version before),
 *           CreateSecret when the secret does not exist yet
 *   list:   ListSecrets with name and tag filters (prefix matches), checked exactly here;
 *           secrets scheduled for deletion are not listed
 *   restore: UpdateSecretVersionStage moves AWSCURRENT to the chosen version (no new version)
 *   delete: DeleteSecret with a 7-day recovery window (never ForceDeleteWithoutRecovery)
 *   check:  ListSecrets (one item); AccessDenied still proves the endpoint and credentials work
 * The SDK's own retries are off (`maxAttempts: 1`): the guard's breaker, bucket and the
 * controller's backoff decide when to try again, so nothing is sent inside a throttle window.
 * The SDK is loaded on first use: an operator without this backend does not pay for it.
 */
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { AwsBackendConfig } from '../../config/schema.ts';
import { BackendError, checkAndSetFailed, isBackendError, withBackend } from '../../resilience/errors.ts';
import type { SecretsApi } from '../kube-client.ts';
import { secretRefReader } from '../cloud/credentials.ts';
import { requireCurrent } from '../cloud/check-and-set.ts';
import { listedPaths, tagRecord } from '../cloud/listing.ts';
import { decodeValue, encodeData } from '../cloud/value.ts';
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
import { mapAwsError } from './errors.ts';
import { awsListFilters } from './listing.ts';

/** The one method of the SDK client used here (a seam for unit tests). */
export interface AwsSecretsClient {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy(): void;
}

type Sdk = typeof import('@aws-sdk/client-secrets-manager');
let sdk: Promise<Sdk> | undefined;
const loadSdk = (): Promise<Sdk> => (sdk ??= import('@aws-sdk/client-secrets-manager'));

export interface AwsBackendDeps {
  /** The operator's namespace (default namespace of `secretKeyRef`s). */
  readonly operatorNamespace: string;
  /** Needed for `auth.static`. */
  readonly secrets?: SecretsApi;
  /** Credentials from elsewhere (the sidecar's web identity); else `auth.static` or the SDK's chain. */
  readonly credentials?: SecretsManagerClientConfig['credentials'];
  /** Test seam: the SDK client. */
  readonly client?: AwsSecretsClient;
  /** ListSecrets page size (MaxResults, 1–100); default 100. Tests ask for small pages. */
  readonly listPageSize?: number;
}

/** How long static keys read from a Secret are used before the Secret is read again. */
const STATIC_CREDENTIALS_TTL_MS = 15 * 60_000;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;
const STAGE = /^[A-Za-z0-9_+=.@-]{1,256}$/;
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** DeleteSecret's recovery window: the shortest AWS allows, and always one (restorable). */
export const RECOVERY_WINDOW_DAYS = 7;
/** ListSecretVersionIds pages read at most (AWS keeps about 100 versions; 100 per page). */
const MAX_VERSION_PAGES = 5;

/** CreateSecret over an existing secret (ResourceExistsException, mapped to Conflict). */
const exists = (err: unknown): boolean => isBackendError(err) && err.code === 'Conflict';

export class AwsSecretsManagerBackend implements BackendAdapter {
  readonly name: string;
  readonly type = 'aws-secrets-manager';
  readonly #cfg: AwsBackendConfig;
  readonly #deps: AwsBackendDeps;
  #client: Promise<AwsSecretsClient> | undefined;

  constructor(cfg: AwsBackendConfig, deps: AwsBackendDeps) {
    this.name = cfg.name;
    this.#cfg = cfg;
    this.#deps = deps;
    if (deps.client) this.#client = Promise.resolve(deps.client);
  }

  identity(): string {
    return 'aws';
  }

  async read(req: ReadRequest, ctx: CallContext): Promise<RemoteSecret> {
    const name = this.#secretName(req.path);
    // Latest is AWSCURRENT, named: AWS's documented default when none is given, and what moto
    // reads after UpdateSecretVersionStage (its default is a cached ID the stage move leaves).
    const pin = req.version === undefined ? { VersionStage: 'AWSCURRENT' } : this.#versionInput(req.version);
    const what = `read "${req.path}"${req.version === undefined ? '' : ` version ${req.version.slice(0, 64)}`}`;
    const out = (await this.#send(
      (m) => new m.GetSecretValueCommand({ SecretId: name, ...pin }),
      what,
      ctx.signal,
    )) as {
      SecretString?: string;
      SecretBinary?: Uint8Array;
      VersionId?: string;
    };
    let bytes: Buffer;
    if (out.SecretBinary !== undefined) bytes = Buffer.from(out.SecretBinary);
    else if (out.SecretString !== undefined) bytes = Buffer.from(out.SecretString, 'utf8');
    else
      throw new BackendError('NotFound', `aws ${what}: the version holds no value`, { backend: this.name });
    return { data: decodeValue(bytes), version: out.VersionId ?? '' };
  }

  /**
   * `cas: "0"` is CreateSecret (atomic: fails when the secret exists). Any other `cas` is
   * compared with the AWSCURRENT version ID (DescribeSecret) before PutSecretValue: Secrets
   * Manager has no conditional put, so two writers racing inside that window both succeed.
   */
  async write(req: WriteRequest, ctx: CallContext): Promise<WriteResult> {
    const name = this.#secretName(req.path);
    const encoded = encodeData(req.data, this.name);
    const value =
      encoded.text !== undefined
        ? { SecretString: encoded.text }
        : { SecretBinary: new Uint8Array(encoded.bytes) };
    const what = `write "${req.path}"`;
    const create = async () => {
      const out = (await this.#send(
        (m) => new m.CreateSecretCommand({ Name: name, ClientRequestToken: randomUUID(), ...value }),
        what,
        ctx.signal,
      )) as { VersionId?: string };
      return { version: out.VersionId ?? '' };
    };
    const put = async () => {
      const out = (await this.#send(
        (m) =>
          new m.PutSecretValueCommand({
            SecretId: name,
            ClientRequestToken: randomUUID(),
            VersionStages: ['AWSCURRENT'],
            ...value,
          }),
        what,
        ctx.signal,
      )) as { VersionId?: string };
      return { version: out.VersionId ?? '' };
    };

    if (req.cas === '0') {
      try {
        return await create();
      } catch (err) {
        if (exists(err)) throw this.#casFailed(req, 'the secret exists');
        throw err;
      }
    }
    if (req.cas !== undefined) {
      const current = await this.#currentVersionId(name, req.path, ctx.signal);
      if (current !== req.cas)
        throw this.#casFailed(req, current ? `found ${current}` : 'the secret does not exist');
      return put();
    }
    try {
      return await put();
    } catch (err) {
      if (!isBackendError(err) || err.code !== 'NotFound') throw err;
      try {
        return await create();
      } catch (createErr) {
        // Created by someone else in between: put over it.
        if (exists(createErr)) return put();
        throw createErr;
      }
    }
  }

  /** One ListSecrets page; names an ARN-free read would refuse (`rds!…`) are left out. */
  async list(req: ListRequest, page: string | undefined, ctx: CallContext): Promise<ListPage> {
    const filters = awsListFilters(req);
    if (filters === undefined) return { paths: [] };
    const out = (await this.#send(
      (m) =>
        new m.ListSecretsCommand({
          MaxResults: this.#deps.listPageSize ?? 100,
          ...(filters.length > 0 ? { Filters: filters } : {}),
          ...(page === undefined ? {} : { NextToken: page }),
        }),
      `list "${req.prefix.slice(0, 80)}"`,
      ctx.signal,
    )) as { SecretList?: { Name?: string; Tags?: { Key?: string; Value?: string }[] }[]; NextToken?: string };
    const paths = listedPaths(
      out.SecretList ?? [],
      (s) => (s.Name !== undefined && NAME.test(s.Name) ? s.Name : undefined),
      (s) => tagRecord(s.Tags),
      req,
    );
    return out.NextToken ? { paths, next: out.NextToken } : { paths };
  }

  /**
   * Moves AWSCURRENT to the chosen version (AWS moves AWSPREVIOUS to the one it leaves): no new
   * version is written, the restored version ID is current again. `cas` must be the current
   * version ID. Like `write`'s check-and-set, the comparison and the move are two calls.
   */
  async restore(req: RestoreRequest, ctx: CallContext): Promise<WriteResult> {
    const name = this.#secretName(req.path);
    const pin = this.#versionInput(req.version);
    const what = `restore "${req.path}" version ${req.version.slice(0, 64)}`;
    const stages = await this.#versionStages(name, what, ctx.signal);
    const current = [...stages].find(([, s]) => s.includes('AWSCURRENT'))?.[0];
    const target =
      'VersionId' in pin
        ? stages.has(pin.VersionId)
          ? pin.VersionId
          : undefined
        : [...stages].find(([, s]) => s.includes(pin.VersionStage))?.[0];
    if (target === undefined) {
      throw new BackendError('NotFound', `aws ${what}: the secret has no such version`, {
        backend: this.name,
      });
    }
    requireCurrent(req.path, req.cas, current, 'no current version', this.name);
    if (target === current) return { version: target };
    await this.#send(
      (m) =>
        new m.UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: target,
          ...(current === undefined ? {} : { RemoveFromVersionId: current }),
        }),
      what,
      ctx.signal,
    );
    return { version: target };
  }

  /**
   * DeleteSecret with a recovery window of RECOVERY_WINDOW_DAYS, for both scopes: the secret
   * reads as not found at once and RestoreSecret brings it back within the window. Never
   * ForceDeleteWithoutRecovery. A secret already scheduled for deletion answers NotFound.
   */
  async delete(req: DeleteRequest, ctx: CallContext): Promise<void> {
    const name = this.#secretName(req.path);
    await this.#send(
      (m) => new m.DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: RECOVERY_WINDOW_DAYS }),
      `delete "${req.path}"`,
      ctx.signal,
    );
  }

  async check(signal?: AbortSignal): Promise<void> {
    try {
      await this.#send((m) => new m.ListSecretsCommand({ MaxResults: 1 }), 'check', signal);
    } catch (err) {
      // Answered and authenticated, only not allowed to list: reachable is what /readyz asks.
      if (isBackendError(err) && err.code === 'PermissionDenied') return;
      throw err;
    }
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) (await client.catch(() => undefined))?.destroy();
  }

  // -------------------------------------------------------------------------------------------

  async #send(command: (sdk: Sdk) => unknown, what: string, signal?: AbortSignal): Promise<unknown> {
    try {
      const module = await loadSdk();
      this.#client ??= Promise.resolve(createClient(module, this.#cfg, this.#deps));
      const client = await this.#client;
      return await client.send(command(module), signal ? { abortSignal: signal } : {});
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const mapped = mapAwsError(err, what);
      throw withBackend(mapped, this.name);
    }
  }

  async #currentVersionId(name: string, path: string, signal?: AbortSignal): Promise<string | undefined> {
    try {
      const out = (await this.#send(
        (m) => new m.DescribeSecretCommand({ SecretId: name }),
        `describe "${path}"`,
        signal,
      )) as {
        VersionIdsToStages?: Record<string, string[]>;
      };
      const entry = Object.entries(out.VersionIdsToStages ?? {}).find(([, stages]) =>
        stages.includes('AWSCURRENT'),
      );
      return entry?.[0];
    } catch (err) {
      if (isBackendError(err) && err.code === 'NotFound') return undefined;
      throw err;
    }
  }

  /** Version ID → staging labels, deprecated (unlabelled) versions included. */
  async #versionStages(name: string, what: string, signal?: AbortSignal): Promise<Map<string, string[]>> {
    const stages = new Map<string, string[]>();
    let next: string | undefined;
    for (let page = 0; page < MAX_VERSION_PAGES; page++) {
      const out = (await this.#send(
        (m) =>
          new m.ListSecretVersionIdsCommand({
            SecretId: name,
            IncludeDeprecated: true,
            MaxResults: 100,
            ...(next ? { NextToken: next } : {}),
          }),
        what,
        signal,
      )) as { Versions?: { VersionId?: string; VersionStages?: string[] }[]; NextToken?: string };
      for (const v of out.Versions ?? []) if (v.VersionId) stages.set(v.VersionId, v.VersionStages ?? []);
      next = out.NextToken || undefined;
      if (!next) break;
    }
    return stages;
  }

  #casFailed(req: WriteRequest, found: string): BackendError {
    return checkAndSetFailed(`"${req.path}"`, req.cas ?? '', found, this.name);
  }

  #secretName(path: string): string {
    if (!NAME.test(path)) {
      throw new BackendError(
        'InvalidRequest',
        `path "${path.slice(0, 80)}" is not a Secrets Manager secret name (letters, digits and "/_+=.@-"; no ARNs)`,
        { backend: this.name },
      );
    }
    return path;
  }

  #versionInput(version: string): { VersionId: string } | { VersionStage: string } {
    const explicit = version.startsWith('uuid/') ? version.slice('uuid/'.length) : undefined;
    if (explicit !== undefined ? VERSION_ID.test(explicit) : UUID.test(version)) {
      return { VersionId: explicit ?? version };
    }
    if (explicit === undefined && STAGE.test(version)) return { VersionStage: version };
    throw new BackendError(
      'InvalidRequest',
      `version "${version.slice(0, 64)}" is neither a version ID (a UUID, or uuid/<id>) nor a staging label such as AWSPREVIOUS`,
      { backend: this.name },
    );
  }
}

function createClient(module: Sdk, cfg: AwsBackendConfig, deps: AwsBackendDeps): AwsSecretsClient {
  const config: SecretsManagerClientConfig = {
    region: cfg.region,
    maxAttempts: 1,
    requestHandler: {
      requestTimeout: cfg.timeout,
      ...(cfg.tls.caPem === undefined
        ? {}
        : { httpsAgent: new Agent({ keepAlive: true, ca: [...rootCertificates, cfg.tls.caPem] }) }),
    },
  };
  if (cfg.endpoint !== undefined) config.endpoint = cfg.endpoint;
  if (deps.credentials) config.credentials = deps.credentials;
  const refs = cfg.auth.static;
  if (refs) {
    const reader = secretRefReader(deps.secrets, deps.operatorNamespace, cfg.name);
    config.credentials = async () => {
      const [id, key, token] = await Promise.all([
        reader.read(refs.accessKeyIdRef, 'the AWS access key ID'),
        reader.read(refs.secretAccessKeyRef, 'the AWS secret access key'),
        refs.sessionTokenRef ? reader.read(refs.sessionTokenRef, 'the AWS session token') : undefined,
      ]);
      return {
        accessKeyId: id.reveal(),
        secretAccessKey: key.reveal(),
        ...(token ? { sessionToken: token.reveal() } : {}),
        // The SDK asks again shortly before this: a rotated Secret is picked up.
        expiration: new Date(Date.now() + STATIC_CREDENTIALS_TTL_MS),
      };
    };
  }
  return new module.SecretsManagerClient(config);
}
