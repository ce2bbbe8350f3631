// Runtime validation of vaultsync.io/v1alpha1 objects, as close to the apiserver as we can get:
// TypeBox checks the OpenAPI part (types, required, enums, patterns, bounds), a walk over the
// structural schema finds unknown fields and duplicate list entries, and the TypeScript twins of the
// CEL rules run where the apiserver would run the rules. Messages follow the apiserver's wording
// ("Required value", "Unsupported value", "should match") and carry the field path.
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import type { ValueError } from '@sinclair/typebox/value';
import { API_VERSION, celTwin, isKind } from './common.ts';
import type { Kind, KindDefinition } from './common.ts';
import { toStructural } from './structural.ts';
import type { StructuralSchema } from './structural.ts';
import { secretRotationDefinition } from './secretrotation.ts';
import { vaultCertificateDefinition } from './vaultcertificate.ts';
import { vaultSecretDefinition } from './vaultsecret.ts';

const definitions: Record<Kind, KindDefinition> = {
  VaultSecret: vaultSecretDefinition,
  VaultCertificate: vaultCertificateDefinition,
  SecretRotation: secretRotationDefinition,
};

const structuralSpecs = new Map<Kind, StructuralSchema>();
function structuralSpec(kind: Kind): StructuralSchema {
  let s = structuralSpecs.get(kind);
  if (!s) {
    s = toStructural(definitions[kind].spec, `${kind}.spec`);
    structuralSpecs.set(kind, s);
  }
  return s;
}

/** Errors the apiserver treats as blocking: with one of them it does not evaluate CEL rules. */
const BLOCKING = new Set<ValueErrorType>([
  ValueErrorType.ObjectRequiredProperty,
  ValueErrorType.Union,
  ValueErrorType.Literal,
  ValueErrorType.String,
  ValueErrorType.Integer,
  ValueErrorType.Number,
  ValueErrorType.Boolean,
  ValueErrorType.Object,
  ValueErrorType.Array,
  ValueErrorType.StringMaxLength,
  ValueErrorType.ArrayMaxItems,
  ValueErrorType.ObjectMaxProperties,
]);

const TYPE_NAMES: Partial<Record<ValueErrorType, string>> = {
  [ValueErrorType.String]: 'string',
  [ValueErrorType.Integer]: 'integer',
  [ValueErrorType.Number]: 'number',
  [ValueErrorType.Boolean]: 'boolean',
  [ValueErrorType.Object]: 'object',
  [ValueErrorType.Array]: 'array',
};

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (Number.isInteger(value)) return 'integer';
  return typeof value;
}

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** Kubernetes drops null values of non-nullable fields before validating; so do we (and undefined). */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = dropNulls(v);
    return out;
  }
  return value;
}

/** Turns a JSON pointer (/data/0/secretKey) into a field path (spec.data[0].secretKey). */
function fieldPath(root: string, schema: StructuralSchema | undefined, pointer: string): string {
  let path = root;
  let node = schema;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node?.type === 'array') {
      path += `[${seg}]`;
      node = node.items;
    } else if (node?.properties?.[seg]) {
      path += `.${seg}`;
      node = node.properties[seg];
    } else if (node?.additionalProperties) {
      path += `[${seg}]`;
      node = node.additionalProperties;
    } else {
      path += `.${seg}`;
      node = undefined;
    }
  }
  return path;
}

function describe(e: ValueError): string {
  const s = e.schema as Record<string, unknown>;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'Required value';
    case ValueErrorType.Union:
    case ValueErrorType.Literal: {
      const values = Array.isArray(s.anyOf)
        ? (s.anyOf as { const: unknown }[]).map((m) => m.const)
        : s.const !== undefined
          ? [s.const]
          : [];
      return `Unsupported value: ${show(e.value)}: supported values: ${values.map(show).join(', ')}`;
    }
    case ValueErrorType.StringPattern:
      return `Invalid value: ${show(e.value)}: should match '${String(s.pattern)}'`;
    case ValueErrorType.StringMinLength:
      return `Invalid value: ${show(e.value)}: should be at least ${String(s.minLength)} chars long`;
    case ValueErrorType.StringMaxLength:
      return `Too long: may not be more than ${String(s.maxLength)} bytes`;
    case ValueErrorType.StringFormat:
      return `Invalid value: ${show(e.value)}: must be of format ${String(s.format)}`;
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `Invalid value: ${show(e.value)}: should be greater than or equal to ${String(s.minimum)}`;
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `Invalid value: ${show(e.value)}: should be less than or equal to ${String(s.maximum)}`;
    case ValueErrorType.ArrayMinItems:
      return `Invalid value: ${(e.value as unknown[]).length}: should have at least ${String(s.minItems)} items`;
    case ValueErrorType.ArrayMaxItems:
      return `Too many: ${(e.value as unknown[]).length}: must have at most ${String(s.maxItems)} items`;
    case ValueErrorType.ObjectMinProperties:
      return `Invalid value: should have at least ${String(s.minProperties)} properties`;
    case ValueErrorType.ObjectMaxProperties:
      return `Too many: must have at most ${String(s.maxProperties)} items`;
    default: {
      const typeName = TYPE_NAMES[e.type];
      if (typeName) return `Invalid value: ${show(jsonType(e.value))}: must be of type ${typeName}`;
      return `Invalid value: ${show(e.value)}: ${e.message}`;
    }
  }
}

