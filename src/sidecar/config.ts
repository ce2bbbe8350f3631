/**
 * The sidecar's config file: `sidecar:` (where it listens, the pod's token, the cache) and
 * `backends:` in the operator's own format. The backends go through the operator's loader, with
 * the rules of a sidecar on top: it reads and never writes, it names the paths the pod reads,
 * it takes no credential from a Kubernetes Secret (that would need RBAC the pod should not
 * have), it issues no certificates, and it serves its own pod's namespace only.
 */
import { Type, type StaticDecode } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseDocument, stringify } from 'yaml';
import { loadConfig } from '../config/load.ts';
import { pointerToPath } from '../config/pointer.ts';
import { ConfigError, type ConfigProblem } from '../config/problems.ts';
import { describeSchemaError } from '../config/schema-messages.ts';
import { ApiSchema, Duration, LOG_LEVELS } from '../config/schema.ts';
import type { BackendConfig, Config } from '../config/schema.ts';
import type { PodIdentity } from './identity.ts';

const literals = <T extends string>(values: readonly T[], fallback: T) =>
  Type.Unsafe<T>(
    Type.Union(
      values.map((v) => Type.Literal(v)),
      { default: fallback, errorMessage: `must be one of: ${values.join(', ')}` },
    ),
  );

const FilePath = (fallback?: string) =>
  Type.String({
    pattern: '^/',
    minLength: 2,
    errorMessage: 'must be an absolute file path such as /run/vaultsync/vaultsync.sock',
    ...(fallback === undefined ? {} : { default: fallback }),
  });

export const DEFAULT_SOCKET = '/run/vaultsync/vaultsync.sock';

