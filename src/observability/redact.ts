// Redaction of structured log fields. Values under sensitive-looking keys are replaced
// wherever they sit, and anything that is not plain data (errors from SDKs, buffers) is
// reduced to a safe summary, so a value cannot reach a log line by accident.

export const REDACTED = '[REDACTED]';

const sensitiveKey =
  /(pass(word)?|secret|token|jwt|authorization|cookie|credential|private|api[-_]?key|^data$|^value$|^values$|^stringData$)/i;

export function isSensitiveKey(key: string): boolean {
  return sensitiveKey.test(key);
}

/** A deep copy of `value` with sensitive fields replaced; cycles and depth are bounded. */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8 || seen.has(value)) return '[Truncated]';
  seen.add(value);
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return REDACTED;
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function' && !Array.isArray(value)) {
    return redact((value as { toJSON(): unknown }).toJSON(), depth + 1, seen);
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = isSensitiveKey(key) ? REDACTED : redact(v, depth + 1, seen);
  }
  return out;
}
