// One gRPC call through the API's shared parts, the way the HTTPS app's hooks take a request:
// admitted by the gate (token from the `authorization` metadata, the operation's RBAC check),
// its names and body validated by the operation's own schemas, run, audited once however it
// ends. With audit.failClosed nothing is sent before its audit line is written.
import { randomUUID } from 'node:crypto';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { Ajv, type ValidateFunction } from 'ajv';
import type { RouteParams } from '../http/api/access.ts';
import { bearerToken } from '../http/api/auth.ts';
import type { AuditedCall } from '../http/api/call-audit.ts';
import type { ApiCore } from '../http/api/core.ts';
import { ApiError } from '../http/api/errors.ts';
import type { Operation, OperationContext } from '../http/api/operations/index.ts';
import { toServiceError } from './status.ts';

/** What a unary and a streaming call both have. */
export type SurfaceCall = Pick<ServerUnaryCall<unknown, unknown>, 'metadata' | 'getPeer' | 'on'>;

/** What a handler hands over: the call's names (for the RBAC check), query and body, shaped as over HTTPS. */
export interface CallRequest {
  readonly params: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly body?: unknown;
}

/** "ipv4:10.0.0.1:5000", "[::1]:5000", "10.0.0.1:5000" → the address (pure). */
export function peerAddress(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const bracketed = /^\[([^\]]+)\]/.exec(bare);
  if (bracketed) return bracketed[1]!;
  // host:port (one colon, a numeric port); anything else (a unix socket) as it is.
  const hostPort = /^([^:]+):\d+$/.exec(bare);
  return hostPort ? hostPort[1]! : bare;
}

// The same validation fastify applies over HTTPS: no coercion, no dropping of unknown fields.
const ajv = new Ajv({ coerceTypes: false, removeAdditional: false, allErrors: false, strict: false });
const compiled = new WeakMap<object, ValidateFunction>();

function check(schema: object | undefined, value: unknown, what: string): void {
  if (!schema) return;
  const validate = compiled.get(schema) ?? ajv.compile(schema);
  compiled.set(schema, validate);
  if (validate(value)) return;
  const e = validate.errors?.[0];
  throw new ApiError('BadRequest', `${what}${e?.instancePath ?? ''} ${e?.message ?? 'is not valid'}`);
}

export class GrpcCall {
  readonly audited: AuditedCall;
  readonly #core: ApiCore;
  readonly #metadata: SurfaceCall['metadata'];
  readonly #signal: AbortSignal;
  readonly #deadline: number;

  constructor(core: ApiCore, call: SurfaceCall, action: string, namespace: string | undefined) {
    this.#core = core;
    this.#metadata = call.metadata;
    this.audited = {
      action,
      requestId: randomUUID(),
      sourceIp: peerAddress(call.getPeer()),
      transport: 'grpc',
      ...(namespace && { namespace }),
    };
    this.#deadline = Date.now() + core.config.requestTimeout;
    const gone = new AbortController();
    call.on('cancelled', () =>
      gone.abort(new ApiError('ClientClosedRequest', 'the client cancelled the call')),
    );
    this.#signal = AbortSignal.any([AbortSignal.timeout(core.config.requestTimeout), gone.signal]);
  }

  /** Admits the call and checks its request; the context the operation runs in. */
  async admit<I, O>(op: Operation<I, O>, req: CallRequest): Promise<OperationContext> {
    const core = this.#core;
    core.audit.checkOpen();
    const authorization = this.#metadata.get('authorization')[0];
    const caller = await core.gate.admit({
      token: bearerToken(typeof authorization === 'string' ? authorization : undefined),
      source: this.audited.sourceIp ?? '',
      access: op.access(req.params as unknown as RouteParams),
      requires: op.requires,
      onCaller: (c) => void (this.audited.caller = c),
    });
    check(op.schema.params, req.params, 'params');
    check(op.schema.query, req.query ?? {}, 'query');
    check(op.schema.body, req.body ?? {}, 'body');
    return {
      caller,
      signal: this.#signal,
      deadline: this.#deadline,
      audit: (detail) => void (this.audited.auditDetail = detail),
    };
  }

  /** Writes the line of a call that succeeded; with failClosed, a line not written fails the call. */
  async succeeded(): Promise<void> {
    const written = this.#core.audit.record(this.audited, 200);
    if (written && this.#core.audit.failClosed) {
      await written.catch(() => {
        throw new ApiError(
          'AuditUnavailable',
          'the audit log cannot be written (audit.failClosed); try again later',
        );
      });
    }
  }

  /** Writes the line of a call that failed; the error to end it with. */
  async failed(err: unknown) {
    const { error, apiError } = toServiceError(err);
    this.audited.errorCode = apiError.code;
    const written = this.#core.audit.record(this.audited, apiError.statusCode, apiError.code);
    if (written && this.#core.audit.failClosed) {
      const ok = await written.then(
        () => true,
        () => false,
      );
      if (!ok)
        return toServiceError(new ApiError('AuditUnavailable', 'the audit log cannot be written')).error;
    }
    if (apiError.code === 'Internal')
      this.#core.logger.error('gRPC call failed', { action: this.audited.action, error: err });
    return error;
  }
}
