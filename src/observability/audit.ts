// The audit log: one JSON line per API call that touches a secret or triggers an action —
// who, what, where, the outcome — never a value. Its own sink (stdout, or a file shipped
// elsewhere) whatever the operator log does. Each line is confirmed once the operating system
// has it, so `failClosed` can refuse a call whose line was not written. The file sink rotates
// by size (rotating-file-stream: winston's File transport neither confirms a line nor reports
// its write errors per line, which fail-closed needs).
import type { Writable } from 'node:stream';
import { createStream } from 'rotating-file-stream';
import type { AuditConfig } from '../config/index.ts';

export type AuditOutcome = 'allowed' | 'denied' | 'unauthenticated' | 'failed';

export interface AuditEntry {
  /** What was asked, e.g. `vaultsecrets.sync`, `secrets.get`, `secrets.batchGet`. */
  readonly action: string;
  readonly outcome: AuditOutcome;
  /** HTTP status sent (499: the client went away before the answer). */
  readonly status: number;
  readonly requestId: string;
  readonly caller?: {
    readonly user: string;
    readonly groups: readonly string[];
    readonly serviceAccount?: { readonly namespace: string; readonly name: string };
    readonly pod?: string;
  };
  readonly sourceIp?: string;
  /** Set for calls over gRPC (`status` is then the HTTP status of the same outcome); else HTTPS. */
  readonly transport?: 'grpc';
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
  /** Writes one line; resolves once it is written, rejects when the sink failed to write it. */
  record(entry: AuditEntry): Promise<void> | void;
  /** Calls are refused when their line cannot be written (`audit.failClosed`). */
  readonly failClosed?: boolean;
  /** False while the sink's last write failed (fail-closed refuses calls before they act). */
  healthy?(): boolean;
  close(): Promise<void>;
}

export interface AuditLogOptions {
  /** Replaces the configured sink (tests). */
  stream?: () => Writable;
}

type AuditSettings = Pick<AuditConfig, 'sink'> & Partial<AuditConfig>;

const DEFAULT_MAX_SIZE = 10 * 1024 * 1024;
const DEFAULT_MAX_FILES = 5;

/** The line written for an entry: the shape the operator log has, tagged `"audit": true`. */
export function auditLine(entry: AuditEntry, now = new Date()): string {
  return `${JSON.stringify({ level: 'info', message: 'API call', audit: true, ...entry, timestamp: now.toISOString() })}\n`;
}

/** The file sink: `path`, rotated at `maxSize` bytes, `maxFiles` files in all (`path`, `path.1`, …). */
export function rotatingFile(path: string, maxSize: number, maxFiles: number): Writable {
  return createStream(path, { size: `${maxSize}B`, rotate: maxFiles - 1 });
}

function sinkOf(config: AuditSettings): (() => Writable) | undefined {
  if (config.sink === 'file' && config.path) {
    const path = config.path;
    return () => rotatingFile(path, config.maxSize ?? DEFAULT_MAX_SIZE, config.maxFiles ?? DEFAULT_MAX_FILES);
  }
  if (config.sink === 'stdout') return () => process.stdout;
  return undefined;
}

export function createAuditLog(config: AuditSettings, opts: AuditLogOptions = {}): AuditLog {
  const open = opts.stream ?? sinkOf(config);
  if (!open) return { record: () => {}, close: async () => {} };
  let stream: Writable | undefined;
  let failing = false;
  // A write error ends a file stream: the next line opens the file again, so the sink comes
  // back by itself once the disk does.
  const current = (): Writable => {
    if (!stream || stream.destroyed) {
      stream = open();
      stream.on('error', () => (failing = true)); // reported through the write's callback
    }
    return stream;
  };
  return {
    failClosed: config.failClosed ?? false,
    healthy: () => !failing,
    record(entry) {
      const line = auditLine(entry);
      return new Promise<void>((resolve, reject) => {
        current().write(line, (err) => {
          failing = !!err;
          if (err) reject(new Error(`audit line not written: ${err.message}`));
          else resolve();
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!stream || stream === process.stdout || stream.destroyed) return resolve();
        stream.end(() => resolve());
        setTimeout(resolve, 1000).unref();
      }),
  };
}
