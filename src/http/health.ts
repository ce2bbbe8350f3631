// /healthz, /readyz and /metrics, on the health port only (never on the API port: they need no
// token, so they must not be reachable where tenants call). Readiness is a list of named
// checks, each timed, so a failing probe says which part is not ready (informers synced and
// watching, leadership, backends — those cached by cached-check.ts).
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail?: string }>;
}

export interface HealthAppOptions {
  registry: Registry;
  readiness: ReadinessCheck[];
  /** Liveness: false only when the process cannot make progress (e.g. stopping). */
  alive?: () => boolean;
}

interface CheckResult {
  name: string;
  ok: boolean;
  detail?: string;
  latencyMs: number;
}

async function runCheck(c: ReadinessCheck): Promise<CheckResult> {
  const start = performance.now();
  const result = await c.check().catch((err: unknown) => ({ ok: false, detail: (err as Error).message }));
  return { name: c.name, ...result, latencyMs: Math.round((performance.now() - start) * 10) / 10 };
}

/** Built apart from listen() so tests use inject(). */
export function buildHealthApp(opts: HealthAppOptions): FastifyInstance {
  const app = Fastify({ logger: false });
  registerHealthRoutes(app, opts);
  return app;
}

/**
 * /healthz, /readyz and /metrics on an app (the health server's).
 * `/readyz?exclude=<name>` leaves out a check, or a group of them (`exclude=backends` leaves
 * out every `backends/<name>`), as the kube-apiserver's own /readyz does.
 */
export function registerHealthRoutes(app: FastifyInstance, opts: HealthAppOptions): void {
  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    const alive = opts.alive?.() ?? true;
    return reply.code(alive ? 200 : 503).send({ status: alive ? 'ok' : 'stopping' });
  });
  app.get<{ Querystring: { exclude?: string | string[] } }>(
    '/readyz',
    { schema: { hide: true } },
    async (req, reply) => {
      const excluded = [req.query.exclude ?? []].flat();
      const wanted = opts.readiness.filter(
        (c) => !excluded.some((x) => c.name === x || c.name.startsWith(`${x}/`)),
      );
      const checks = await Promise.all(wanted.map(runCheck));
      const ready = checks.every((c) => c.ok);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
    },
  );
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const body = await opts.registry.metrics();
    return reply.header('Content-Type', opts.registry.contentType).send(body);
  });
}
