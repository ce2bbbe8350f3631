// The composition root: config → logger → kube → backends → controllers → health server.
// Informers run on every replica (standbys keep warm caches); only the leader's workers write.
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { kubeSecretsApi, kubeTokenSource } from './backends/kube-client.ts';
import { fencedBackends } from './backends/fenced.ts';
import { createBackends } from './backends/registry.ts';
import type { Config } from './config/index.ts';
import { readSecretFile } from './config/index.ts';
import { controllerEvents } from './controllers/lifecycle.ts';
import { createControllers } from './controllers/wiring.ts';
import { fencedIssuers } from './issuers/fenced.ts';
import { createIssuers } from './issuers/index.ts';
import { RsaWorkerPool } from './pki/index.ts';
import { loadOrCreateMacKeys } from './hmac-key.ts';
import { cachedCheck } from './http/cached-check.ts';
import { type HealthAppOptions, buildHealthApp } from './http/health.ts';
import { subjectAccessReviewAuthorizer, tokenReviewAuthenticator } from './http/api/auth.ts';
import { splitAddress, startApiServer } from './http/api/server.ts';
import { serviceDnsNames } from './http/api/tls.ts';
import { createAuditLog } from './observability/audit.ts';
import { createKubeClient } from './kube/client.ts';
import { systemClock } from './kube/clock.ts';
import { EventRecorder } from './kube/events.ts';
import { LeadershipFence, type WriteFence, openFence } from './kube/fence.ts';
import { LeaderElector, shutdownGraceMs } from './kube/leader-election.ts';
import { retryTransient } from './kube/retry-transient.ts';
import type { Logger } from './observability/logger.ts';
import { createMetrics, registerResourceGauges } from './observability/metrics.ts';
import { userAgent } from './version.ts';
import { createWebhookNotifier } from './webhooks/index.ts';

export interface OperatorOptions {
  config: Config;
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Replica identity for the Lease; default the host name plus the pid. */
  identity?: string;
}

export interface RunningOperator {
  /** The address the health server listens on ("127.0.0.1:8081"), if enabled. */
  healthAddress?: string;
  /** The address of the HTTPS API ("127.0.0.1:8443"), if enabled. */
  apiAddress?: string;
  /** The CA bundle the API's certificate verifies with (as published in the ConfigMap `vaultsync-api-ca`). */
  apiCaPem?: string;
  /** The address of the gRPC API, if enabled (api.grpc.address). */
  grpcAddress?: string;
  isLeader(): boolean;
  stop(): Promise<void>;
}

/** The Service in front of the API (the chart's default name); its DNS names go into a generated certificate. */
const API_SERVICE_NAME = 'vaultsync';
const BACKEND_CHECK_TIMEOUT_MS = 3000;
/** A backend's reachability answer is reused this long: a flood of /readyz costs it one check. */
const BACKEND_CHECK_CACHE_MS = 10_000;

