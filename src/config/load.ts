/**
 * Loads the operator config: YAML → defaults → whole-file validation → decode → deep freeze.
 * Every problem in the file is reported at once, each as `<field path>: <what to fix>`.
 * This module (with `files.ts`) is the only place that reads the environment and files.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import type { TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { LineCounter, parseDocument } from 'yaml';
import {
  ApiSchema,
  AuditSchema,
  BACKEND_SCHEMAS,
  ConfigShapeSchema,
  ISSUER_SCHEMAS,
  OperatorSchema,
  PLANNED_BACKEND_TYPES,
  type BackendConfig,
  type Config,
  type ApiConfig,
  type AuditConfig,
  type IssuerConfig,
  type OperatorConfig,
  type WebhooksConfig,
  WebhooksSchema,
} from './schema.ts';
import { parseDuration } from './duration.ts';
import { domainPatternProblem, ipRangeProblem, uriPatternProblem } from './name-patterns.ts';
import { pathGlobProblem, roleGlobProblem, secretPathProblem } from './paths.ts';

export const DEFAULT_CONFIG_PATH = '/etc/vaultsync/config.yaml';

const CLOUD_TYPES = new Set(['aws-secrets-manager', 'gcp-secret-manager', 'azure-key-vault']);

/** Longest a read result may be shared (`coalesce.ttl`). */
const MAX_COALESCE_TTL_MS = 60_000;

/** Environment variables the loader reads. */
export const ENV = {
  /** Path of the config file (default /etc/vaultsync/config.yaml). */
  config: 'VAULTSYNC_CONFIG',
  /** Overrides `operator.logLevel`. */
  logLevel: 'VAULTSYNC_LOG_LEVEL',
  /** Default for `operator.namespace` when the file leaves it out (set by the downward API). */
  podNamespace: 'POD_NAMESPACE',
} as const;

export interface ConfigProblem {
  /** Field path such as `backends[1].tls.caFile`, or `(file)` / `(yaml)`. */
  readonly path: string;
  readonly message: string;
}

/** The config is unusable; `problems` lists every problem found (schema problems first, then rules). */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  readonly source: string;

  constructor(source: string, problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.path}: ${p.message}`);
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`Invalid operator config ${source} (${count}):\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.source = source;
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ ...p })));
  }
}

export interface LoadOptions {
  /** Environment (default: `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** File reader for the config and `tls.caFile` (default: fs). */
  readonly readFile?: (path: string) => Promise<Buffer>;
}

export type ConfigSource = { readonly path: string } | { readonly text: string; readonly name?: string };

/** Loads the file named by `VAULTSYNC_CONFIG` (default /etc/vaultsync/config.yaml). */
export async function loadConfigFromEnv(options: LoadOptions = {}): Promise<Config> {
  const env = options.env ?? process.env;
  return loadConfig({ path: env[ENV.config] || DEFAULT_CONFIG_PATH }, options);
}

/** Loads, validates and freezes the operator config. Throws `ConfigError` listing every problem. */
export async function loadConfig(source: ConfigSource, options: LoadOptions = {}): Promise<Config> {
  const env = options.env ?? process.env;
  const readFile = options.readFile ?? ((p: string) => fsReadFile(p));
  let text: string;
  let name: string;
  if ('path' in source) {
    name = source.path;
    try {
      text = (await readFile(source.path)).toString('utf8');
    } catch (err) {
      throw new ConfigError(name, [
        { path: '(file)', message: `cannot read the config file: ${fsReason(err)}` },
      ]);
    }
  } else {
    text = source.text;
    name = source.name ?? '(inline)';
  }
  return new Loader(name, env, readFile).load(text);
}

// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

class Loader {
  readonly #name: string;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #readFile: (path: string) => Promise<Buffer>;
  readonly #problems: ConfigProblem[] = [];
  /** JSON pointers whose value came from the environment, with the variable's name. */
  readonly #fromEnv = new Map<string, string>();

  constructor(
    name: string,
    env: Readonly<Record<string, string | undefined>>,
    readFile: (path: string) => Promise<Buffer>,
  ) {
    this.#name = name;
    this.#env = env;
    this.#readFile = readFile;
  }

