// The rule of `local-ca` a schema cannot express.
import type { Json } from '../json.ts';
import type { ProblemList } from '../problems.ts';

/**
 * allowCA hands a namespace a CA that can sign any name (no name constraints), so it may be
 * granted to one namespace named outright, never through a glob.
 */
export function checkLocalCa(item: Json, at: string, problems: ProblemList): void {
  if (item.allowCA !== true || problems.has(`${at}/allowedNamespaces`)) return;
  const namespaces = Array.isArray(item.allowedNamespaces) ? item.allowedNamespaces : [];
  if (namespaces.length === 1 && typeof namespaces[0] === 'string' && !namespaces[0].includes('*')) return;
  problems.add(
    `${at}/allowCA`,
    'may be true only when allowedNamespaces names exactly one namespace without a glob: a CA certificate can sign any name, so it is a grant to one namespace the platform trusts',
  );
}
