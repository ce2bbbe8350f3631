/**
 * Loads the operator config: YAML → defaults → whole-file validation → decode → deep freeze.
 * Every problem in the file is reported at once, each as `<field path>: <what to fix>`.
 * The steps live beside it: `source.ts` (file, YAML, environment), `problems.ts` (the list and
 * `ConfigError`), `schema-messages.ts` (TypeBox errors as text), `rules/` (what a schema cannot
 * express, one file per section), `warnings.ts` (allowed but worth a log line).
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { deepFreeze, isObject, type Json } from './json.ts';
import { ProblemList, repeats } from './problems.ts';
import { checkApi, checkAudit } from './rules/api.ts';
import { backendSchema, isIssuerType } from './rules/backend-type.ts';
import { CLOUD_TYPES, checkCloud } from './rules/cloud.ts';
import { checkCommon } from './rules/common.ts';
import type { RuleContext } from './rules/endpoints.ts';
import { checkKubernetes, keyNamespaces } from './rules/key-namespaces.ts';
import { checkLocalCa } from './rules/local-ca.ts';
import { checkOperator } from './rules/operator.ts';
import { checkVault } from './rules/vault.ts';
import { checkWebhooks } from './rules/webhooks.ts';
import {
  ApiSchema,
  AuditSchema,
  ConfigShapeSchema,
  OperatorSchema,
  type ApiConfig,
  type AuditConfig,
  type BackendConfig,
  type Config,
  type IssuerConfig,
  type OperatorConfig,
  type WebhooksConfig,
  WebhooksSchema,
} from './schema.ts';
import {
  DEFAULT_CONFIG_PATH,
  ENV,
  applyEnv,
  defaultReadFile,
  parseYaml,
  readSource,
  type ConfigSource,
  type LoadOptions,
} from './source.ts';

/** Loads the file named by `VAULTSYNC_CONFIG` (default /etc/vaultsync/config.yaml). */
export async function loadConfigFromEnv(options: LoadOptions = {}): Promise<Config> {
  const env = options.env ?? process.env;
  return loadConfig({ path: env[ENV.config] || DEFAULT_CONFIG_PATH }, options);
}

/** Loads, validates and freezes the operator config. Throws `ConfigError` listing every problem. */
export async function loadConfig(source: ConfigSource, options: LoadOptions = {}): Promise<Config> {
  const env = options.env ?? process.env;
  const readFile = options.readFile ?? defaultReadFile;
  const { text, name } = await readSource(source, readFile);
  // Annotated so that `problems.fail` (never) narrows the control flow.
  const problems: ProblemList = new ProblemList();
  const raw = parseYaml(text, problems);
  if (raw === undefined) problems.fail(name);
  applyEnv(raw, env, problems);

  // 1. Overall shape, with operator defaults filled in; then the sections' own rules.
  Value.Default(ConfigShapeSchema, raw);
  problems.addSchemaErrors(ConfigShapeSchema, raw, '');
  if (isObject(raw.operator)) checkOperator(raw.operator, problems);
  checkApi(raw.api, problems);
  checkAudit(raw.audit, problems);
  checkWebhooks(raw.webhooks, problems);

  // 2. Each backend against the schema of its type, then the rules a schema cannot express.
  const typed = await checkBackends(raw, { problems, readFile });
  if (problems.count > 0) problems.fail(name);

  // 3. Decode (durations → ms, inline secrets → Sensitive) and freeze.
  const operator = Value.Decode(OperatorSchema, raw.operator) as OperatorConfig;
  const decoded = typed.map(
    ({ schema, value }) => Value.Decode(schema, value) as BackendConfig | IssuerConfig,
  );
  const issuers = decoded.filter((b): b is IssuerConfig => isIssuerType(b.type));
  const backends = decoded.filter((b): b is BackendConfig => !isIssuerType(b.type));
  const api = Value.Decode(ApiSchema, raw.api) as ApiConfig;
  const audit = Value.Decode(AuditSchema, raw.audit) as AuditConfig;
  const webhooks = Value.Decode(WebhooksSchema, raw.webhooks) as WebhooksConfig;
  return deepFreeze({ operator, backends, issuers, api, audit, webhooks });
}

interface TypedEntry {
  readonly schema: TSchema;
  readonly value: Json;
}

/** Checks every `backends` entry (defaults filled in); returns those without a problem. */
async function checkBackends(raw: Json, ctx: RuleContext): Promise<TypedEntry[]> {
  const { problems } = ctx;
  const backends: unknown[] = Array.isArray(raw.backends) ? raw.backends : [];
  const names = repeats(
    backends.map((b) => (isObject(b) && typeof b.name === 'string' ? b.name : undefined)),
  );
  const typed: TypedEntry[] = [];
  for (const [index, item] of backends.entries()) {
    const at = `/backends/${index}`;
    const schema = backendSchema(item, at, problems);
    const first = names.get(index);
    if (first !== undefined) {
      problems.add(
        `${at}/name`,
        `"${String((item as Json).name)}" is already the name of backends[${first}]; names must be unique`,
      );
    }
    if (!schema || !isObject(item)) continue;
    Value.Default(schema, item);
    const before = problems.count;
    problems.addSchemaErrors(schema, item, at);
    checkCommon(item, at, problems);
    if (item.type === 'kubernetes') checkKubernetes(item, at, keyNamespaces(raw), problems);
    if (item.type === 'local-ca') checkLocalCa(item, at, problems);
    if (item.type === 'vault' || item.type === 'vault-pki') await checkVault(item, at, ctx);
    if (CLOUD_TYPES.has(item.type)) await checkCloud(item, at, ctx);
    if (problems.count === before) typed.push({ schema, value: item });
  }
  return typed;
}
