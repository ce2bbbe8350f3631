// The embedded HTTP API, built apart from listen() so tests drive it with inject().
//
// Every /v1 request is admitted by the shared gate (gate.ts: rate limits, TokenReview,
// SubjectAccessReview, config switches) before its body is parsed; then schema validation and
// the operation (operations/). One audit line is written per /v1 call, whatever the outcome,
// as its answer is sent (or when its client goes away first); with audit.failClosed a call
// whose line cannot be written is answered 503 instead. Errors are coded JSON without secret
// data. /healthz, /readyz and /metrics are not here: they are served on the health port only.
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { RouteParams } from './access.ts';
import { bearerToken } from './auth.ts';
import { AUDIT_UNAVAILABLE, type AuditedCall } from './call-audit.ts';
import { type ApiCore, type ApiCoreOptions, createApiCore } from './core.ts';
import { ApiError, toApiError } from './errors.ts';
import { registerCertificateRoutes } from './routes/certificates.ts';
import { registerHistoryRoutes } from './routes/history.ts';
import { registerDeleteRoutes } from './routes/deletes.ts';
import { registerRollbackRoute } from './routes/rollback.ts';
import { registerSecretRoutes } from './routes/secrets.ts';
import { registerTriggerRoutes } from './routes/triggers.ts';
import { ErrorBody } from './schemas.ts';

export interface ApiAppOptions extends ApiCoreOptions {
  /** The parts shared with the gRPC server (built from the options above when left out). */
  core?: ApiCore;
  /** HTTPS options for the server (left out in tests that inject). */
  https?: { key: string | Buffer; cert: string | Buffer };
}

export const API_VERSION_INFO = { title: 'vaultsync API', version: 'v1' };

/** The request as its audit line sees it (undefined for routes that are not audited). */
function audited(req: FastifyRequest): AuditedCall | undefined {
  const action = req.routeOptions.config.action;
  if (!action) return undefined;
  const namespace = (req.params as Partial<RouteParams>).namespace;
  // The request itself carries caller, auditDetail, errorCode and audited (access.ts).
  return Object.assign(req, { action, requestId: req.id, sourceIp: req.ip, ...(namespace && { namespace }) });
}

async function registerOpenApi(app: FastifyInstance, audience: string): Promise<void> {
  await app.register(swagger, {
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    openapi: {
      openapi: '3.0.3',
      info: {
        ...API_VERSION_INFO,
        description:
          'Triggers, one-off certificates and secret reads for authorised callers. Authenticate with a ' +
          `Kubernetes bearer token issued for the audience "${audience}" (kubectl create token ` +
          `<serviceaccount> --audience ${audience}); each route names the RBAC permission it needs.`,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

export async function buildApiApp(opts: ApiAppOptions): Promise<FastifyInstance> {
  const { config } = opts;
  const core = opts.core ?? createApiCore(opts);
  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimit,
    requestTimeout: config.requestTimeout,
    connectionTimeout: config.requestTimeout,
    // Wrong types are errors, not coerced; unknown fields are errors, not dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    ...(opts.https && { https: opts.https }),
  });
  app.addSchema(ErrorBody);
  await registerOpenApi(app, config.audience);

  const record = (req: FastifyRequest, status: number, code?: string) => {
    const call = audited(req);
    return call && core.audit.record(call, status, code);
  };
  /** Aborted when the client closes the connection before its answer has been sent. */
  const clientGone = (req: FastifyRequest, reply: FastifyReply): AbortSignal => {
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (reply.raw.writableEnded) return;
      gone.abort(new ApiError('ClientClosedRequest', 'the client closed the connection'));
      void record(req, 499, 'ClientClosedRequest');
    });
    return gone.signal;
  };

  app.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.config;
    if (!route.access) return;
    // Ends backend and issuer calls and trigger waits that outlive the request timeout (→ 504
    // Timeout), or the moment the client goes away (its audit line says 499).
    req.deadline = Date.now() + config.requestTimeout;
    req.abortSignal = AbortSignal.any([AbortSignal.timeout(config.requestTimeout), clientGone(req, reply)]);
    core.audit.checkOpen();
    await core.gate.admit({
      token: bearerToken(req.headers.authorization),
      source: req.ip,
      access: route.access(req.params as RouteParams),
      requires: route.requires,
      onCaller: (caller) => void (req.caller = caller),
    });
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const written = record(req, reply.statusCode);
    if (!written || !core.audit.failClosed) return payload;
    try {
      await written;
      return payload;
    } catch {
      // Nothing leaves unaudited: not the values read, not the outcome of what was done.
      req.errorCode = 'AuditUnavailable';
      reply.code(503).type('application/json; charset=utf-8').removeHeader('retry-after');
      return JSON.stringify(new ApiError('AuditUnavailable', AUDIT_UNAVAILABLE).body());
    }
  });

  app.setErrorHandler(async (err, req, reply) => {
    const apiError = toApiError(err);
    req.errorCode = apiError.code;
    if (apiError.code === 'Internal')
      opts.logger.error('API request failed', { route: req.routeOptions.url, error: err });
    if (apiError.retryAfterMs !== undefined)
      reply.header('Retry-After', Math.ceil(apiError.retryAfterMs / 1000));
    return reply.code(apiError.statusCode).send(apiError.body());
  });
  app.setNotFoundHandler(async (_req, reply) =>
    reply.code(404).send({ code: 'NotFound', message: 'no such endpoint; see /openapi.json' }),
  );

  registerTriggerRoutes(app, core.operations.triggers);
  registerRollbackRoute(app, core.operations.rollback);
  registerCertificateRoutes(app, core.operations.certificates);
  registerHistoryRoutes(app, core.operations.history);
  registerSecretRoutes(app, core.operations.secrets);
  registerDeleteRoutes(app, core.operations.deletes);
  return app;
}