  async load(text: string): Promise<Config> {
    const raw = this.#parseYaml(text);
    if (raw === undefined) this.#fail();
    this.#applyEnv(raw);

    // 1. Overall shape, with operator defaults filled in.
    Value.Default(ConfigShapeSchema, raw);
    this.#schemaErrors(ConfigShapeSchema, raw, '');
    if (isObject(raw.operator)) this.#checkOperator(raw.operator);
    this.#checkApi(raw);

    // 2. Each backend against the schema of its type, then the rules a schema cannot express.
    const backends = Array.isArray(raw.backends) ? raw.backends : [];
    const typed: { index: number; schema: TSchema; value: Json }[] = [];
    const names = new Map<string, number>();
    for (const [index, item] of backends.entries()) {
      const at = `/backends/${index}`;
      const schema = this.#backendSchema(item, at);
      if (isObject(item) && typeof item.name === 'string') {
        const first = names.get(item.name);
        if (first !== undefined) {
          this.#add(
            `${at}/name`,
            `"${item.name}" is already the name of backends[${first}]; names must be unique`,
          );
        } else {
          names.set(item.name, index);
        }
      }
      if (!schema || !isObject(item)) continue;
      Value.Default(schema, item);
      const before = this.#problems.length;
      this.#schemaErrors(schema, item, at);
      this.#checkCommon(item, at);
      if (item.type === 'kubernetes') this.#checkKubernetes(item, at, keyNamespaces(raw));
      if (item.type === 'local-ca') this.#checkLocalCa(item, at);
      if (item.type === 'vault' || item.type === 'vault-pki') await this.#checkVault(item, at);
      if (CLOUD_TYPES.has(String(item.type))) await this.#checkCloud(item, at);
      if (this.#problems.length === before) typed.push({ index, schema, value: item });
    }
    if (this.#problems.length > 0) this.#fail();

    // 3. Decode (durations → ms, inline secrets → Sensitive) and freeze.
    const operator = Value.Decode(OperatorSchema, raw.operator) as OperatorConfig;
    const decoded = typed.map(
      ({ schema, value }) => Value.Decode(schema, value) as BackendConfig | IssuerConfig,
    );
    const issuers = decoded.filter((b): b is IssuerConfig => Object.hasOwn(ISSUER_SCHEMAS, b.type));
    const secretBackends = decoded.filter((b): b is BackendConfig => !Object.hasOwn(ISSUER_SCHEMAS, b.type));
    const api = Value.Decode(ApiSchema, raw.api) as ApiConfig;
    const audit = Value.Decode(AuditSchema, raw.audit) as AuditConfig;
    const webhooks = Value.Decode(WebhooksSchema, raw.webhooks) as WebhooksConfig;
    return deepFreeze({ operator, backends: secretBackends, issuers, api, audit, webhooks });
  }

  // -------------------------------------------------------------------------------------------

  #parseYaml(text: string): Json | undefined {
    const lines = new LineCounter();
    const doc = parseDocument(text, {
      lineCounter: lines,
      uniqueKeys: true,
      prettyErrors: false,
      strict: true,
    });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const { line, col } = lines.linePos(e.pos[0]);
        // The parser's own text only (capped); never the offending source line, which could hold a secret.
        const message = e.message.split('\n')[0]?.slice(0, 160) ?? 'syntax error';
        this.#problems.push({ path: '(yaml)', message: `line ${line}, column ${col}: ${message}` });
      }
      return undefined;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch {
      this.#problems.push({ path: '(yaml)', message: 'too many or circular aliases (&anchor / *alias)' });
      return undefined;
    }
    if (value === null || value === undefined) value = {};
    if (!isObject(value)) {
      this.#problems.push({
        path: '(root)',
        message: 'must be a mapping with the fields operator and backends',
      });
      return undefined;
    }
    return value;
  }

  #applyEnv(raw: Json): void {
    const operator = raw.operator === undefined ? (raw.operator = {}) : raw.operator;
    if (!isObject(operator)) return;
    const logLevel = this.#env[ENV.logLevel];
    if (logLevel) {
      operator.logLevel = logLevel;
      this.#fromEnv.set('/operator/logLevel', ENV.logLevel);
    }
    const podNamespace = this.#env[ENV.podNamespace];
    if (podNamespace && operator.namespace === undefined) {
      operator.namespace = podNamespace;
      this.#fromEnv.set('/operator/namespace', ENV.podNamespace);
    }
  }

  #backendSchema(item: unknown, at: string): TSchema | undefined {
    if (!isObject(item)) {
      this.#add(at, 'must be a mapping with at least name, type and allowedNamespaces');
      return undefined;
    }
    const supported = [...Object.keys(BACKEND_SCHEMAS), ...Object.keys(ISSUER_SCHEMAS)];
    const type = item.type;
    if (type === undefined) {
      this.#add(`${at}/type`, `is required; one of: ${supported.join(', ')}`);
      return undefined;
    }
    if (typeof type === 'string' && Object.hasOwn(BACKEND_SCHEMAS, type)) {
      return BACKEND_SCHEMAS[type as keyof typeof BACKEND_SCHEMAS];
    }
    if (typeof type === 'string' && Object.hasOwn(ISSUER_SCHEMAS, type)) {
      return ISSUER_SCHEMAS[type as keyof typeof ISSUER_SCHEMAS];
    }
    if ((PLANNED_BACKEND_TYPES as readonly unknown[]).includes(type)) {
      this.#add(
        `${at}/type`,
        `"${String(type)}" is not supported by this version yet; supported: ${supported.join(', ')}`,
      );
    } else {
      this.#add(`${at}/type`, `must be one of: ${supported.join(', ')}`);
    }
    return undefined;
  }

  #checkOperator(operator: Json): void {
    const le = operator.leaderElection;
    if (isObject(le) && !this.#has('/operator/leaderElection')) {
      const lease = parseDuration(String(le.leaseDuration));
      const renew = parseDuration(String(le.renewDeadline));
      const retry = parseDuration(String(le.retryPeriod));
      // The fence (src/kube/fence.ts) relies on these: a leader that cannot renew stops writing
      // at renewDeadline, before anyone else may take the Lease at leaseDuration, and a renewal
      // can be retried at least once before the deadline.
      if (lease < 1000) {
        this.#add('/operator/leaderElection/leaseDuration', 'must be at least 1s');
      } else if (renew >= lease) {
        this.#add('/operator/leaderElection/renewDeadline', 'must be shorter than leaseDuration');
      } else if (retry >= renew) {
        this.#add('/operator/leaderElection/retryPeriod', 'must be shorter than renewDeadline');
      } else if (retry * 1.2 >= renew) {
        this.#add(
          '/operator/leaderElection/retryPeriod',
          'must be below renewDeadline / 1.2, so a failed renewal is retried before the deadline',
        );
      } else if (retry < 100) {
        this.#add('/operator/leaderElection/retryPeriod', 'must be at least 100ms');
      }
    }
    if (Array.isArray(operator.watchNamespaces) && !this.#has('/operator/watchNamespaces')) {
      const first = new Map<unknown, number>();
      for (const [i, ns] of operator.watchNamespaces.entries()) {
        const at = first.get(ns);
        if (at === undefined) first.set(ns, i);
        else
          this.#add(
            `/operator/watchNamespaces/${i}`,
            `"${String(ns)}" is already listed at watchNamespaces[${at}]`,
          );
      }
    }
    for (const field of ['metricsAddress', 'healthAddress'] as const) {
      const addr = operator[field];
      if (typeof addr !== 'string' || addr === '0' || this.#has(`/operator/${field}`)) continue;
      const port = Number(addr.slice(addr.lastIndexOf(':') + 1));
      if (port > 65535) this.#add(`/operator/${field}`, 'port must be between 0 and 65535');
    }
    if (
      operator.metricsAddress === operator.healthAddress &&
      operator.metricsAddress !== '0' &&
      typeof operator.metricsAddress === 'string'
    ) {
      this.#add('/operator/healthAddress', 'must differ from metricsAddress');
    }
  }

  /** The rules of `api`, `audit` and `webhooks` a schema cannot express. */
  #checkApi(raw: Json): void {
    const api = raw.api;
    if (isObject(api) && isObject(api.tls) && !this.#has('/api/tls')) {
      if ((api.tls.certFile === undefined) !== (api.tls.keyFile === undefined)) {
        this.#add('/api/tls', 'set both certFile and keyFile, or neither (a generated certificate)');
      } else if (api.tls.caFile !== undefined && api.tls.certFile === undefined) {
        this.#add(
          '/api/tls/caFile',
          'goes with certFile and keyFile (a generated certificate publishes its own CA)',
        );
      }
    }
    if (
      isObject(api) &&
      typeof api.address === 'string' &&
      api.address !== '0' &&
      !this.#has('/api/address')
    ) {
      if (Number(api.address.slice(api.address.lastIndexOf(':') + 1)) > 65535) {
        this.#add('/api/address', 'port must be between 0 and 65535');
      }
    }
    const audit = raw.audit;
    if (isObject(audit) && audit.sink === 'file' && audit.path === undefined) {
      this.#add('/audit/path', 'is required when sink is "file"');
    }
    const receivers = isObject(raw.webhooks) ? raw.webhooks.receivers : undefined;
    if (!Array.isArray(receivers)) return;
    const names = new Map<string, number>();
    for (const [i, r] of receivers.entries()) {
      const at = `/webhooks/receivers/${i}`;
      if (!isObject(r) || this.#has(at)) continue;
      if ((r.signingKey === undefined) === (r.signingKeyFile === undefined)) {
        this.#add(
          at,
          'set exactly one of signingKeyFile (a mounted Secret) or signingKey (development only)',
        );
      }
      if (typeof r.url === 'string' && !/^https?:\/\/[^/\s]+/.test(r.url)) {
        this.#add(
          `${at}/url`,
          'must be an http:// or https:// URL such as https://hooks.example.com/vaultsync',
        );
      } else if (typeof r.url === 'string' && r.url.startsWith('http://') && r.insecure !== true) {
        // Events name resources and carry signatures: in the clear only when asked for.
        this.#add(
          `${at}/url`,
          'must start with https:// (or set insecure: true on this receiver to allow http://)',
        );
      }
      if (typeof r.name === 'string') {
        const first = names.get(r.name);
        if (first === undefined) names.set(r.name, i);
        else
          this.#add(
            `${at}/name`,
            `"${r.name}" is already the name of receivers[${first}]; names must be unique`,
          );
      }
    }
  }

  #checkCommon(item: Json, at: string): void {
    const coalesce = item.coalesce;
    if (isObject(coalesce) && typeof coalesce.ttl === 'string' && !this.#has(`${at}/coalesce`)) {
      if (parseDuration(coalesce.ttl) > MAX_COALESCE_TTL_MS) {
        this.#add(`${at}/coalesce/ttl`, 'must be at most 1m (values kept longer would outlive a refresh)');
      }
    }
    for (const [field, problemOf] of [
      ['allowedPaths', pathGlobProblem],
      ['allowedWritePaths', pathGlobProblem],
      ['allowedRoles', roleGlobProblem],
      // Certificate issuers: what they certify (src/issuers/name-policy.ts).
      ['allowedDomains', domainPatternProblem],
      ['allowedUriSans', uriPatternProblem],
      ['allowedIpRanges', ipRangeProblem],
    ] as const) {
      const globs = item[field];
      if (!Array.isArray(globs)) continue;
      for (const [i, glob] of globs.entries()) {
        if (typeof glob !== 'string' || this.#has(`${at}/${field}/${i}`)) continue;
        const problem = problemOf(glob);
        if (problem) this.#add(`${at}/${field}/${i}`, problem);
      }
    }
    if (item.type === 'memory' && isObject(item.data)) {
      for (const path of Object.keys(item.data)) {
        const problem = secretPathProblem(path);
        if (problem) this.#add(`${at}/data/${escapePointer(path)}`, `is not a valid path: ${problem}`);
      }
    }
  }

  /**
   * Namespaces that hold key material (the operator's own: HMAC key, API CA key, config; a local
   * CA's; those of credential Secrets): a kubernetes backend reading from one would hand its
   * Secrets to every allowed namespace.
   */
  #checkKubernetes(item: Json, at: string, keys: ReadonlyMap<string, string>): void {
    if (typeof item.namespace !== 'string' || this.#has(`${at}/namespace`)) return;
    const holds = keys.get(item.namespace);
    if (!holds) return;
    this.#add(
      `${at}/namespace`,
      `"${item.namespace}" holds ${holds}; keep the source Secrets of a kubernetes backend in another namespace`,
    );
  }

  /**
   * allowCA hands a namespace a CA that can sign any name (no name constraints), so it may be
   * granted to one namespace named outright, never through a glob.
   */
  #checkLocalCa(item: Json, at: string): void {
    if (item.allowCA !== true || this.#has(`${at}/allowedNamespaces`)) return;
    const namespaces = Array.isArray(item.allowedNamespaces) ? item.allowedNamespaces : [];
    if (namespaces.length === 1 && typeof namespaces[0] === 'string' && !namespaces[0].includes('*')) return;
    this.#add(
      `${at}/allowCA`,
      'may be true only when allowedNamespaces names exactly one namespace without a glob: a CA certificate can sign any name, so it is a grant to one namespace the platform trusts',
    );
  }

  /** Vault rules; each runs only when the fields it reads passed the schema. */
  async #checkVault(item: Json, at: string): Promise<void> {
    const tls = isObject(item.tls) && !this.#has(`${at}/tls`) ? item.tls : undefined;
    this.#checkUrl(item.address, `${at}/address`, {
      example: 'https://vault.vault.svc:8200',
      allowHttp: tls?.insecure === true,
      httpHint: 'must start with https:// (or set tls.insecure: true to allow http://)',
    });
    await this.#loadCa(tls, `${at}/tls`);

    const auth = item.auth;
    if (!isObject(auth) || this.#hasAt(`${at}/auth`)) return;
    const methods = (['token', 'appRole', 'kubernetes'] as const).filter((m) => auth[m] !== undefined);
    if (methods.length !== 1) {
      const found = methods.length === 0 ? 'none' : methods.join(' and ');
      this.#add(`${at}/auth`, `set exactly one of token, appRole or kubernetes (found ${found})`);
    }
    if (isObject(auth.token)) {
      this.#exactlyOne(auth.token, `${at}/auth/token`, ['tokenFile', 'secretRef', 'value']);
    }
    if (isObject(auth.appRole)) {
      this.#exactlyOne(auth.appRole, `${at}/auth/appRole`, ['secretIdFile', 'secretIdRef']);
    }
    if (
      isObject(auth.kubernetes) &&
      typeof auth.kubernetes.role === 'string' &&
      !this.#has(`${at}/auth/kubernetes/role`)
    ) {
      const leftover = auth.kubernetes.role.replaceAll('{namespace}', '');
      if (/[{}]/.test(leftover)) {
        this.#add(`${at}/auth/kubernetes/role`, 'only the placeholder {namespace} is supported');
      }
    }
    const expiration = isObject(auth.kubernetes) ? auth.kubernetes.tokenExpiration : undefined;
    if (typeof expiration === 'string' && !this.#has(`${at}/auth/kubernetes/tokenExpiration`)) {
      if (parseDuration(expiration) < 600_000) {
        this.#add(
          `${at}/auth/kubernetes/tokenExpiration`,
          'must be at least 10m (the TokenRequest API minimum)',
        );
      }
    }
  }

  /** AWS, Google and Azure rules; each runs only when the fields it reads passed the schema. */
  async #checkCloud(item: Json, at: string): Promise<void> {
    const tls = isObject(item.tls) && !this.#has(`${at}/tls`) ? item.tls : undefined;
    if (item.type === 'aws-secrets-manager') {
      if (item.endpoint !== undefined) {
        this.#checkUrl(item.endpoint, `${at}/endpoint`, {
          example: 'https://secretsmanager.eu-west-1.amazonaws.com',
          allowHttp: tls?.insecure === true,
          httpHint: 'must start with https:// (or set tls.insecure: true to allow http:// to an emulator)',
          pathAllowed: false,
        });
      } else if (tls?.insecure === true) {
        this.#add(`${at}/tls/insecure`, 'is only allowed with an endpoint (an emulator)');
      }
      await this.#loadCa(tls, `${at}/tls`);
    }
    if (item.type === 'gcp-secret-manager') {
      if (tls?.insecure === true && item.endpoint === undefined) {
        this.#add(`${at}/tls/insecure`, 'is only allowed with an endpoint (an emulator)');
      }
      if (typeof item.endpoint === 'string' && !this.#has(`${at}/endpoint`)) {
        const port = Number(item.endpoint.slice(item.endpoint.lastIndexOf(':') + 1));
        if (port < 1 || port > 65535) this.#add(`${at}/endpoint`, 'port must be between 1 and 65535');
      }
    }
    if (item.type === 'azure-key-vault') {
      this.#checkUrl(item.vaultUrl, `${at}/vaultUrl`, {
        example: 'https://my-vault.vault.azure.net',
        allowHttp: false,
        httpHint: 'must start with https:// (Key Vault clients send tokens only over TLS)',
        pathAllowed: false,
      });
      await this.#loadCa(tls, `${at}/tls`);
      const auth = item.auth;
      if (isObject(auth) && !this.#hasAt(`${at}/auth`)) {
        const methods = (['workloadIdentity', 'managedIdentity', 'clientSecret', 'emulator'] as const).filter(
          (m) => auth[m] !== undefined,
        );
        if (methods.length > 1) {
          this.#add(
            `${at}/auth`,
            `set at most one of workloadIdentity, managedIdentity, clientSecret or emulator (found ${methods.join(' and ')})`,
          );
        }
      }
    }
  }

  /** A URL field: parseable, https (or http when allowed), no credentials, query or fragment. */
  #checkUrl(
    value: unknown,
    pointer: string,
    o: { example: string; allowHttp: boolean; httpHint: string; pathAllowed?: boolean },
  ): void {
    if (typeof value !== 'string' || this.#has(pointer)) return;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      this.#add(pointer, `must be a URL such as ${o.example}`);
      return;
    }
    if (url.protocol === 'http:') {
      if (!o.allowHttp) this.#add(pointer, o.httpHint);
    } else if (url.protocol !== 'https:') {
      this.#add(pointer, 'must start with https://');
    }
    if (url.username || url.password) {
      this.#add(pointer, 'must not contain credentials; configure auth instead');
    }
    if (url.search || url.hash) this.#add(pointer, 'must not contain a query (?) or fragment (#)');
    if (o.pathAllowed === false && url.pathname !== '/' && url.pathname !== '') {
      this.#add(pointer, `must not contain a path; e.g. ${o.example}`);
    }
  }

  /** `tls.caFile` → `tls.caPem` (read once), with `caFile` and `caPem` mutually exclusive. */
  async #loadCa(tls: Json | undefined, at: string): Promise<void> {
    if (tls === undefined) {
      // reported by the schema
    } else if (tls.caFile !== undefined && tls.caPem !== undefined) {
      this.#add(at, 'set either caFile or caPem, not both');
    } else if (typeof tls.caPem === 'string' && !isPemCertificate(tls.caPem)) {
      this.#add(`${at}/caPem`, 'must hold PEM certificates (-----BEGIN CERTIFICATE-----)');
    } else if (typeof tls.caFile === 'string') {
      try {
        const pem = (await this.#readFile(tls.caFile)).toString('utf8');
        if (isPemCertificate(pem)) tls.caPem = pem;
        else
          this.#add(`${at}/caFile`, `${tls.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
      } catch (err) {
        this.#add(`${at}/caFile`, `cannot read ${tls.caFile}: ${fsReason(err)}`);
      }
    }
  }

  #exactlyOne(obj: Json, at: string, fields: readonly string[]): void {
    const set = fields.filter((f) => obj[f] !== undefined);
    if (set.length !== 1) {
      const found = set.length === 0 ? 'none' : set.join(' and ');
      this.#add(at, `set exactly one of ${fields.join(', ')} (found ${found})`);
    }
  }

  // -------------------------------------------------------------------------------------------

  #schemaErrors(schema: TSchema, value: unknown, prefix: string): void {
    const errors = [...Value.Errors(schema, value)];
    const required = new Set(
      errors.filter((e) => e.type === ValueErrorType.ObjectRequiredProperty).map((e) => e.path),
    );
    const seen = new Set<string>();
    for (const e of errors) {
      if (e.type !== ValueErrorType.ObjectRequiredProperty && required.has(e.path)) continue;
      if (seen.has(e.path)) continue;
      // An error inside an array or object already reported as wrong as a whole adds nothing.
      if ([...seen].some((p) => e.path.startsWith(`${p}/`))) continue;
      seen.add(e.path);
      this.#add(prefix + e.path, describe(e));
    }
  }

  #add(pointer: string, message: string): void {
    const env = this.#fromEnv.get(pointer);
    const path = pointerToPath(pointer) + (env ? ` (from ${env})` : '');
    this.#problems.push({ path, message });
  }

  /** Whether a problem was already reported at this pointer or below it. */
  #has(pointer: string): boolean {
    const path = pointerToPath(pointer);
    return this.#problems.some(
      (p) => p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`),
    );
  }

  /** Whether a problem was reported at exactly this pointer. */
  #hasAt(pointer: string): boolean {
    const path = pointerToPath(pointer);
    return this.#problems.some((p) => p.path === path);
  }

  #fail(): never {
    throw new ConfigError(this.#name, this.#problems);
  }
}

// ---------------------------------------------------------------------------------------------
// Messages

function describe(e: ValueError): string {
  const schema = e.schema as TSchema & Record<string, unknown>;
  const custom = typeof schema.errorMessage === 'string' ? schema.errorMessage : undefined;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.ObjectAdditionalProperties: {
      const key = unescapePointer(e.path.slice(e.path.lastIndexOf('/') + 1));
      const allowed = Object.keys((schema.properties as object | undefined) ?? {});
      const guess = closest(key, allowed);
      return guess
        ? `unknown field; did you mean "${guess}"?`
        : `unknown field; allowed here: ${allowed.join(', ')}`;
    }
    case ValueErrorType.String:
      return `${custom ?? 'must be a string'} (found ${kindOf(e.value)})`;
    case ValueErrorType.Boolean:
      return `must be true or false (found ${kindOf(e.value)})`;
    case ValueErrorType.Number:
      return `must be a number (found ${kindOf(e.value)})`;
    case ValueErrorType.Integer:
      return typeof e.value === 'number'
        ? 'must be a whole number'
        : `must be a whole number (found ${kindOf(e.value)})`;
    case ValueErrorType.Object:
      return `${custom ?? 'must be a mapping'} (found ${kindOf(e.value)})`;
    case ValueErrorType.Array:
      return `must be a list (found ${kindOf(e.value)})`;
    case ValueErrorType.Literal:
      return `must be "${String(schema.const)}"`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be at least ${String(schema.minimum)}`;
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return `must be greater than ${String(schema.exclusiveMinimum)}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `must be at most ${String(schema.maximum)}`;
    case ValueErrorType.StringMinLength:
      return (
        custom ??
        (schema.minLength === 1
          ? 'must not be empty'
          : `must be at least ${String(schema.minLength)} characters`)
      );
    case ValueErrorType.StringMaxLength:
      return custom ? `${custom} (too long)` : `must be at most ${String(schema.maxLength)} characters`;
    case ValueErrorType.ArrayMinItems:
      return custom ?? `must have at least ${String(schema.minItems)} item(s)`;
    default:
      return custom ?? e.message.toLowerCase();
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

/** A near miss of a field name (typo or wrong case), if there is one. */
function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === key.toLowerCase() ? 0 : levenshtein(key, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 4)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] as number) + 1,
        (cur[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/** `/backends/1/tls/caFile` → `backends[1].tls.caFile`; odd keys are quoted: `data["team-a/db"]`. */
export function pointerToPath(pointer: string): string {
  if (pointer === '') return '(root)';
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const key = unescapePointer(raw);
    if (/^[0-9]+$/.test(key)) out += `[${key}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

function unescapePointer(s: string): string {
  return s.replaceAll('~1', '/').replaceAll('~0', '~');
}

function escapePointer(s: string): string {
  return s.replaceAll('~', '~0').replaceAll('/', '~1');
}

function fsReason(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return typeof code === 'string' ? code : 'read failed';
  }
}