export const SidecarSchema = Type.Object(
  {
    listen: Type.Object(
      {
        /** Unix socket (the default): reachable only through the volume it is in. */
        socket: Type.Optional(FilePath()),
        /** 0600: the app runs as the sidecar's user; 0660: as a user of the volume's group (fsGroup). */
        socketMode: literals(['0600', '0660'] as const, '0600'),
        /** Instead of a socket: a loopback address, reachable only inside the pod's network namespace. */
        address: Type.Optional(
          Type.String({
            pattern: '^(127\\.0\\.0\\.1|\\[::1\\]):[0-9]{1,5}$',
            errorMessage: 'must be a loopback address such as 127.0.0.1:8099 or [::1]:8099',
          }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    serviceAccountToken: Type.Object(
      {
        /** The pod's projected ServiceAccount token (a `serviceAccountToken` volume source). */
        path: FilePath('/var/run/secrets/vaultsync/token'),
        /** The audience it is projected for; Vault roles must name it (`audience`). */
        audience: Type.String({ minLength: 1, maxLength: 256, default: 'vault' }),
      },
      { additionalProperties: false, default: {} },
    ),
    cache: Type.Object(
      {
        /** How long a value read is served again without asking the backend (0: never kept). */
        maxAge: Duration('1m'),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Longest one request may take, backend calls included. */
    requestTimeout: Duration('10s'),
    /** After SIGTERM, how long requests in flight may finish before the sidecar exits anyway. */
    shutdownTimeout: Duration('5s'),
    batchGet: ApiSchema.properties.batchGet,
    logLevel: literals(LOG_LEVELS, 'info'),
  },
  { additionalProperties: false, default: {} },
);

export type SidecarSettings = StaticDecode<typeof SidecarSchema>;

/** Longest `cache.maxAge`: a value revoked in the backend is served at most this long. */
export const MAX_CACHE_AGE_MS = 3_600_000;

export interface SidecarFile {
  readonly name: string;
  readonly settings: SidecarSettings;
  /** The `backends` list as written (checked by `sidecarConfig` once the pod's identity is known). */
  readonly backends: unknown;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses the file and checks its `sidecar` section. Throws ConfigError listing every problem. */
export function parseSidecarFile(text: string, name: string): SidecarFile {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(name, [
      { path: '(yaml)', message: 'not valid YAML (check indentation and quoting)' },
    ]);
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  if (!isObject(raw)) throw new ConfigError(name, [{ path: '(root)', message: 'must be a mapping' }]);
  const problems: ConfigProblem[] = Object.keys(raw)
    .filter((k) => k !== 'sidecar' && k !== 'backends')
    .map((k) => ({ path: k, message: 'unknown field; a sidecar config has sidecar and backends' }));
  const section: unknown = Value.Default(SidecarSchema, raw.sidecar ?? {});
  const seen = new Set<string>();
  for (const e of Value.Errors(SidecarSchema, section)) {
    // One problem per field: the first found says what to fix.
    if ([...seen].some((p) => e.path === p || e.path.startsWith(`${p}/`))) continue;
    seen.add(e.path);
    problems.push({ path: pointerToPath(`/sidecar${e.path}`), message: describeSchemaError(e) });
  }
  if (problems.length === 0) problems.push(...settingsProblems(Value.Decode(SidecarSchema, section)));
  if (problems.length > 0) throw new ConfigError(name, problems);
  return { name, settings: Value.Decode(SidecarSchema, section), backends: raw.backends };
}

/** The rules a schema cannot say (pure). */
export function settingsProblems(s: SidecarSettings): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (s.listen.socket !== undefined && s.listen.address !== undefined) {
    problems.push({ path: 'sidecar.listen', message: 'set socket or address, not both' });
  }
  if (s.cache.maxAge > MAX_CACHE_AGE_MS) {
    problems.push({ path: 'sidecar.cache.maxAge', message: 'must be at most 1h' });
  }
  return problems;
}

export type ListenTarget =
  | { readonly kind: 'socket'; readonly path: string; readonly mode: number }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/** Where to listen: the loopback address when one is set, else the socket (pure). */
export function listenTarget(listen: SidecarSettings['listen']): ListenTarget {
  if (listen.address !== undefined) {
    const at = listen.address.lastIndexOf(':');
    const host = listen.address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
    return { kind: 'tcp', host, port: Number(listen.address.slice(at + 1)) };
  }
  return { kind: 'socket', path: listen.socket ?? DEFAULT_SOCKET, mode: parseInt(listen.socketMode, 8) };
}

/** Credentials read from a Kubernetes Secret (each needs RBAC on Secrets). */
const SECRET_CREDENTIALS = ['secretRef', 'secretIdRef', 'static', 'serviceAccountKeyRef', 'clientSecret'];
/** Kubernetes-auth fields the sidecar decides itself (the pod's own ServiceAccount and token). */
const OWN_LOGIN_FIELDS = ['serviceAccount', 'serviceAccountName', 'audiences', 'tokenExpiration'];

/** What a sidecar refuses in one backend of the file (pure). */
export function sidecarBackendProblems(item: unknown, index: number): ConfigProblem[] {
  if (!isObject(item)) return [];
  const at = `backends[${index}]`;
  const problems: ConfigProblem[] = [];
  const add = (field: string, message: string) => problems.push({ path: `${at}.${field}`, message });
  if (item.type === 'vault-pki' || item.type === 'local-ca') {
    add('type', 'the sidecar reads secrets only; certificate issuers belong to the operator');
  }
  if (item.allowedPaths === undefined) {
    add('allowedPaths', 'must list the paths this pod reads (a sidecar has no default)');
  }
  if (Array.isArray(item.allowedWritePaths) && item.allowedWritePaths.length > 0) {
    add('allowedWritePaths', 'the sidecar serves reads only; leave it out');
  }
  if (item.allowedNamespaces !== undefined) {
    add('allowedNamespaces', "leave it out: the sidecar serves its own pod's namespace only");
  }
  const auth = isObject(item.auth) ? item.auth : {};
  for (const [method, fields] of Object.entries(auth)) {
    if (!isObject(fields)) continue;
    for (const key of Object.keys(fields)) {
      if (SECRET_CREDENTIALS.includes(key) || SECRET_CREDENTIALS.includes(method)) {
        add(
          `auth.${method}`,
          "reads a Kubernetes Secret, which needs RBAC the pod should not have; use the pod's own identity (Kubernetes auth, workload identity) or a mounted file",
        );
        break;
      }
      if (method === 'kubernetes' && OWN_LOGIN_FIELDS.includes(key)) {
        add(
          `auth.kubernetes.${key}`,
          "not used by the sidecar: it logs in as its pod's ServiceAccount (sidecar.serviceAccountToken)",
        );
      }
    }
  }
  return problems;
}

/**
 * The operator-format config the backend stack is built from: the file's backends checked by
 * the operator's loader, each serving `identity`'s namespace, Vault's Kubernetes auth as the
 * pod's ServiceAccount, values kept for `cache.maxAge` unless a backend's `coalesce.ttl` says.
 */
export async function sidecarConfig(file: SidecarFile, identity: PodIdentity): Promise<Config> {
  const raw = Array.isArray(file.backends) ? file.backends : [];
  const problems = raw.flatMap((item, i) => sidecarBackendProblems(item, i));
  if (problems.length > 0) throw new ConfigError(file.name, problems);
  const text = stringify({
    operator: { namespace: identity.namespace, serviceAccountName: identity.serviceAccount },
    backends:
      file.backends === undefined ? [] : raw.map((b) => ({ ...b, allowedNamespaces: [identity.namespace] })),
  });
  const loaded = await loadConfig({ text, name: file.name }, { env: {} });
  const { settings } = file;
  return {
    operator: { ...loaded.operator, logLevel: settings.logLevel },
    backends: loaded.backends.map((b) => asSidecarBackend(b, settings)),
  };
}

/** One backend as the sidecar runs it (pure). */
export function asSidecarBackend(b: BackendConfig, settings: SidecarSettings): BackendConfig {
  const coalesce = { ttl: b.coalesce.ttl > 0 ? b.coalesce.ttl : settings.cache.maxAge };
  if (b.type !== 'vault' || !b.auth.kubernetes) return { ...b, coalesce };
  const kubernetes = {
    ...b.auth.kubernetes,
    serviceAccount: 'operator' as const,
    audiences: [settings.serviceAccountToken.audience],
  };
  return { ...b, coalesce, auth: { ...b.auth, kubernetes } };
}
