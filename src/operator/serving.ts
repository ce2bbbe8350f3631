// What every replica serves: the HTTPS API (with its audit log), then the health server
// (/healthz, /readyz, /metrics on operator.healthAddress), last: a probe must not see the replica
// ready before the API listens.
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { BackendRegistry } from '../backends/registry.ts';
import type { Config } from '../config/index.ts';
import { type RunningApi, splitAddress } from '../http/api/server.ts';
import { buildHealthApp } from '../http/health.ts';
import type { IssuerRegistry } from '../issuers/index.ts';
import { type AuditLog, createAuditLog } from '../observability/audit.ts';
import { type OperatorApiDeps, startOperatorApi } from './api.ts';
import { type ReadinessDeps, readinessChecks } from './readiness.ts';

export interface ServingDeps extends Omit<OperatorApiDeps, 'audit' | 'backends' | 'issuers'>, ReadinessDeps {
  backends: BackendRegistry;
  issuers: IssuerRegistry;
  registry: Registry;
  /** Liveness: false once the operator is stopping. */
  alive: () => boolean;
}

export interface Serving {
  api: RunningApi | undefined;
  health: RunningHealthServer;
  audit: AuditLog;
}

export interface RunningHealthServer {
  /** Undefined when the address is "0" (no health server). */
  app?: FastifyInstance;
  /** The address bound ("127.0.0.1:8081"). */
  address?: string;
}

export async function startServing(config: Config, d: ServingDeps): Promise<Serving> {
  const readiness = readinessChecks(d);
  const audit = createAuditLog(config.audit ?? { sink: 'stdout' });
  const api = await startOperatorApi(config.api, { ...d, audit });
  const health = await startHealthServer(
    config.operator.healthAddress,
    buildHealthApp({ registry: d.registry, alive: d.alive, readiness }),
  );
  return { api, health, audit };
}

async function startHealthServer(address: string, app: FastifyInstance): Promise<RunningHealthServer> {
  if (address === '0') return {};
  const { host, port } = splitAddress(address);
  await app.listen({ host, port });
  const bound = app.server.address();
  return { app, address: bound && typeof bound === 'object' ? `${bound.address}:${bound.port}` : address };
}
