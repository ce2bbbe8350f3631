// TypeBox's errors as "what to fix" text: the schema's own errorMessage where it has one, a
// near miss for a mistyped field, and what was found instead.
import type { TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { unescapePointer } from './pointer.ts';

export function describeSchemaError(e: ValueError): string {
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
