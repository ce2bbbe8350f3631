import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHART_SCHEMA_PATH, ROOT, generatedChartSchema } from '../../hack/generate-chart-schema.ts';
import { GENERATED_PROPERTIES, RELEASE_OPERATOR_FIELDS } from './chart-schema.ts';
import { loadConfig } from './load.ts';
import { ConfigError } from './problems.ts';
import {
  ApiSchema,
  AuditSchema,
  BACKEND_SCHEMAS,
  ISSUER_SCHEMAS,
  OperatorSchema,
  WebhookReceiverSchema,
} from './schema.ts';

type Json = Record<string, unknown>;

const fileText = () => readFile(join(ROOT, CHART_SCHEMA_PATH), 'utf8');
const chartSchema = async () => JSON.parse(await fileText()) as Json;
const props = (node: unknown) => (node as { properties: Json }).properties;
const keysOf = (schema: unknown) => Object.keys(props(schema)).sort();

/** Every node of a JSON Schema, with its JSON pointer. */
function* nodes(node: unknown, at = ''): Generator<[string, Json]> {
  if (typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    for (const [i, v] of node.entries()) yield* nodes(v, `${at}/${i}`);
    return;
  }
  yield [at, node as Json];
  for (const [k, v] of Object.entries(node)) if (typeof v === 'object') yield* nodes(v, `${at}/${k}`);
}

/** The schema a `config.backends` entry of this type is checked against (its `then`). */
function entrySchema(schema: Json, list: 'backends' | 'issuers', type: string): Json {
  const entry = (props(props(schema).config)[list] as { items: { allOf: Json[] } }).items;
  const branch = entry.allOf.find(
    (b) => (b as { if: { properties: { type: { const: string } } } }).if.properties.type.const === type,
  );
  assert.ok(branch, `${list}: a branch for type ${type}`);
  return branch.then as Json;
}

