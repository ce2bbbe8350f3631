/**
 * The operator-config parts of the Helm chart's `values.schema.json` — `config`, `api`, `audit`
 * and `webhooks` — built from the schemas in `schema.ts`, so `helm install` accepts a field
 * exactly when the operator does (`make generate` writes them; `chart-schema.test.ts` fails when
 * the checked-in file differs). The rest of `values.schema.json` (image, rbac, ...) is written by
 * hand and kept as it is.
 *
 * Helm 3.19 validates with a draft-07 validator that ignores unknown keywords such as
 * `errorMessage` and prints only its own message per failed keyword. So that helm shows the
 * operator's text anyway, a field whose `errorMessage` reads "must be …" gets its own
 * constraints under `if` and, under `else`, a schema no value passes: `const: <message>` with
 * `not: {const: <message>}`. Helm then prints `value must be '<the operator's message>'`.
 */
import type { TSchema } from '@sinclair/typebox';
import {
  ApiSchema,
  AuditSchema,
  BACKEND_SCHEMAS,
  ConfigShapeSchema,
  ISSUER_SCHEMAS,
  OperatorSchema,
  SecretKeyRefSchema,
  WebhookReceiverSchema,
  WebhooksSchema,
} from './schema.ts';

type Json = Record<string, unknown>;

/** `operator` fields the chart sets from the release (`vaultsync.config` in `_helpers.tpl`). */
export const RELEASE_OPERATOR_FIELDS = [
  'namespace',
  'serviceAccountName',
  'healthAddress',
  'metricsAddress',
  'watchNamespaces',
] as const;

/** Config sections that are top-level chart values of the same name, with chart-only keys. */
export const CHART_LEVEL_SECTIONS = ['api', 'audit', 'webhooks'] as const;

/** The top-level properties of values.schema.json written from the operator's schemas. */
export const GENERATED_PROPERTIES = ['config', ...CHART_LEVEL_SECTIONS] as const;

const GENERATED_NOTE =
  'Generated from src/config/schema.ts by `make generate` (hack/generate-chart-schema.ts); edit the source, not this part.';

// ---------------------------------------------------------------------------------------------
// TypeBox schema → plain draft-07 JSON Schema

/** Keywords that constrain the value itself (not its items or properties). */
const OWN_ASSERTIONS = [
  'type',
  'const',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
];

/** The pattern TypeBox gives `Type.Record(Type.String(), …)`: any key. */
const ANY_KEY = '^(.*)$';

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A TypeBox schema as plain JSON Schema: no TypeBox symbols (Transform types become the schema of
 * what is on the wire), unions of literals as `enum`, string-keyed records as
 * `additionalProperties`, properties with a default not required (the loader fills them in), and
 * the operator's "must be …" messages where helm prints them.
 */
export function plainJsonSchema(schema: TSchema | Json): Json {
  return convert(JSON.parse(JSON.stringify(schema)) as Json);
}

function convert(node: Json): Json {
  let out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v as Json)]));
    } else if (
      ['items', 'additionalProperties', 'not', 'if', 'then', 'else'].includes(key) &&
      isObject(value)
    ) {
      out[key] = convert(value);
    } else if (['anyOf', 'allOf', 'oneOf'].includes(key) && Array.isArray(value)) {
      out[key] = value.map((v) => convert(v as Json));
    } else if (key === 'patternProperties' && isObject(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === ANY_KEY)
        out.additionalProperties = convert(value[ANY_KEY] as Json);
      else out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v as Json)]));
    } else {
      out[key] = value;
    }
  }
  out = literalsAsEnum(out);
  out = defaultedNotRequired(out);
  out = withOperatorMessage(out);
  return typeFirst(out);
}

