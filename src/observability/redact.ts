// Redaction of structured log fields by provenance, not by field name. A value read from a
// backend, generated, or a key is carried as `Sensitive` (src/secrets/sensitive.ts) from where it
// enters the process, and that is what never prints; names, paths, keys and namespaces always
// print, whatever their field is called (`{secret: "db"}` says which Secret).
//
// Three kinds of input have no provenance mark, so their shape decides:
// - bytes (Buffer, typed arrays): data, never a name;
// - a Kubernetes Secret object (`kind: Secret`): its keys print, its values do not;
// - objects built by libraries (HTTP headers, SDK configs, auth responses), whose credential fields
//   vaultsync never had the chance to wrap: a short list of credential field names, matched whole.
// Errors print their name and message only (messages are cleaned where errors are made).

import { Sensitive } from '../secrets/sensitive.ts';

export const REDACTED = '[REDACTED]';

/**
 * Credential fields of objects vaultsync did not build, spelled the usual ways (case, `-`, `_`
 * ignored). Whole names only: `secretName`, `tokenPath` or `passwordKey` are names and print.
 */
const CREDENTIAL_FIELDS = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'xvaulttoken',
  'token',
  'clienttoken',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'password',
  'clientsecret',
  'secretid',
  'secretaccesskey',
  'sessiontoken',
  'privatekey',
  'jwt',
  'apikey',
]);

/** True for the credential field names of library objects (see CREDENTIAL_FIELDS). */
export function isCredentialField(key: string): boolean {
  return CREDENTIAL_FIELDS.has(key.toLowerCase().replace(/[-_]/g, ''));
}

function isKubernetesSecret(value: object): boolean {
  return (value as { kind?: unknown }).kind === 'Secret';
}

/** A Secret's data with each value replaced: which keys it holds is a name, what they hold is not. */
function keysOnly(data: unknown): unknown {
  if (data === null || typeof data !== 'object') return REDACTED;
  return Object.fromEntries(Object.keys(data).map((k) => [k, REDACTED]));
}

/** A deep copy of `value` safe to log (see the top of this file); cycles and depth are bounded. */
export function redact(value: unknown, depth = 0, path = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Sensitive.isSensitive(value)) return REDACTED;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return REDACTED;
  if (value instanceof Error) return { name: value.name, message: value.message };
  // Only a cycle (an object inside itself) is cut: an object shared by two fields prints twice.
  if (depth > 8 || path.has(value)) return '[Truncated]';
  path.add(value);
  try {
    return redactObject(value, depth, path);
  } finally {
    path.delete(value);
  }
}

function redactObject(value: object, depth: number, path: WeakSet<object>): unknown {
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function' && !Array.isArray(value)) {
    // Other value holders (PrivateKey, MacKeyring) print themselves as redacted the same way.
    return redact((value as { toJSON(): unknown }).toJSON(), depth + 1, path);
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, path));
  const secret = isKubernetesSecret(value);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (secret && (key === 'data' || key === 'stringData')) out[key] = keysOnly(v);
    else out[key] = isCredentialField(key) ? REDACTED : redact(v, depth + 1, path);
  }
  return out;
}
