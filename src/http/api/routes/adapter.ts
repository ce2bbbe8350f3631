// An HTTPS route around an operation: its schemas (validated by fastify, published in
// /openapi.json), its access declaration (read by the app's admission hook before the body is
// parsed), and a handler that only maps the request to the operation's input.
import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteAccess } from '../access.ts';
import type { Operation, OperationContext } from '../operations/index.ts';
import { responses } from '../schemas.ts';

export interface OperationRoute<I, O> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  op: Operation<I, O>;
  summary: string;
  tags: string[];
  ok: Record<number, TSchema>;
  input: (req: FastifyRequest) => I;
  /** Sends the result another way than a 200 with it as JSON. */
  send?: (result: O, reply: FastifyReply) => unknown;
}

/** The operation's view of the request: its caller, deadline and audit line. */
function operationContext(req: FastifyRequest): OperationContext {
  return {
    caller: req.caller!,
    signal: req.abortSignal,
    deadline: req.deadline,
    audit: (detail) => void (req.auditDetail = detail),
  };
}

export function operationRoute<I, O>(app: FastifyInstance, r: OperationRoute<I, O>): void {
  const { op } = r;
  app.route({
    method: r.method,
    url: r.url,
    schema: {
      summary: r.summary,
      tags: r.tags,
      params: op.schema.params,
      ...(op.schema.query && { querystring: op.schema.query }),
      ...(op.schema.body && { body: op.schema.body }),
      response: responses(r.ok),
    },
    config: {
      action: op.action,
      access: op.access,
      ...(op.requires && { requires: op.requires }),
    } satisfies RouteAccess,
    handler: async (req, reply) => {
      const result = await op.run(r.input(req), operationContext(req));
      return r.send ? r.send(result, reply) : result;
    },
  });
}