function isPemCertificate(text: string): boolean {
  return /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(text);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Freezes plain objects and arrays all the way down; leaves class instances (`Sensitive`) alone. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

/** Things that are allowed but worth a log line at start-up (never values). */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  for (const [i, b] of config.backends.entries()) {
    if (b.type === 'aws-secrets-manager' || b.type === 'gcp-secret-manager') {
      if (b.tls.insecure) {
        warnings.push(
          `backends[${i}].tls.insecure: plain-text connection to ${b.endpoint ?? 'the endpoint'}; use only with an emulator`,
        );
      }
    }
    if (b.type === 'azure-key-vault' && b.auth.emulator !== undefined) {
      warnings.push(
        `backends[${i}].auth.emulator: placeholder token for an emulator; real Key Vault refuses it`,
      );
    }
    if (b.type !== 'vault') continue;
    if (b.tls.insecure && b.address.startsWith('http://')) {
      warnings.push(
        `backends[${i}].address: plain http:// to Vault (tls.insecure: true); use only for development`,
      );
    }
    if (b.auth.token?.value !== undefined) {
      warnings.push(`backends[${i}].auth.token.value: inline token in the config; use only for development`);
    }
  }
  for (const b of config.issuers ?? []) {
    if (b.type !== 'vault-pki') continue;
    if (b.tls.insecure && b.address.startsWith('http://')) {
      warnings.push(
        `issuer ${b.name}: plain http:// to Vault (tls.insecure: true); use only for development`,
      );
    }
    if (b.auth.token?.value !== undefined) {
      warnings.push(`issuer ${b.name}: inline token in the config; use only for development`);
    }
  }
  return warnings;
}

