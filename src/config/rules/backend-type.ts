// Which schema a `backends` entry is checked against: the one of its `type`.
import type { TSchema } from '@sinclair/typebox';
import { isObject } from '../json.ts';
import type { ProblemList } from '../problems.ts';
import { BACKEND_SCHEMAS, ISSUER_SCHEMAS, PLANNED_BACKEND_TYPES } from '../schema.ts';

/** The schema of the entry's type, or undefined after reporting why there is none. */
export function backendSchema(item: unknown, at: string, problems: ProblemList): TSchema | undefined {
  if (!isObject(item)) {
    problems.add(at, 'must be a mapping with at least name, type and allowedNamespaces');
    return undefined;
  }
  const supported = [...Object.keys(BACKEND_SCHEMAS), ...Object.keys(ISSUER_SCHEMAS)];
  const type = item.type;
  if (type === undefined) {
    problems.add(`${at}/type`, `is required; one of: ${supported.join(', ')}`);
    return undefined;
  }
  if (typeof type === 'string' && Object.hasOwn(BACKEND_SCHEMAS, type)) {
    return BACKEND_SCHEMAS[type as keyof typeof BACKEND_SCHEMAS];
  }
  if (typeof type === 'string' && Object.hasOwn(ISSUER_SCHEMAS, type)) {
    return ISSUER_SCHEMAS[type as keyof typeof ISSUER_SCHEMAS];
  }
  if ((PLANNED_BACKEND_TYPES as readonly unknown[]).includes(type)) {
    problems.add(
      `${at}/type`,
      `"${String(type)}" is not supported by this version yet; supported: ${supported.join(', ')}`,
    );
  } else {
    problems.add(`${at}/type`, `must be one of: ${supported.join(', ')}`);
  }
  return undefined;
}

/** Whether a decoded entry is a certificate issuer (vault-pki, local-ca) rather than a secret backend. */
export function isIssuerType(type: string): boolean {
  return Object.hasOwn(ISSUER_SCHEMAS, type);
}
