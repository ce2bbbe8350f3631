// The composition root: config → metrics, webhooks → fence and clients → MAC keys → backends and
// issuers → controllers → leadership → informers → API → health server → campaign. Each step is
// built in src/operator/; this file only sequences them, and stop() undoes them (operator/shutdown.ts).
// Informers run on every replica (standbys keep warm caches); only the leader's workers write.
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from './config/index.ts';
import { readSecretFile } from './config/index.ts';
import { RsaWorkerPool } from './pki/index.ts';
import { loadOrCreateMacKeys } from './hmac-key.ts';
import { systemClock } from './kube/clock.ts';
import { retryTransient } from './kube/retry-transient.ts';
import type { Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { operatorClients } from './operator/clients.ts';
import { buildControllers } from './operator/controllers.ts';
import { Leadership, createFences } from './operator/leadership.ts';
import { startServing } from './operator/serving.ts';
import { Shutdown, shutdownGrace } from './operator/shutdown.ts';
import { createSources } from './operator/sources.ts';
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
  // What most parts need: who this replica is, time, logs and metrics.
  const common = { kubeConfig, identity, clock, logger, registry, metrics };
  // Fencing (docs/architecture.md): every write the CONTROLLERS make (apply, patch, status,
  // events, backend writes, issuer calls) goes through `fence`. The elector, start-up (HMAC key)
  // and the HTTPS API use the unfenced `client`, `backends` and `issuers`.
  const fences = createFences(op.leaderElection);
  const { client, fencedClient } = operatorClients(kubeConfig, identity, fences.fence);
  // Start-up waits out an apiserver that cannot be reached (no exit into CrashLoopBackOff).
  const macKeys = await retryTransient('MAC keys', () => loadOrCreateMacKeys(client, op.namespace), {
    logger,
  });
  // Certificates' RSA keys are generated in worker threads.
  const rsa = new RsaWorkerPool();
  const { backends, issuers } = createSources(config, { kubeConfig, identity, metrics, client, rsa });
  const { vaultSecret, secretRotation, vaultCertificate, informers, controllers } = buildControllers({
    ...common,
    operator: op,
    fence: fences.fence,
    fencedClient,
    backends,
    issuers,
    rsa,
    webhooks,
    macKeys,
  });

  const shutdown = new Shutdown();
  const leadership = new Leadership({
    ...common,
    election: op.leaderElection,
    namespace: op.namespace,
    client,
    fences,
    controllers,
    // The Argo Rollouts cache is not waited for: the CRD may never be served (reload asks settled()).
    caches: informers.flatMap((i) => ('waitForSync' in i ? [i] : [])),
    onStartedLeading: () => webhooks.watchCertificateExpiry(vaultCertificate.certificates),
    stopping: () => shutdown.stopping,
    stop: () => shutdown.stop(),
  });
  for (const informer of informers) informer.start();
  const { api, health, audit } = await startServing(config, {
    ...common,
    informers,
    elector: leadership.elector,
    backends,
    issuers,
    client,
    namespace: op.namespace,
    caches: { vaultSecrets: vaultSecret.vaultSecrets, rotations: secretRotation.rotations },
    // An API delete asks the VaultSecrets reading the path to read it now (from a standby: sync-now).
    readers: { requestRefresh: vaultSecret.requestRefresh, isLeader: () => leadership.isLeader() },
    alive: () => !shutdown.stopping,
  });
  shutdown.arm({
    graceMs: shutdownGrace(op.leaderElection),
    controllers,
    fence: fences.leadership,
    webhooks,
    leadership,
    informers,
    backends,
    issuers,
    rsa,
    api,
    health: health.app,
    audit,
  });
  // Campaign only once start-up is done: building the API blocks the event loop for seconds on a
  // busy node, and a leader whose loop is blocked misses its renew deadline and must stand down.
  leadership.start();

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
    isLeader: () => leadership.isLeader(),
    stop: () => shutdown.stop(),
  };
}
