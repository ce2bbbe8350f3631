// The logging surface the runtime needs. winston's Logger satisfies it; so does the
// observability module's logger, which never prints a Sensitive value (and always prints names).
// Fields are structured, never interpolated.

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export const noopLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => noopLogger,
};

/** Calls a logger without letting a broken transport break the caller. */
export function safeLog(
  log: Logger,
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  fields?: LogFields,
) {
  try {
    log[level](message, fields);
  } catch {
    // Logging must never turn into a reconcile failure or an unhandled rejection.
  }
}
