// Reading the operator's JSON log lines in tests.

export type LogLine = Record<string, unknown> & { message?: string };

/** Every JSON log line in `logs` (chunks may hold several lines; other text is skipped). */
export function logLines(logs: readonly string[]): LogLine[] {
  const out: LogLine[] = [];
  for (const text of logs.join('\n').split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      out.push(JSON.parse(text) as LogLine);
    } catch {
      // A line cut by the capture; not one this helper is asked about.
    }
  }
  return out;
}

/**
 * The "Created Secret" / "Updated Secret" lines of the Secret `name` in `namespace`, found by the
 * fields `secret` and `namespace`: names print in full (redaction goes by provenance, not by a
 * field being called `secret`).
 */
export function secretWriteLines(
  logs: readonly string[],
  namespace: string,
  name: string,
  verb: 'Created' | 'Updated' = 'Created',
): LogLine[] {
  return logLines(logs).filter(
    (l) => l.message?.startsWith(`${verb} Secret`) && l.namespace === namespace && l.secret === name,
  );
}
