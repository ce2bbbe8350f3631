// The embedded HTTP API, built apart from listen() so tests drive it with inject().
//
// Every /v1 request passes, in order: authentication (TokenReview of the bearer token) and
// authorisation (SubjectAccessReview of what the route declares) before its body is parsed;
// then schema validation, the per-caller rate limit, and the handler. One audit line is
// written per /v1 call, whatever the outcome. Errors are coded JSON without secret data.
import swagger from '@fastify/swagger';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ApiConfig } from '../../config/index.ts';
import type { Backend } from '../../backends/types.ts';
import type { IssuerRegistry } from '../../issuers/index.ts';
import type { Logger } from '../../observability/logger.ts';
import type { AuditLog, AuditOutcome } from '../../observability/audit.ts';
import { type HealthAppOptions, registerHealthRoutes } from '../health.ts';
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
  health: HealthAppOptions;
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
          'Kubernetes bearer token; each route names the RBAC permission it needs.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.window,
    keyGenerator: (req) => req.caller?.user ?? req.ip,
    allowList: (req) => !req.url.startsWith('/v1/'),
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      code: 'TooManyRequests',
      message: `rate limit of ${ctx.max} requests per ${ctx.after} exceeded`,
    }),
  });

  app.addHook('onRequest', async (req) => {
    const route = req.routeOptions.config;
    if (!route.access) return;
    // Ends backend and issuer calls that outlive the request timeout (→ 504 Timeout).
    req.abortSignal = AbortSignal.timeout(config.requestTimeout);

    const token = bearerToken(req.headers.authorization);
    if (!token)
      throw new ApiError('Unauthenticated', 'send a Kubernetes bearer token: Authorization: Bearer <token>');
    const caller = await opts.authenticator.authenticate(token);
    if (!caller) throw new ApiError('Unauthenticated', 'the bearer token is not valid');
    req.caller = caller;
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

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.config;
    if (!route.action) return;
    const params = req.params as Record<string, string>;
    const caller = req.caller;
    opts.audit.record({
      action: route.action,
      outcome: outcomeOf(reply.statusCode),
      status: reply.statusCode,
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
      ...(req.errorCode && { code: req.errorCode }),
      ...req.auditDetail,
    });
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

  registerHealthRoutes(app, opts.health);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerTriggerRoutes(app, opts.triggers);
  registerCertificateRoutes(app, { issuers: opts.issuers });
  registerSecretRoutes(app, { backends: opts.backends, batchGet: config.batchGet });
  return app;
}
