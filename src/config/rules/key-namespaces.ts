// Namespaces that hold key material (the operator's own: HMAC key, API CA key, config; a local
// CA's; those of credential Secrets): a kubernetes backend reading from one would hand its
// Secrets to every allowed namespace.
import { isObject, type Json } from '../json.ts';
import type { ProblemList } from '../problems.ts';

export function checkKubernetes(
  item: Json,
  at: string,
  keys: ReadonlyMap<string, string>,
  problems: ProblemList,
): void {
  if (typeof item.namespace !== 'string' || problems.has(`${at}/namespace`)) return;
  const holds = keys.get(item.namespace);
  if (!holds) return;
  problems.add(
    `${at}/namespace`,
    `"${item.namespace}" holds ${holds}; keep the source Secrets of a kubernetes backend in another namespace`,
  );
}

/** Namespace → what key material it holds, from the raw config (before decoding). */
export function keyNamespaces(raw: Json): Map<string, string> {
  const keys = new Map<string, string>();
  const operator = isObject(raw.operator) ? raw.operator : {};
  if (typeof operator.namespace === 'string') {
    keys.set(operator.namespace, "the operator's own keys and configuration (operator.namespace)");
  }
  for (const item of Array.isArray(raw.backends) ? raw.backends : []) {
    if (!isObject(item)) continue;
    if (item.type === 'local-ca') {
      const ca = isObject(item.ca) ? item.ca : {};
      const ns = typeof ca.namespace === 'string' ? ca.namespace : operator.namespace;
      if (typeof ns === 'string' && !keys.has(ns)) keys.set(ns, `the key of local CA "${String(item.name)}"`);
    }
    for (const ref of secretRefs(item.auth)) {
      if (typeof ref.namespace === 'string' && !keys.has(ref.namespace)) {
        keys.set(ref.namespace, `credentials of backend "${String(item.name)}"`);
      }
    }
  }
  return keys;
}

/** Secret key references (`{name, key, namespace?}`) one or two levels down in an auth block. */
function secretRefs(auth: unknown): Json[] {
  if (!isObject(auth)) return [];
  const refs: Json[] = [];
  for (const method of Object.values(auth)) {
    if (!isObject(method)) continue;
    for (const v of [method, ...Object.values(method)]) {
      if (isObject(v) && typeof v.name === 'string' && typeof v.key === 'string') refs.push(v);
    }
  }
  return refs;
}