describe('config: the chart values schema generated from the operator schema', () => {
  it('charts/vaultsync/values.schema.json is what `make generate` writes (no drift)', async () => {
    const text = await fileText();
    assert.equal(text, await generatedChartSchema(text), 'run `make generate` and commit the result');
  });

  it('config.backends takes every backend and issuer type with exactly the operator fields of that type', async () => {
    const schema = await chartSchema();
    const all = { ...BACKEND_SCHEMAS, ...ISSUER_SCHEMAS };
    const backends = props(props(schema).config).backends as {
      items: { properties: { type: { enum: string[] } } };
    };
    assert.deepEqual(backends.items.properties.type.enum.sort(), Object.keys(all).sort());
    for (const [type, source] of Object.entries(all)) {
      const entry = entrySchema(schema, 'backends', type);
      assert.deepEqual(keysOf(entry), keysOf(source), `${type}: fields`);
      assert.equal(entry.additionalProperties, false, `${type}: no other fields`);
    }
    const issuers = props(props(schema).config).issuers as {
      items: { properties: { type: { enum: string[] } } };
    };
    assert.deepEqual(issuers.items.properties.type.enum.sort(), Object.keys(ISSUER_SCHEMAS).sort());
    for (const type of Object.keys(ISSUER_SCHEMAS)) {
      assert.deepEqual(entrySchema(schema, 'issuers', type), entrySchema(schema, 'backends', type));
    }
  });

  it('config.operator leaves out the fields the chart sets from the release; api, audit, webhooks carry the operator fields', async () => {
    const schema = await chartSchema();
    const operator = props(props(schema).config).operator;
    assert.deepEqual(
      keysOf(operator),
      keysOf(OperatorSchema).filter((k) => !(RELEASE_OPERATOR_FIELDS as readonly string[]).includes(k)),
    );
    // api: address and the TLS files are derived from the chart's enabled/port and tls.secretName.
    const api = props(schema).api;
    assert.deepEqual(
      keysOf(api),
      [
        ...keysOf(ApiSchema).filter((k) => k !== 'address'),
        'enabled',
        'port',
        'service',
        'caBundleReaders',
      ].sort(),
    );
    const apiTls = props(api).tls;
    assert.deepEqual(
      keysOf(apiTls),
      [
        ...keysOf(ApiSchema.properties.tls).filter((k) => !['certFile', 'keyFile', 'caFile'].includes(k)),
        'secretName',
        'caKey',
      ].sort(),
    );
    assert.deepEqual(keysOf(props(schema).audit), keysOf(AuditSchema));
    const receiver = (props(props(schema).webhooks).receivers as { items: Json }).items;
    assert.deepEqual(keysOf(receiver), [...keysOf(WebhookReceiverSchema), 'signingKeySecret'].sort());
  });

  it('the generated parts are plain draft-07 JSON Schema that Go regular expressions can run', async () => {
    const schema = await chartSchema();
    for (const name of GENERATED_PROPERTIES) {
      for (const [at, node] of nodes(props(schema)[name], `/properties/${name}`)) {
        assert.ok(
          !('patternProperties' in node && '^(.*)$' in (node.patternProperties as Json)),
          `${at}: record`,
        );
        assert.ok(!('$id' in node) && !('$defs' in node), `${at}: TypeBox ids`);
        // A union of literals is an enum (anyOf with '' is the chart's "not set" for a field).
        const literals = Array.isArray(node.anyOf) && (node.anyOf as Json[]).every((s) => 'const' in s);
        assert.ok(!literals, `${at}: anyOf of literals`);
        if (typeof node.pattern === 'string') {
          // RE2 (helm's validator) has no look-around and no back-references.
          assert.doesNotMatch(node.pattern, /\(\?[=!<]|\\[1-9]/, `${at}: pattern ${node.pattern}`);
          assert.doesNotThrow(() => new RegExp(node.pattern as string, 'u'), `${at}: pattern`);
        }
      }
    }
  });

  it('a field with a "must be …" message fails under else with that text, so helm prints the operator message', async () => {
    const schema = await chartSchema();
    const duration = props(props(props(schema).config).operator).defaultRefreshInterval as Json;
    assert.deepEqual(duration.else, {
      const: 'a duration such as 500ms, 30s, 5m or 1h30m',
      not: { const: 'a duration such as 500ms, 30s, 5m or 1h30m' },
    });
    assert.deepEqual((duration.if as Json).type, 'string');
    assert.ok(typeof (duration.if as Json).pattern === 'string', 'the constraint moved under if');
    assert.equal(duration.pattern, undefined);
  });

  // The rules between fields that chart-schema.ts adds by hand (helm refuses these; test/install.test.ts
  // shows it): each must be one the operator has too, or the chart would refuse a valid config.
  const vault = '{name: v, type: vault, allowedNamespaces: ["*"]';
  const ok = 'auth: {kubernetes: {role: r}}';
  const receiver = 'receivers: [{name: ops';
  const RULES: [string, string][] = [
    ['backends', 'backends: []'],
    ['backends[0].address', `backends: [${vault}, address: "htp:/vault", ${ok}}]`],
    ['backends[0].address', `backends: [${vault}, address: "http://vault:8200", ${ok}}]`],
    [
      'backends[0].address',
      `backends: [${vault}, address: "http://vault:8200", tls: {insecure: false}, ${ok}}]`,
    ],
    [
      'backends[0].auth',
      `backends: [${vault}, address: "https://v", auth: {kubernetes: {role: r}, token: {tokenFile: /t}}}]`,
    ],
    ['backends[0].auth', `backends: [${vault}, address: "https://v", auth: {}}]`],
    [
      'backends[0].auth.token',
      `backends: [${vault}, address: "https://v", auth: {token: {tokenFile: /t, value: x}}}]`,
    ],
    ['backends[0].auth.appRole', `backends: [${vault}, address: "https://v", auth: {appRole: {roleId: r}}}]`],
    [
      'backends[1].address',
      `backends: [{name: m, type: memory, allowedNamespaces: ["*"]}, {name: p, type: vault-pki, allowedNamespaces: ["*"], address: "http://v", ${ok}}]`,
    ],
    ['audit.path', 'backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]\naudit: {sink: file}'],
    [
      'webhooks.receivers[0]',
      `backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]\nwebhooks: {${receiver}, url: "https://h"}]}`,
    ],
    [
      'webhooks.receivers[0].url',
      `backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]\nwebhooks: {${receiver}, url: "h.example.com", signingKey: ${'k'.repeat(32)}}]}`,
    ],
    [
      'webhooks.receivers[0].url',
      `backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]\nwebhooks: {${receiver}, url: "http://h", signingKey: ${'k'.repeat(32)}}]}`,
    ],
    [
      'webhooks.receivers[0].url',
      `backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]\nwebhooks: {${receiver}, url: "http://h", insecure: false, signingKey: ${'k'.repeat(32)}}]}`,
    ],
  ];

  it('each rule the chart schema adds between fields is one the operator refuses too', async () => {
    for (const [path, yaml] of RULES) {
      const problems = await loadConfig({ text: yaml }, { env: {} }).then(
        (): string[] => [],
        (err: unknown) => (err instanceof ConfigError ? err.problems.map((p) => p.path) : [String(err)]),
      );
      assert.ok(problems.includes(path), `${yaml}\n→ refused at ${path}; got ${JSON.stringify(problems)}`);
    }
  });
});