function celTypeName(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value !== null && typeof value === 'object') return 'object';
  return jsonType(value);
}

/** Unknown fields, duplicate list entries and CEL twins, walking value and schema together. */
function walk(
  schema: StructuralSchema,
  value: unknown,
  path: string,
  runCel: boolean,
  errors: string[],
): void {
  if (value === undefined) return;
  if (runCel) {
    for (const r of schema['x-kubernetes-validations'] ?? []) {
      const twin = celTwin(r.rule);
      if (!twin) throw new Error(`no TypeScript twin for the CEL rule at ${path}: ${r.rule}`);
      let ok: boolean;
      try {
        ok = twin(value);
      } catch {
        ok = false;
      }
      if (!ok)
        errors.push(`${path}${r.fieldPath ?? ''}: Invalid value: "${celTypeName(value)}": ${r.message}`);
    }
  }
  if (Array.isArray(value)) {
    const listType = schema['x-kubernetes-list-type'];
    if (listType === 'set' || listType === 'map') {
      const keys = schema['x-kubernetes-list-map-keys'] ?? [];
      const seen = new Set<string>();
      value.forEach((item, i) => {
        const id =
          listType === 'set'
            ? show(item)
            : show(Object.fromEntries(keys.map((k) => [k, (item as Record<string, unknown>)?.[k]])));
        if (seen.has(id)) errors.push(`${path}[${i}]: Duplicate value: ${id}`);
        seen.add(id);
      });
    }
    if (schema.items) value.forEach((item, i) => walk(schema.items!, item, `${path}[${i}]`, runCel, errors));
    return;
  }
  if (value !== null && typeof value === 'object' && schema.type === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const prop = schema.properties?.[k];
      if (prop) walk(prop, v, `${path}.${k}`, runCel, errors);
      else if (schema.additionalProperties)
        walk(schema.additionalProperties, v, `${path}[${k}]`, runCel, errors);
      else errors.push(`${path}.${k}: Unknown field: remove it or check its spelling`);
    }
  }
}

/**
 * Validates the spec of a vaultsync.io/v1alpha1 resource of the given kind. Returns readable errors,
 * each starting with its field path (spec.data[0].secretKey: ...); an empty list means valid.
 */
export function validateSpec(kind: Kind, spec: unknown): string[] {
  const def = definitions[kind];
  const value = dropNulls(spec);
  if (value === undefined) return ['spec: Required value'];
  const schema = structuralSpec(kind);
  const errors: string[] = [];
  const required = new Set<string>();
  let blocking = false;
  const raw = [...Value.Errors(def.spec, value)];
  for (const e of raw) if (e.type === ValueErrorType.ObjectRequiredProperty) required.add(e.path);
  for (const e of raw) {
    // A missing required field also fails its own type check; report it once.
    if (
      e.type !== ValueErrorType.ObjectRequiredProperty &&
      [...required].some((p) => e.path === p || e.path.startsWith(`${p}/`))
    )
      continue;
    if (BLOCKING.has(e.type)) blocking = true;
    errors.push(`${fieldPath('spec', schema, e.path)}: ${describe(e)}`);
  }
  walk(schema, value, 'spec', !blocking, errors);
  if (blocking && errors.length > 0) {
    errors.push(
      'spec: Invalid value: "object": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    );
  }
  return [...new Set(errors)];
}

/**
 * Validates a whole resource (apiVersion, kind, metadata.name, spec); status is not checked.
 * Returns the same readable errors as validateSpec.
 */
export function validateResource(obj: unknown): string[] {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    return ['Invalid value: must be an object'];
  const o = obj as Record<string, unknown>;
  const errors: string[] = [];
  if (o.apiVersion !== API_VERSION)
    errors.push(`apiVersion: Unsupported value: ${show(o.apiVersion)}: supported values: "${API_VERSION}"`);
  if (!isKind(o.kind)) {
    errors.push(
      `kind: Unsupported value: ${show(o.kind)}: supported values: "VaultSecret", "VaultCertificate", "SecretRotation"`,
    );
    return errors;
  }
  const meta = o.metadata as Record<string, unknown> | undefined;
  if (typeof meta?.name !== 'string' && typeof meta?.generateName !== 'string') {
    errors.push('metadata.name: Required value: name or generateName is required');
  }
  return [...errors, ...validateSpec(o.kind, o.spec)];
}
