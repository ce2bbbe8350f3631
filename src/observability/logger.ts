// winston JSON logs in the Kubernetes style: capitalised past-tense messages naming the
// object kind, structured fields, and redaction by provenance (redact.ts) applied to every field
// of every line: Sensitive values never print, names always do.
import winston from 'winston';
import { redact } from './redact.ts';

export type Logger = winston.Logger;

const redactFields = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message' || key === 'timestamp') continue;
    info[key] = (redact({ [key]: info[key] }) as Record<string, unknown>)[key];
  }
  return info;
});

export interface LoggerOptions {
  level?: string;
  /** Extra transports (tests capture every line; an audit sink later). */
  transports?: winston.transport[];
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return winston.createLogger({
    level: opts.level ?? 'info',
    format: winston.format.combine(redactFields(), winston.format.timestamp(), winston.format.json()),
    transports: opts.transports ?? [new winston.transports.Console()],
  });
}