/** `anyOf` of string literals (schema.ts `OneOf`) → `enum`: one readable message from helm. */
function literalsAsEnum(node: Json): Json {
  const anyOf = node.anyOf;
  if (!Array.isArray(anyOf) || anyOf.length === 0) return node;
  if (!anyOf.every((s) => isObject(s) && typeof s.const === 'string' && Object.keys(s).length <= 2))
    return node;
  const { anyOf: _, ...rest } = node;
  return { type: 'string', enum: anyOf.map((s) => (s as Json).const), ...rest };
}

/** A property with a default may be left out: the loader fills it in before validating. */
function defaultedNotRequired(node: Json): Json {
  if (!Array.isArray(node.required) || !isObject(node.properties)) return node;
  const properties = node.properties;
  const required = (node.required as string[]).filter(
    (name) => !(isObject(properties[name]) && 'default' in properties[name]),
  );
  const { required: _, ...rest } = node;
  return required.length > 0 ? { ...rest, required } : rest;
}

/** See the module comment: a "must be …" message helm prints as `value must be '…'`. */
function withOperatorMessage(node: Json): Json {
  const message = node.errorMessage;
  if (typeof message !== 'string' || !message.startsWith('must be ') || 'enum' in node) return node;
  const own = Object.fromEntries(Object.entries(node).filter(([k]) => OWN_ASSERTIONS.includes(k)));
  if (Object.keys(own).length === 0) return node;
  const rest = Object.fromEntries(
    Object.entries(node).filter(([k]) => k === 'type' || !OWN_ASSERTIONS.includes(k)),
  );
  return { ...rest, if: typeFirst(own), else: messageOnly(message.slice('must be '.length)) };
}

/** A schema that fails for every value, with `text` as helm's message (`value must be '<text>'`). */
function messageOnly(text: string): Json {
  return { const: text, not: { const: text } };
}

function typeFirst(node: Json): Json {
  if (!('type' in node)) return node;
  const { type, ...rest } = node;
  return { type, ...rest };
}

const omit = (node: Json, names: readonly string[]): Json => {
  const properties = Object.fromEntries(
    Object.entries((node.properties as Json | undefined) ?? {}).filter(([k]) => !names.includes(k)),
  );
  const required = ((node.required as string[] | undefined) ?? []).filter((k) => !names.includes(k));
  const { required: _, ...rest } = node;
  return { ...rest, properties, ...(required.length > 0 ? { required } : {}) };
};

const withProperties = (node: Json, extra: Json): Json => ({
  ...node,
  properties: { ...(node.properties as Json), ...extra },
});

/** Exactly one of the named properties is set (helm: `value must be 'exactly one of …'`). */
const exactlyOne = (names: readonly string[]): Json => ({
  if: { oneOf: names.map((n) => ({ required: [n] })) },
  else: messageOnly(`exactly one of ${names.slice(0, -1).join(', ')} or ${names.at(-1)!}`),
});

// ---------------------------------------------------------------------------------------------
// Rules of load.ts between fields that JSON Schema can express, so helm refuses them too; the
// rest (durations compared, glob syntax, URL parts, CA files) the operator reports at start-up.
// chart-schema.test.ts checks that loadConfig refuses each of them as well.

/** vault and vault-pki: https:// unless `tls.insecure: true`; one login method, one credential. */
const VAULT_RULES: Json = {
  allOf: [
    {
      properties: {
        address: { if: { pattern: '^https?://' }, else: messageOnly('a URL such as https://vault:8200') },
      },
    },
    {
      if: {
        not: {
          required: ['tls'],
          properties: { tls: { required: ['insecure'], properties: { insecure: { const: true } } } },
        },
      },
      then: {
        properties: {
          address: {
            if: { pattern: '^https://' },
            else: messageOnly('an https:// URL (or set tls.insecure: true to allow http://)'),
          },
        },
      },
    },
    {
      properties: {
        auth: {
          ...exactlyOne(['token', 'appRole', 'kubernetes']),
          properties: {
            token: exactlyOne(['tokenFile', 'secretRef', 'value']),
            appRole: exactlyOne(['secretIdFile', 'secretIdRef']),
          },
        },
      },
    },
  ],
};

