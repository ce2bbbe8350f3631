/**
 * The sidecar's HTTP server: the HTTPS API's secret read routes — the same operations
 * (`http/api/operations/secrets.ts`), the same URLs, request and response shapes — for one
 * pod. No TokenReview and no SubjectAccessReview: whoever can reach the Unix socket (or the
 * loopback address) is inside the pod, and the pod's own ServiceAccount is what the backends
 * see. What is checked here is that a call is a read, and that it names the pod's namespace.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Backend } from '../backends/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { RouteParams } from '../http/api/access.ts';
import { ApiError, toApiError } from '../http/api/errors.ts';
import type { ApiSwitch } from '../http/api/gate.ts';
import { secretOperations } from '../http/api/operations/secrets.ts';
import { registerSecretRoutes } from '../http/api/routes/secrets.ts';
import { ErrorBody } from '../http/api/schemas.ts';
import type { SidecarSettings } from './config.ts';
import type { PodIdentity } from './identity.ts';

export interface SidecarAppOptions {
  readonly identity: PodIdentity;
  readonly backends: { get(name: string): Backend | undefined };
  readonly settings: Pick<SidecarSettings, 'requestTimeout' | 'batchGet'>;
  readonly logger: Logger;
}

/** Why a call is refused before anything is read, or undefined (pure). */
export function sidecarRefusal(
  requires: ApiSwitch | undefined,
  namespace: string | undefined,
  own: string,
): ApiError | undefined {
  if (requires !== 'secretReads') return new ApiError('Disabled', 'the sidecar serves secret reads only');
  if (namespace !== own) {
    return new ApiError('Forbidden', `this sidecar serves namespace "${own}" only (its pod's namespace)`);
  }
  return undefined;
}

export async function buildSidecarApp(opts: SidecarAppOptions): Promise<FastifyInstance> {
  const { identity, settings, logger } = opts;
  const app = Fastify({
    logger: false,
    requestTimeout: settings.requestTimeout,
    // Wrong types are errors, not coerced; unknown fields are errors, not dropped (as the API).
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  app.addSchema(ErrorBody);
  const caller = {
    user: `system:serviceaccount:${identity.namespace}:${identity.serviceAccount}`,
    groups: [],
    serviceAccount: { namespace: identity.namespace, name: identity.serviceAccount },
  };

  app.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.config;
    if (!route.access) return;
    const refused = sidecarRefusal(
      route.requires,
      (req.params as Partial<RouteParams>).namespace,
      identity.namespace,
    );
    if (refused) throw refused;
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableEnded) gone.abort(new ApiError('ClientClosedRequest', 'the client went away'));
    });
    req.caller = caller;
    req.deadline = Date.now() + settings.requestTimeout;
    req.abortSignal = AbortSignal.any([AbortSignal.timeout(settings.requestTimeout), gone.signal]);
  });

  // What was asked and how it ended: backend and paths, never a value.
  app.addHook('onResponse', async (req, reply) => {
    const action = req.routeOptions.config.action;
    if (action) logger.debug('Sidecar read', { action, status: reply.statusCode, ...req.auditDetail });
  });

  app.setErrorHandler(async (err, req: FastifyRequest, reply) => {
    const apiError = toApiError(err);
    if (apiError.code === 'Internal')
      logger.error('Sidecar request failed', { route: req.routeOptions.url, error: err });
    if (apiError.retryAfterMs !== undefined)
      reply.header('Retry-After', Math.ceil(apiError.retryAfterMs / 1000));
    return reply.code(apiError.statusCode).send(apiError.body());
  });
  app.setNotFoundHandler(async (_req, reply) =>
    reply.code(404).send({ code: 'NotFound', message: 'no such endpoint' }),
  );
  app.get('/healthz', async () => ({ status: 'ok' }));

  registerSecretRoutes(app, secretOperations({ backends: opts.backends, batchGet: settings.batchGet }));
  return app;
}
