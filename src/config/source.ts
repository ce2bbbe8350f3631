// Where the config comes from: the file (or inline text), its YAML, and the environment
// variables that override or fill fields. With `files.ts`, the only reader of files and env.
import { readFile as fsReadFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { isObject, type Json } from './json.ts';
import { ConfigError, type ProblemList } from './problems.ts';

export const DEFAULT_CONFIG_PATH = '/etc/vaultsync/config.yaml';

/** Environment variables the loader reads. */
export const ENV = {
  /** Path of the config file (default /etc/vaultsync/config.yaml). */
  config: 'VAULTSYNC_CONFIG',
  /** Overrides `operator.logLevel`. */
  logLevel: 'VAULTSYNC_LOG_LEVEL',
  /** Default for `operator.namespace` when the file leaves it out (set by the downward API). */
  podNamespace: 'POD_NAMESPACE',
} as const;

export type Env = Readonly<Record<string, string | undefined>>;
export type FileReader = (path: string) => Promise<Buffer>;

export interface LoadOptions {
  /** Environment (default: `process.env`). */
  readonly env?: Env;
  /** File reader for the config and `tls.caFile` (default: fs). */
  readonly readFile?: FileReader;
}

export type ConfigSource = { readonly path: string } | { readonly text: string; readonly name?: string };

export const defaultReadFile: FileReader = (p) => fsReadFile(p);

/** The text of the config and the name problems are reported under. */
export async function readSource(
  source: ConfigSource,
  readFile: FileReader,
): Promise<{ text: string; name: string }> {
  if (!('path' in source)) return { text: source.text, name: source.name ?? '(inline)' };
  try {
    return { text: (await readFile(source.path)).toString('utf8'), name: source.path };
  } catch (err) {
    throw new ConfigError(source.path, [
      { path: '(file)', message: `cannot read the config file: ${fsReason(err)}` },
    ]);
  }
}

/** The YAML as a mapping, or undefined after adding the problems that make it unreadable. */
export function parseYaml(text: string, problems: ProblemList): Json | undefined {
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
      problems.push({ path: '(yaml)', message: `line ${line}, column ${col}: ${message}` });
    }
    return undefined;
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch {
    problems.push({ path: '(yaml)', message: 'too many or circular aliases (&anchor / *alias)' });
    return undefined;
  }
  if (value === null || value === undefined) value = {};
  if (!isObject(value)) {
    problems.push({
      path: '(root)',
      message: 'must be a mapping with the fields operator and backends',
    });
    return undefined;
  }
  return value;
}

/** Writes the environment's values into `raw.operator`, noting which fields came from where. */
export function applyEnv(raw: Json, env: Env, problems: ProblemList): void {
  const operator = raw.operator === undefined ? (raw.operator = {}) : raw.operator;
  if (!isObject(operator)) return;
  const logLevel = env[ENV.logLevel];
  if (logLevel) {
    operator.logLevel = logLevel;
    problems.fromEnv.set('/operator/logLevel', ENV.logLevel);
  }
  const podNamespace = env[ENV.podNamespace];
  if (podNamespace && operator.namespace === undefined) {
    operator.namespace = podNamespace;
    problems.fromEnv.set('/operator/namespace', ENV.podNamespace);
  }
}

/** An fs error as a few words, never the error's own text. */
export function fsReason(err: unknown): string {
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