const TYPE_RULES: Record<string, Json> = { vault: VAULT_RULES, 'vault-pki': VAULT_RULES };

/** A webhook receiver's url: http:// or https://; http:// only with `insecure: true`. */
const RECEIVER_RULES: Json[] = [
  {
    properties: {
      url: {
        if: { pattern: '^https?://[^/\\s]+' },
        else: messageOnly('an http:// or https:// URL such as https://hooks.example.com/vaultsync'),
      },
    },
  },
  {
    if: { not: { required: ['insecure'], properties: { insecure: { const: true } } } },
    then: {
      properties: {
        url: {
          if: { not: { pattern: '^http://' } },
          else: messageOnly('an https:// URL (or set insecure: true on this receiver to allow http://)'),
        },
      },
    },
  },
];

// ---------------------------------------------------------------------------------------------
// The chart's schema parts

/** An entry of `config.backends` (or `config.issuers`): its `type` picks the schema of that type. */
function typedEntrySchema(schemas: Record<string, TSchema>): Json {
  const types = Object.keys(schemas);
  return {
    type: 'object',
    required: ['type'],
    properties: { type: { type: 'string', enum: types } },
    allOf: types.map((type) => {
      const schema = plainJsonSchema(schemas[type]!);
      const rules = TYPE_RULES[type];
      return {
        if: { required: ['type'], properties: { type: { const: type } } },
        then: rules
          ? { ...schema, allOf: [...((schema.allOf as Json[]) ?? []), ...(rules.allOf as Json[])] }
          : schema,
      };
    }),
  };
}

/**
 * `config`: the operator config file without the sections that are chart values of their own,
 * plus `issuers`: certificate issuers, which the chart lists under the operator's `backends`
 * (where it takes them, as it does from `config.backends`).
 */
export function configSchema(): Json {
  // `backends` may be empty when `issuers` is not (the rule below).
  const shape = omit(plainJsonSchema(ConfigShapeSchema), [...CHART_LEVEL_SECTIONS, 'backends']);
  const shapeBackends = (plainJsonSchema(ConfigShapeSchema).properties as Json).backends as Json;
  const properties = shape.properties as Json;
  const operator = omit(plainJsonSchema(OperatorSchema), RELEASE_OPERATOR_FIELDS);
  const { minItems, ...backends } = shapeBackends;
  const atLeastOne = (list: string): Json => ({
    required: [list],
    properties: { [list]: { minItems } },
  });
  return {
    $comment: GENERATED_NOTE,
    ...shape,
    properties: {
      ...properties,
      operator: {
        ...operator,
        description: `${RELEASE_OPERATOR_FIELDS.join(', ')}: set by the chart from the release and rbac.`,
      },
      backends: {
        ...backends,
        items: typedEntrySchema({ ...BACKEND_SCHEMAS, ...ISSUER_SCHEMAS }),
        description:
          'Secret backends (and certificate issuers, which may be listed here too), each with its type.',
      },
      issuers: {
        type: 'array',
        items: typedEntrySchema(ISSUER_SCHEMAS),
        description:
          'Certificate issuers (vault-pki, local-ca); rendered into the operator config after backends.',
      },
    },
    // The operator needs one entry in its `backends`, which the chart fills from both lists.
    if: { anyOf: [atLeastOne('backends'), atLeastOne('issuers')] },
    else: messageOnly('a mapping with at least one entry in backends or issuers'),
  };
}

