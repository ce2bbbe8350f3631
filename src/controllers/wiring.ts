// Builds the four controllers in the order of what they offer each other (contracts.ts): the
// SecretRotation cache first (reload reads a rotation's restart settings from it), then reload,
// VaultSecret (tells reload of data changes), SecretRotation (reads VaultSecrets, asks reload for
// restarts), VaultCertificate (asks reload for restarts). Each gets what it needs at
// construction; nothing is set on a controller afterwards.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { SecretRotation, VaultSecret } from '../apis/v1alpha1/index.ts';
import { isTrue } from '../kube/conditions.ts';
import type { Backend } from '../backends/types.ts';
import type { OperatorConfig } from '../config/schema.ts';
import type { IssuerRegistry } from '../issuers/index.ts';
import type { KubeClient } from '../kube/client.ts';
import type { Clock } from '../kube/clock.ts';
import type { Logger } from '../kube/logger.ts';
import {
  type OperatorMetrics,
  type ResourceSample,
  createCertificateMetrics,
  registerCertificateGauges,
} from '../observability/metrics.ts';
import type { RsaKeyGenerator } from '../pki/index.ts';
import type { MacKeyring } from '../secrets/mac-keyring.ts';
import type { ObjectCache } from './contracts.ts';
import type { ControllerEvents } from './lifecycle.ts';
import { createReloadController } from './reload/index.ts';
import { createReloadMetrics } from './reload/metrics.ts';
import { createSecretRotationController, createSecretRotationInformer } from './secretrotation/index.ts';
import { createRotationMetrics } from './secretrotation/metrics.ts';
import { createVaultCertificateController } from './vaultcertificate/index.ts';
import { createVaultSecretController } from './vaultsecret/index.ts';

export interface ControllerDeps {
  kubeConfig: KubeConfig;
  operator: OperatorConfig;
  /** Fenced: only the Lease holder's writes go out. */
  client: KubeClient;
  /** Fenced views of the backends and issuers. */
  backends: { get(name: string): Backend | undefined };
  issuers: Pick<IssuerRegistry, 'get'>;
  rsa: RsaKeyGenerator;
  /** Kubernetes Events and lifecycle facts (controllers/lifecycle.ts). */
  events: ControllerEvents;
  macKeys: MacKeyring;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  metrics: OperatorMetrics;
}

export function createControllers(d: ControllerDeps) {
  const op = d.operator;
  const common = { client: d.client, events: d.events, macKeys: d.macKeys, clock: d.clock, logger: d.logger };
  const watching = {
    kubeConfig: d.kubeConfig,
    namespaces: op.watchNamespaces,
    resyncIntervalMs: op.resyncPeriod,
  };
  const metricsOf = (name: string) => ({
    queueMetrics: d.metrics.workqueue(name),
    controllerMetrics: d.metrics.controller(name),
  });
  const rotations = createSecretRotationInformer({ ...watching, clock: d.clock, logger: d.logger });
  // Workload restarts, shared by VaultSecret (rolloutRestartTargets, reload annotations),
  // VaultCertificate (rolloutRestartTargets) and SecretRotation (consumers).
  const reload = createReloadController({
    ...common,
    ...watching,
    ...metricsOf('reload'),
    namespace: op.namespace,
    rotations,
    workers: op.workers,
    metrics: createReloadMetrics(d.registry),
  });
  const vaultSecret = createVaultSecretController({
    ...common,
    ...watching,
    ...metricsOf('vaultsecret'),
    backends: d.backends,
    workers: op.workers,
    defaultRefreshIntervalMs: op.defaultRefreshInterval,
    changes: reload,
  });
  const secretRotation = createSecretRotationController({
    ...common,
    ...metricsOf('secretrotation'),
    rotations,
    backends: d.backends,
    vaultSecret,
    reload,
    annotatePods: op.annotatePods,
    workers: op.workers,
    metrics: createRotationMetrics(d.registry),
  });
  const vaultCertificate = createVaultCertificateController({
    ...common,
    ...watching,
    ...metricsOf('vaultcertificate'),
    issuers: d.issuers,
    workers: op.workers,
    rsa: d.rsa,
    restarts: reload,
    certificateMetrics: createCertificateMetrics(d.registry),
  });
  registerCertificateGauges(d.registry, vaultCertificate.samples);

  return {
    vaultSecret,
    secretRotation,
    vaultCertificate,
    informers: [
      ...vaultSecret.informers,
      ...reload.informers,
      ...secretRotation.informers,
      ...vaultCertificate.informers,
    ],
    controllers: [
      vaultSecret.controller,
      reload.controller,
      secretRotation.controller,
      vaultCertificate.controller,
    ],
    /** Ready and last sync of every resource, for the resource gauges. */
    resourceSamples: () =>
      resourceSamples(vaultSecret.vaultSecrets, secretRotation.rotations, vaultCertificate.samples),
  };
}

/** Ready (undefined while Unknown) and last sync of every resource, for the resource gauges. */
export function* resourceSamples(
  vaultSecrets: ObjectCache<VaultSecret>,
  rotations: ObjectCache<SecretRotation>,
  certificates: () => Iterable<{ namespace: string; name: string; ready?: boolean }>,
): Iterable<ResourceSample> {
  for (const vs of vaultSecrets.list()) {
    const ready = vs.status?.conditions?.find((c) => c.type === 'Ready');
    yield {
      kind: 'VaultSecret',
      namespace: vs.metadata?.namespace ?? '',
      name: vs.metadata?.name ?? '',
      ready: ready && ready.status !== 'Unknown' ? isTrue(vs.status?.conditions, 'Ready') : undefined,
      lastSyncTime: vs.status?.lastSyncTime,
    };
  }
  for (const sr of rotations.list()) {
    const ready = sr.status?.conditions?.find((c) => c.type === 'Ready');
    yield {
      kind: 'SecretRotation',
      namespace: sr.metadata?.namespace ?? '',
      name: sr.metadata?.name ?? '',
      ready: ready && ready.status !== 'Unknown' ? ready.status === 'True' : undefined,
      lastSyncTime: sr.status?.lastRotationTime,
    };
  }
  for (const c of certificates()) {
    yield { kind: 'VaultCertificate', namespace: c.namespace, name: c.name, ready: c.ready };
  }
}
