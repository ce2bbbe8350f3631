// The embedded HTTP API, built apart from listen() so tests drive it with inject().
//
// Every /v1 request passes, in order, before its body is parsed: the per-address rate limit
// (unless a cached answer already authenticates its token, so no flood of tokens becomes a
// flood of TokenReviews), authentication (TokenReview of the bearer token for our audience),
// the per-caller rate limit, and authorisation (SubjectAccessReview of what the route
// declares); then schema validation and the handler. One audit line is written per /v1 call,
// whatever the outcome, as its answer is sent (or when its client goes away first); with
// audit.failClosed a call whose line cannot be written is answered 503 instead. Errors are coded JSON without secret data. /healthz, /readyz and
// /metrics are not here: they are served on the health port only.
import swagger from '@fastify/swagger';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ApiConfig } from '../../config/index.ts';
import { formatDuration } from '../../config/duration.ts';
import type { Backend } from '../../backends/types.ts';
import type { IssuerRegistry } from '../../issuers/index.ts';
import type { Logger } from '../../observability/logger.ts';
import type { AuditEntry, AuditLog, AuditOutcome } from '../../observability/audit.ts';
import type { RouteParams } from './access.ts';
import { type Authenticator, type Authorizer, bearerToken, describeAccess } from './auth.ts';
import { ApiError, toApiError } from './errors.ts';
import { registerCertificateRoutes } from './routes/certificates.ts';
import { registerSecretRoutes } from './routes/secrets.ts';
import { type TriggerDeps, registerTriggerRoutes } from './routes/triggers.ts';
import { ErrorBody } from './schemas.ts';

export interface ApiAppOptions {
  config: ApiConfig;
  authenticator: Authenticator;
  authorizer: Authorizer;
  audit: AuditLog;
  logger: Logger;
  triggers: TriggerDeps;
  backends: { get(name: string): Backend | undefined };
  issuers: IssuerRegistry;
  /** HTTPS options for the server (left out in tests that inject). */
  https?: { key: string | Buffer; cert: string | Buffer };
}

export const API_VERSION_INFO = { title: 'vaultsync API', version: 'v1' };

const outcomeOf = (status: number): AuditOutcome =>
  status === 401 ? 'unauthenticated' : status === 403 ? 'denied' : status < 400 ? 'allowed' : 'failed';

export async function buildApiApp(opts: ApiAppOptions): Promise<FastifyInstance> {
  const { config } = opts;
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

  await app.register(swagger, {
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    openapi: {
      openapi: '3.0.3',
      info: {
        ...API_VERSION_INFO,
        description:
          'Triggers, one-off certificates and secret reads for authorised callers. Authenticate with a ' +
          `Kubernetes bearer token issued for the audience "${config.audience}" (kubectl create token ` +
          `<serviceaccount> --audience ${config.audience}); each route names the RBAC permission it needs.`,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  // Both limits are checked by hand in onRequest, where they must run (see the order above).
  await app.register(rateLimit, { global: false });
  const perAddress = app.createRateLimit({
    max: config.rateLimit.unauthenticated.max,
    timeWindow: config.rateLimit.unauthenticated.window,
  });
  const perCaller = app.createRateLimit({
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.window,
    keyGenerator: (req) => `user:${req.caller?.user ?? ''}`,
  });

  let auditFailing = false;
  /** Writes the call's audit line once; a failed line is logged (once per failing spell). */
  const audit = (req: FastifyRequest, status: number, code?: string): Promise<void> | undefined => {
    const entry = auditEntry(req, status, code);
    if (!entry || req.audited) return undefined;
    req.audited = true;
    const written = Promise.resolve(opts.audit.record(entry)).then(
      () => void (auditFailing = false),
      (err: unknown) => {
        if (!auditFailing)
          opts.logger.warn('Could not write the audit log', { error: (err as Error).message });
        auditFailing = true;
        throw err;
      },
    );
    written.catch(() => {}); // reported above; fail-closed awaits it
    return written;
  };
  /** Aborted when the client closes the connection before its answer has been sent. */
  const clientGone = (req: FastifyRequest, reply: FastifyReply): AbortSignal => {
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (reply.raw.writableEnded) return;
      gone.abort(new ApiError('ClientClosedRequest', 'the client closed the connection'));
      void audit(req, 499, 'ClientClosedRequest');
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
    if (opts.audit.failClosed && opts.audit.healthy?.() === false) {
      throw new ApiError('AuditUnavailable', AUDIT_UNAVAILABLE);
    }

    const token = bearerToken(req.headers.authorization);
    let caller = token === undefined ? undefined : opts.authenticator.known(token);
    if (!caller) {
      // Not vouched for by the cache: its address pays, before any TokenReview is sent.
      await enforce(perAddress, req, 'unauthenticated requests per address');
      if (!token)
        throw new ApiError(
          'Unauthenticated',
          'send a Kubernetes bearer token: Authorization: Bearer <token>',
        );
      caller = await opts.authenticator.authenticate(token);
      if (!caller)
        throw new ApiError(
          'Unauthenticated',
          `the bearer token is not valid for audience "${config.audience}"`,
        );
    }
    req.caller = caller;
    await enforce(perCaller, req, 'requests');
    const access = route.access(req.params as RouteParams);
    const decision = await opts.authorizer.authorize(caller, access);
    if (!decision.allowed) {
      throw new ApiError('Forbidden', `${caller.user} may not ${describeAccess(access)}`);
    }
    if (route.requires && !config[route.requires]) {
      throw new ApiError(
        'Disabled',
        `this endpoint is off; set api.${route.requires}: true in the operator config`,
      );
    }
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const written = audit(req, reply.statusCode);
    if (!written || !opts.audit.failClosed) return payload;
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

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerTriggerRoutes(app, opts.triggers, { requestTimeoutMs: config.requestTimeout });
  registerCertificateRoutes(app, { issuers: opts.issuers });
  registerSecretRoutes(app, { backends: opts.backends, batchGet: config.batchGet });
  return app;
}

const AUDIT_UNAVAILABLE = 'the audit log cannot be written (audit.failClosed); try again later';

/** The audit line of a /v1 call answered with `status` (none for routes that are not audited). */
function auditEntry(req: FastifyRequest, status: number, code = req.errorCode): AuditEntry | undefined {
  const route = req.routeOptions.config;
  if (!route.action) return undefined;
  const params = req.params as Record<string, string>;
  const caller = req.caller;
  return {
    action: route.action,
    outcome: outcomeOf(status),
    status,
    requestId: req.id,
    sourceIp: req.ip,
    ...(caller && {
      caller: {
        user: caller.user,
        groups: caller.groups,
        ...(caller.serviceAccount && { serviceAccount: caller.serviceAccount }),
        ...(caller.pod && { pod: caller.pod }),
      },
    }),
    ...(params.namespace && { namespace: params.namespace }),
    ...(code && { code }),
    ...req.auditDetail,
  };
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/** Counts the request against `limiter`; over the limit → 429 with Retry-After. */
async function enforce(limiter: Limiter, req: FastifyRequest, what: string): Promise<void> {
  const result = await limiter(req);
  if (result.isAllowed || !result.isExceeded) return;
  throw new ApiError(
    'TooManyRequests',
    `rate limit of ${result.max} ${what} per ${formatDuration(result.timeWindow)} exceeded`,
    Math.max(result.ttl, 1000),
  );
}
