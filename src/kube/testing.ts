// Fakes for the runtime's narrow interfaces, for unit tests here and in controllers.
import type { KubeClient } from './client.ts';
import { createKubeClient } from './client.ts';
import { type KubeError, fromResponse } from './errors.ts';
import type { LogFields, Logger } from './logger.ts';
import type { RestClient, RestRequest } from './rest.ts';

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: LogFields;
}

/** A logger that keeps every record (children share the list and add their fields). */
export class RecordingLogger implements Logger {
  readonly records: LogRecord[];
  readonly #fields: LogFields;

  constructor(records: LogRecord[] = [], fields: LogFields = {}) {
    this.records = records;
    this.#fields = fields;
  }

  debug(message: string, fields?: LogFields) {
    this.#push('debug', message, fields);
  }
  info(message: string, fields?: LogFields) {
    this.#push('info', message, fields);
  }
  warn(message: string, fields?: LogFields) {
    this.#push('warn', message, fields);
  }
  error(message: string, fields?: LogFields) {
    this.#push('error', message, fields);
  }
  child(fields: LogFields): Logger {
    return new RecordingLogger(this.records, { ...this.#fields, ...fields });
  }

  /** Everything logged, as one string (for "never contains" assertions). */
  text(): string {
    return JSON.stringify(this.records);
  }

  #push(level: LogRecord['level'], message: string, fields?: LogFields) {
    this.records.push({ level, message, fields: { ...this.#fields, ...fields } });
  }
}

export type FakeHandler = (req: RestRequest) => unknown;

/** A RestClient answering from a handler; records every request. */
export class FakeRest implements RestClient {
  readonly requests: RestRequest[] = [];
  handler: FakeHandler;

  constructor(handler: FakeHandler = () => ({})) {
    this.handler = handler;
  }

  async request<T>(req: RestRequest): Promise<T> {
    this.requests.push(req);
    return (await this.handler(req)) as T;
  }

  client(): KubeClient {
    return createKubeClient(this);
  }
}

/** A KubeError built the way a real API response is (same codes and transient flags). */
export function apiError(status: number, reason: string, message = reason): KubeError {
  return fromResponse(status, { kind: 'Status', status: 'Failure', reason, message, code: status });
}
