// The audit log: one JSON line per API call that touches a secret or triggers an action —
// who, what, where, the outcome — never a value. Its own winston logger and transport, so
// it can go to a separate sink (a file shipped elsewhere) whatever the operator log does.
import winston from 'winston';
import type { AuditConfig } from '../config/index.ts';

export type AuditOutcome = 'allowed' | 'denied' | 'unauthenticated' | 'failed';

export interface AuditEntry {
  /** What was asked, e.g. `vaultsecrets.sync`, `secrets.get`, `secrets.batchGet`. */
  readonly action: string;
  readonly outcome: AuditOutcome;
  /** HTTP status sent. */
  readonly status: number;
  readonly requestId: string;
  readonly caller?: {
    readonly user: string;
    readonly groups: readonly string[];
    readonly serviceAccount?: { readonly namespace: string; readonly name: string };
    readonly pod?: string;
  };
  readonly sourceIp?: string;
  readonly namespace?: string;
  /** The object acted on (`VaultSecret/db`), or the backend and path(s) read or written. */
  readonly resource?: string;
  readonly backend?: string;
  readonly paths?: readonly string[];
  /** Error code when the call failed or was refused. */
  readonly code?: string;
  /** Short facts about the result (how many synced, items failed), never values. */
  readonly detail?: Readonly<Record<string, string | number | boolean | readonly string[]>>;
}

export interface AuditLog {
  record(entry: AuditEntry): void;
  close(): Promise<void>;
}

export interface AuditLogOptions {
  /** Replaces the configured sink (tests capture lines). */
  transports?: winston.transport[];
}

export function createAuditLog(config: AuditConfig, opts: AuditLogOptions = {}): AuditLog {
  const transports =
    opts.transports ??
    (config.sink === 'file' && config.path
      ? [new winston.transports.File({ filename: config.path })]
      : config.sink === 'stdout'
        ? [new winston.transports.Console()]
        : []);
  if (transports.length === 0) return { record: () => {}, close: async () => {} };
  const logger = winston.createLogger({
    level: 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    defaultMeta: { audit: true },
    transports,
  });
  return {
    record(entry) {
      logger.info('API call', { ...entry });
    },
    close: () =>
      new Promise<void>((resolve) => {
        logger.on('finish', () => resolve());
        logger.end();
        setTimeout(resolve, 1000).unref();
      }),
  };
}
