// Turns a TypeBox schema into a Kubernetes structural schema (JSONSchemaProps): plain JSON, unions of
// string literals as enum, Records as additionalProperties, no TypeBox-internal keys, stable key order.
import type { TSchema } from '@sinclair/typebox';

/** A node of a structural schema (apiextensions.k8s.io/v1 JSONSchemaProps). */
export interface StructuralSchema {
  description?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  enum?: string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  required?: string[];
  properties?: Record<string, StructuralSchema>;
  items?: StructuralSchema;
  additionalProperties?: StructuralSchema;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: {
    rule: string;
    message?: string;
    messageExpression?: string;
    fieldPath?: string;
    reason?: string;
  }[];
}

const KEY_ORDER = [
  'description',
  'type',
  'format',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'required',
  'properties',
  'items',
  'additionalProperties',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
];

/** Keys that may appear in our structural schemas; anything else is a mistake in a schema. */
const ALLOWED = new Set(KEY_ORDER);

type Json = Record<string, unknown>;

function normalize(input: Json, where: string): StructuralSchema {
  let node: Json = { ...input };
  delete node.$id;
  delete node.$schema;

  // Union of string literals → enum. A one-member union is a bare Literal (const).
  if (Array.isArray(node.anyOf)) {
    const members = node.anyOf as Json[];
    if (!members.every((m) => typeof m.const === 'string')) {
      throw new Error(`${where}: only unions of string literals are supported`);
    }
    const { anyOf: _anyOf, ...rest } = node;
    node = { ...rest, type: 'string', enum: members.map((m) => m.const) };
  } else if (typeof node.const === 'string') {
    const { const: value, ...rest } = node;
    node = { ...rest, type: 'string', enum: [value] };
  }

  // Record<string, T> → additionalProperties: T.
  if (node.patternProperties !== undefined) {
    const values = Object.values(node.patternProperties as Json);
    if (values.length !== 1) throw new Error(`${where}: a map needs exactly one value schema`);
    node.additionalProperties = values[0];
    delete node.patternProperties;
  }
  if (node.additionalProperties === false || node.additionalProperties === true)
    delete node.additionalProperties;
  if (node.properties !== undefined && Object.keys(node.properties as Json).length === 0)
    delete node.properties;

  const out: Json = {};
  for (const key of [...KEY_ORDER, ...Object.keys(node).filter((k) => !ALLOWED.has(k))]) {
    if (node[key] === undefined) continue;
    if (!ALLOWED.has(key)) throw new Error(`${where}: unsupported schema keyword ${key}`);
    const value = node[key];
    if (key === 'properties') {
      const props: Json = {};
      for (const [name, child] of Object.entries(value as Json))
        props[name] = normalize(child as Json, `${where}.${name}`);
      out.properties = props;
    } else if (key === 'items' || key === 'additionalProperties') {
      out[key] = normalize(value as Json, `${where}[]`);
    } else {
      out[key] = value;
    }
  }
  return out as StructuralSchema;
}

/** Converts a TypeBox schema to a structural schema; the JSON round trip drops TypeBox's symbol keys. */
export function toStructural(schema: TSchema, where = 'schema'): StructuralSchema {
  return normalize(JSON.parse(JSON.stringify(schema)) as Json, where);
}