export async function startOperator(opts: OperatorOptions): Promise<RunningOperator> {
  const { config, kubeConfig, logger } = opts;
  const op = config.operator;
  const clock = systemClock;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vaultsync_' });
  const metrics = createMetrics(registry);
  // Lifecycle webhooks (docs/webhooks.md): the controllers' lifecycle facts, sent in the background.
  const webhooks = await createWebhookNotifier(config.webhooks, { registry, clock, logger, readSecretFile });
  const identity = opts.identity ?? `${hostname()}-${process.pid}`;
  const le = op.leaderElection;
  // Fencing (docs/architecture.md): every write the CONTROLLERS make (apply, patch, status,
  // events, backend writes, issuer calls) goes through `fence`, held only while this process
  // holds the Lease it last renewed within renewDeadline. The elector, start-up (HMAC key) and
  // the HTTPS API (it serves on every replica and writes on behalf of its callers) use the
  // unfenced `client`, `backends` and `issuers`.
  const leadership = le.enabled ? new LeadershipFence({ renewDeadlineMs: le.renewDeadline }) : undefined;
  const fence: WriteFence = leadership ?? openFence;
  const client = createKubeClient(kubeConfig, { userAgent: userAgent(identity) });
  const fencedClient = createKubeClient(kubeConfig, { userAgent: userAgent(identity), fence });

  // Start-up waits out an apiserver that cannot be reached (no exit into CrashLoopBackOff).
  const macKeys = await retryTransient('MAC keys', () => loadOrCreateMacKeys(client, op.namespace), {
    logger,
  });
  const backends = createBackends(config, {
    metrics,
    tokenSource: kubeTokenSource(kubeConfig, { userAgent: userAgent(identity) }),
    secrets: kubeSecretsApi(kubeConfig, { userAgent: userAgent(identity) }),
    readSecretFile,
    onAuthEvent: (backend, event) => metrics.authEvent(backend, event),
  });
  const controllerBackends = fencedBackends(backends, fence);
  // Kubernetes Events, and the controllers' lifecycle facts handed to the webhooks as typed data.
  const events = controllerEvents(
    new EventRecorder({ client: fencedClient, instance: identity, clock, logger }),
    [webhooks],
  );
  // Certificates: issuers (vault-pki, local-ca) from the config, RSA keys in worker threads.
  const rsa = new RsaWorkerPool();
  const issuers = createIssuers(config, {
    client,
    rsa,
    metrics,
    tokenSource: kubeTokenSource(kubeConfig, { userAgent: userAgent(identity) }),
    secrets: kubeSecretsApi(kubeConfig, { userAgent: userAgent(identity) }),
    readSecretFile,
    onAuthEvent: (issuer, event) => metrics.authEvent(issuer, event),
  });
  // The controllers, built in the order of what they offer each other (controllers/contracts.ts).
  const { vaultSecret, secretRotation, vaultCertificate, informers, controllers, resourceSamples } =
    createControllers({
      kubeConfig,
      operator: op,
      client: fencedClient,
      backends: controllerBackends,
      issuers: fencedIssuers(issuers, fence),
      rsa,
      events,
      macKeys,
      clock,
      logger,
      registry,
      metrics,
    });
  registerResourceGauges(registry, resourceSamples);

  let stopping = false;
  const startControllers = () => {
    metrics.setLeader(true);
    logger.info('Started leading', { identity });
    for (const c of controllers) c.start();
    webhooks.watchCertificateExpiry(vaultCertificate.certificates);
  };
  // Leadership over — stepped down, another holder seen, or the renew deadline passed on the
  // fence's own clock (even when a late renewal then succeeded): in-flight reconciles are aborted
  // at once (their writes are already refused) and the process exits for a fresh replica; it
  // never keeps the Lease with its fence closed.
  let standingDown = false;
  const standDown = () => {
    for (const c of controllers) c.abort(fence.signal.reason);
    metrics.setLeader(false);
    if (stopping || standingDown) return;
    standingDown = true;
    logger.error('Lost leadership; exiting so a fresh replica can stand by', {
      identity,
      reason: (fence.signal.reason as Error | undefined)?.message,
    });
    process.exitCode = 1;
    // No second campaign from this process (its fence stays lost): a fresh one will.
    void elector?.stop();
    void stop().finally(() => process.exit(1));
  };
  fence.signal.addEventListener('abort', standDown);
  const elector = le.enabled
    ? new LeaderElector({
        client,
        identity,
        leaseName: le.leaseName,
        leaseNamespace: op.namespace,
        leaseDurationMs: le.leaseDuration,
        renewDeadlineMs: le.renewDeadline,
        retryPeriodMs: le.retryPeriod,
        fence: leadership,
        clock,
        logger,
        onStartedLeading: startControllers,
        onStoppedLeading: standDown,
      })
    : undefined;

  for (const informer of informers) informer.start();

  const healthOptions: HealthAppOptions = {
    registry,
    alive: () => !stopping,
    readiness: [
      {
        name: 'informers',
        check: async () => {
          const bad = informers.map((i) => i.status()).filter((s) => !s.synced || !s.healthy);
          return bad.length === 0
            ? { ok: true }
            : {
                ok: false,
                detail: bad.map((s) => `${s.name}: ${s.synced ? 'not watching' : 'not synced'}`).join('; '),
              };
        },
      },
      {
        name: 'leader-election',
        check: async () => ({
          ok: true,
          detail: !elector
            ? 'disabled'
            : elector.isLeader()
              ? 'leader'
              : `standby (leader: ${elector.leader() ?? 'none'})`,
        }),
      },
      // Reachability of each backend and issuer (probes leave them out: ?exclude=backends),
      // through its rate limit and circuit breaker, and cached.
      ...[
        ...backends.names().map((n) => backends.get(n)!),
        ...issuers.names().map((n) => issuers.get(n)!),
      ].map((b) => ({
        name: `backends/${b.name}`,
        check: cachedCheck(async () => {
          await b.check(AbortSignal.timeout(BACKEND_CHECK_TIMEOUT_MS));
          return { ok: true };
        }, BACKEND_CHECK_CACHE_MS),
      })),
    ],
  };
  const apiConfig = config.api;
  const audit = createAuditLog(config.audit ?? { sink: 'stdout' });
  const api = apiConfig
    ? await startApiServer({
        config: apiConfig,
        logger,
        audit,
        authenticator: tokenReviewAuthenticator(client, {
          ttlMs: apiConfig.authCacheTtl,
          audience: apiConfig.audience,
        }),
        authorizer: subjectAccessReviewAuthorizer(client, apiConfig.authCacheTtl),
        triggers: { client, vaultSecrets: vaultSecret.vaultSecrets, rotations: secretRotation.rotations },
        backends,
        issuers,
        dnsNames: serviceDnsNames(API_SERVICE_NAME, op.namespace),
        kube: { client, namespace: op.namespace },
      })
    : undefined;
  // The health server last: a probe must not see the replica ready before the API listens.
  const health = await startHealthServer(op.healthAddress, buildHealthApp(healthOptions));
  // Campaign only once start-up is done: building the API blocks the event loop for seconds on a
  // busy node, and a leader whose loop is blocked misses its renew deadline and must stand down.
  if (elector) elector.start();
  else startControllers();

  async function stop(): Promise<void> {
    if (stopping) return;
    stopping = true;
    // Grace below leaseDuration − renewDeadline: done before a standby may take the Lease.
    const graceMs = le.enabled ? shutdownGraceMs(le.leaseDuration, le.renewDeadline) : undefined;
    await Promise.allSettled(controllers.map((c) => c.stop(graceMs)));
    // Nothing is written after the grace: a reconcile that ignored its signal is refused.
    leadership?.lose('stopping');
    await webhooks.close();
    await elector?.stop();
    await Promise.allSettled(informers.map((i) => i.stop()));
    await backends.close();
    await issuers.close();
    await rsa.close();
    await api?.close();
    await health.app?.close();
    await audit.close();
  }

  logger.info('Started vaultsync', {
    identity,
    backends: backends.names(),
    health: health.address,
    api: api?.address ?? 'off',
    namespaces: op.watchNamespaces.length > 0 ? op.watchNamespaces : 'all',
  });
  return {
    healthAddress: health.address,
    ...(api && { apiAddress: api.address, apiCaPem: api.caPem }),
    ...(api?.grpcAddress && { grpcAddress: api.grpcAddress }),
    isLeader: () => (elector ? elector.isLeader() : true),
    stop,
  };
}

async function startHealthServer(
  address: string,
  app: FastifyInstance,
): Promise<{ app?: FastifyInstance; address?: string }> {
  if (address === '0') return {};
  const { host, port } = splitAddress(address);
  await app.listen({ host, port });
  const bound = app.server.address();
  return { app, address: bound && typeof bound === 'object' ? `${bound.address}:${bound.port}` : address };
}