/** `api`: the operator's fields, except `address` and the TLS files, which the chart derives. */
export function apiSchema(): Json {
  const api = omit(plainJsonSchema(ApiSchema), ['address']);
  const properties = api.properties as Json;
  const tls = omit(properties.tls as Json, ['certFile', 'keyFile', 'caFile']);
  return {
    $comment: GENERATED_NOTE,
    ...api,
    properties: {
      enabled: { type: 'boolean', description: 'Serve the API (config api.address ":<port>"; false: "0").' },
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      service: {
        type: 'object',
        additionalProperties: false,
        properties: {
          type: { type: 'string', enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] },
          annotations: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
      caBundleReaders: {
        type: 'array',
        description: 'RBAC subjects that may get the ConfigMap vaultsync-api-ca (the API CA certificate).',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'name'],
          properties: {
            apiGroup: { type: 'string' },
            kind: { type: 'string', enum: ['User', 'Group', 'ServiceAccount'] },
            name: { type: 'string', minLength: 1 },
            namespace: { type: 'string' },
          },
        },
      },
      ...properties,
      grpc: {
        type: 'object',
        additionalProperties: false,
        description: 'The API over gRPC too (config api.grpc.address ":<port>"; disabled: "0").',
        properties: {
          enabled: { type: 'boolean' },
          port: { type: 'integer', minimum: 1, maximum: 65535 },
        },
      },
      tls: withProperties(tls, {
        secretName: {
          type: 'string',
          anyOf: [{ const: '' }, secretKeyRefField('name')],
          description:
            'A kubernetes.io/tls Secret in the release namespace (config api.tls.certFile / keyFile); empty: a certificate from the CA in Secret vaultsync-api-ca.',
        },
        caKey: {
          type: 'string',
          anyOf: [{ const: '' }, secretKeyRefField('key')],
          description:
            'With secretName: its key holding the CA bundle (e.g. ca.crt; config api.tls.caFile), published in the ConfigMap vaultsync-api-ca; empty: nothing published.',
        },
      }),
    },
  };
}

/** `audit`: the operator's fields; `path` may be '' (unset), and is required with sink `file`. */
export function auditSchema(): Json {
  const audit = plainJsonSchema(AuditSchema);
  const properties = audit.properties as Json;
  return {
    $comment: GENERATED_NOTE,
    ...audit,
    properties: {
      ...properties,
      path: { anyOf: [{ const: '' }, properties.path], description: 'With sink file: an absolute path.' },
    },
    if: { required: ['sink'], properties: { sink: { const: 'file' } } },
    then: {
      required: ['path'],
      properties: { path: { if: { minLength: 1 }, else: messageOnly('set (required when sink is "file")') } },
    },
  };
}

/**
 * `webhooks`: the operator's fields; a receiver may name its signing key as
 * `signingKeySecret: {name, key}` (the chart mounts it and sets `signingKeyFile`).
 */
export function webhooksSchema(): Json {
  const webhooks = plainJsonSchema(WebhooksSchema);
  const properties = webhooks.properties as Json;
  const receiver = withProperties(plainJsonSchema(WebhookReceiverSchema), {
    signingKeySecret: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'key'],
      properties: {
        name: secretKeyRefField('name'),
        key: secretKeyRefField('key'),
      },
      description: 'A Secret in the release namespace holding the HMAC key; the chart mounts that key.',
    },
  });
  return {
    $comment: GENERATED_NOTE,
    ...webhooks,
    properties: {
      ...properties,
      receivers: {
        ...(properties.receivers as Json),
        items: {
          ...receiver,
          ...exactlyOne(['signingKeySecret', 'signingKeyFile', 'signingKey']),
          allOf: RECEIVER_RULES,
          description: 'Exactly one of signingKeySecret, signingKeyFile, signingKey.',
        },
      },
    },
  };
}

/** A Secret name and data key, as the operator's SecretKeyRef has them. */
function secretKeyRefField(name: 'name' | 'key'): Json {
  return (plainJsonSchema(SecretKeyRefSchema).properties as Json)[name] as Json;
}

/** values.schema.json with its generated parts (re)built from the operator's schemas. */
export function chartValuesSchema(current: Json): Json {
  const properties = { ...(current.properties as Json) };
  properties.config = configSchema();
  properties.api = apiSchema();
  properties.audit = auditSchema();
  properties.webhooks = webhooksSchema();
  return { ...current, properties };
}
