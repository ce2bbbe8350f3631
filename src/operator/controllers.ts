// The controllers and what only they use: fenced views of the backends and issuers, and the
// Kubernetes Events recorder whose lifecycle facts also go to the webhooks as typed data. Built in
// the order of what they offer each other (controllers/wiring.ts, controllers/contracts.ts).
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { fencedBackends } from '../backends/fenced.ts';
import type { BackendRegistry } from '../backends/registry.ts';
import type { OperatorConfig } from '../config/index.ts';
import { type LifecycleSubscriber, controllerEvents } from '../controllers/lifecycle.ts';
import { createControllers } from '../controllers/wiring.ts';
import { fencedIssuers } from '../issuers/fenced.ts';
import type { IssuerRegistry } from '../issuers/index.ts';
import type { KubeClient } from '../kube/client.ts';
import type { Clock } from '../kube/clock.ts';
import { EventRecorder } from '../kube/events.ts';
import type { WriteFence } from '../kube/fence.ts';
import type { Logger } from '../observability/logger.ts';
import { type OperatorMetrics, registerResourceGauges } from '../observability/metrics.ts';
import type { RsaKeyGenerator } from '../pki/index.ts';
import type { MacKeyring } from '../secrets/mac-keyring.ts';

export interface ControllerParts {
  kubeConfig: KubeConfig;
  operator: OperatorConfig;
  identity: string;
  /** What every controller write checks. */
  fence: WriteFence;
  /** Writes only while `fence` is held. */
  fencedClient: KubeClient;
  /** Unfenced: the controllers get fenced views. */
  backends: BackendRegistry;
  issuers: IssuerRegistry;
  rsa: RsaKeyGenerator;
  /** Told every lifecycle fact (the webhooks). */
  webhooks: LifecycleSubscriber;
  macKeys: MacKeyring;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  metrics: OperatorMetrics;
}

export type OperatorControllers = ReturnType<typeof createControllers>;

export function buildControllers(p: ControllerParts): OperatorControllers {
  const { fence, clock, logger } = p;
  const events = controllerEvents(
    new EventRecorder({ client: p.fencedClient, instance: p.identity, clock, logger }),
    [p.webhooks],
  );
  const built = createControllers({
    kubeConfig: p.kubeConfig,
    operator: p.operator,
    client: p.fencedClient,
    backends: fencedBackends(p.backends, fence),
    issuers: fencedIssuers(p.issuers, fence),
    rsa: p.rsa,
    events,
    macKeys: p.macKeys,
    clock,
    logger,
    registry: p.registry,
    metrics: p.metrics,
  });
  registerResourceGauges(p.registry, built.resourceSamples);
  return built;
}