/** Namespace → what key material it holds, from the raw config (before decoding). */
function keyNamespaces(raw: Json): Map<string, string> {
  const keys = new Map<string, string>();
  const operator = isObject(raw.operator) ? raw.operator : {};
  if (typeof operator.namespace === 'string') {
    keys.set(operator.namespace, "the operator's own keys and configuration (operator.namespace)");
  }
  for (const item of Array.isArray(raw.backends) ? raw.backends : []) {
    if (!isObject(item)) continue;
    if (item.type === 'local-ca') {
      const ca = isObject(item.ca) ? item.ca : {};
      const ns = typeof ca.namespace === 'string' ? ca.namespace : operator.namespace;
      if (typeof ns === 'string' && !keys.has(ns)) keys.set(ns, `the key of local CA "${String(item.name)}"`);
    }
    for (const ref of secretRefs(item.auth)) {
      if (typeof ref.namespace === 'string' && !keys.has(ref.namespace)) {
        keys.set(ref.namespace, `credentials of backend "${String(item.name)}"`);
      }
    }
  }
  return keys;
}

/** Secret key references (`{name, key, namespace?}`) one or two levels down in an auth block. */
function secretRefs(auth: unknown): Json[] {
  if (!isObject(auth)) return [];
  const refs: Json[] = [];
  for (const method of Object.values(auth)) {
    if (!isObject(method)) continue;
    for (const v of [method, ...Object.values(method)]) {
      if (isObject(v) && typeof v.name === 'string' && typeof v.key === 'string') refs.push(v);
    }
  }
  return refs;
}

/** For other config files checked with TypeBox (the sidecar's): the same "what to fix" text. */
export { describe as describeSchemaError };
