// Wires the SecretRotation controller: the SecretRotation informer (built first, as the reload
// controller reads rotations from it too), wake-ups from the VaultSecrets reading a rotation's
// path and from its consumers. It meets the other controllers only through contracts.ts: the
// VaultSecret controller's reads (VaultSecretReads) and the reload controller's Rollouts.
import type { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, type SecretRotation } from '../../apis/v1alpha1/index.ts';
import type { Backend } from '../../backends/types.ts';
import { KeyedBackoff } from '../../kube/backoff.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { Clock } from '../../kube/clock.ts';
import { Controller } from '../../kube/controller.ts';
import { Informer } from '../../kube/informer.ts';
import { enqueueHandlers } from '../../kube/informer-handlers.ts';
import type { Logger } from '../../kube/logger.ts';
import type { ControllerMetrics, WorkqueueMetrics } from '../../kube/metrics.ts';
import { keyOf } from '../../kube/resources.ts';
import { WorkQueue } from '../../kube/workqueue.ts';
import type { RandomSource } from '../../secrets/generators.ts';
import type { MacKeyring } from '../../secrets/mac-keyring.ts';
import type { Rollouts, VaultSecretReads } from '../contracts.ts';
import { rotationFor } from '../shared/source-refs.ts';
import type { EventSink } from './context.ts';
import { RotationMemory } from './memory.ts';
import type { RotationMetrics } from './metrics.ts';
import { createSecretRotationReconciler } from './reconciler.ts';

export const secretRotationResource = {
  apiVersion: API_VERSION,
  kind: 'SecretRotation',
  plural: 'secretrotations',
  namespaced: true,
} as const;

export interface SecretRotationInformerOptions {
  kubeConfig: KubeConfig;
  /** Watch only these namespaces (`operator.watchNamespaces`); empty or left out: all. */
  namespaces?: readonly string[];
  clock: Clock;
  logger: Logger;
  /** `operator.resyncPeriod`: how often the informer replays its cache (0: never). */
  resyncIntervalMs?: number;
}

/** The SecretRotation cache: built before the controllers that read it (reload, SecretRotation). */
export function createSecretRotationInformer(opts: SecretRotationInformerOptions): Informer<SecretRotation> {
  return new Informer<SecretRotation>({
    resource: secretRotationResource,
    kubeConfig: opts.kubeConfig,
    namespaces: opts.namespaces,
    clock: opts.clock,
    logger: opts.logger,
    name: 'secretrotations',
    resyncIntervalMs: opts.resyncIntervalMs,
  });
}

export interface SecretRotationControllerOptions {
  /** The SecretRotation informer (createSecretRotationInformer); started with this controller's informers. */
  rotations: Informer<SecretRotation>;
  client: KubeClient;
  backends: { get(name: string): Backend | undefined };
  /** The VaultSecret controller: its cache (the rotation's readers) and "read this path now". */
  vaultSecret: VaultSecretReads;
  /** The reload controller: the rotation's consumers, restarted and followed; retirements announced. */
  reload: Rollouts;
  events: EventSink;
  /** Keys of the MACs written to status (bound to namespace, object and use). */
  macKeys: MacKeyring;
  clock: Clock;
  logger: Logger;
  /** `operator.annotatePods`: serve restart.mode AnnotatePods (default false: refused). */
  annotatePods?: boolean;
  workers?: number;
  random?: RandomSource;
  metrics?: RotationMetrics;
  queueMetrics?: WorkqueueMetrics;
  controllerMetrics?: ControllerMetrics;
}

export function createSecretRotationController(opts: SecretRotationControllerOptions) {
  const { rotations, vaultSecret, reload } = opts;
  const controller = new Controller({
    name: 'secretrotation',
    workers: opts.workers ?? 2,
    clock: opts.clock,
    logger: opts.logger,
    metrics: opts.controllerMetrics,
    queue: new WorkQueue({
      clock: opts.clock,
      metrics: opts.queueMetrics,
      rateLimiter: new KeyedBackoff({ baseMs: 1000, capMs: 60_000 }),
    }),
    reconcile: createSecretRotationReconciler({
      client: opts.client,
      rotations,
      vaultSecrets: vaultSecret.vaultSecrets,
      backends: opts.backends,
      reload,
      requestRefresh: (namespace, backend, path, cause) =>
        vaultSecret.requestRefresh(namespace, backend, path, cause),
      events: opts.events,
      macKeys: opts.macKeys,
      clock: opts.clock,
      memory: new RotationMemory(),
      annotatePods: opts.annotatePods ?? false,
      ...(opts.random && { random: opts.random }),
      ...(opts.metrics && { metrics: opts.metrics }),
    }),
  });

  // A replay (resync) wakes only a rotation with nothing planned: its next rotation, rollout
  // poll or retry keeps its time.
  rotations.addHandlers(
    enqueueHandlers(
      (key) => controller.enqueue(key),
      undefined,
      (key) => controller.queue.addUnlessPending(key, { priority: 'low' }),
    ),
  );
  rotations.addHandlers({ delete: (sr) => controller.forgetKey(keyOf(sr)) });

  // A reader's status changed (it synced a version): wake its rotation.
  vaultSecret.vaultSecrets.addHandlers(
    enqueueHandlers(
      (key) => controller.enqueue(key, { priority: 'low' }),
      (vs) => {
        const sr = rotationFor(vs, rotations.list(vs.metadata?.namespace));
        return sr ? [keyOf(sr)] : [];
      },
      // A replayed VaultSecret did not change; the rotation's own replay re-checks it.
      () => {},
    ),
  );
  // A consumer progressed: wake the rotations of its namespace that are rolling out.
  reload.onWorkloadEvent((namespace) => {
    for (const sr of rotations.list(namespace)) {
      const phase = sr.status?.phase;
      if (phase === 'RollingOut' || phase === 'Failed') controller.enqueue(keyOf(sr), { priority: 'low' });
    }
  });

  return { controller, informers: [rotations] as const, rotations };
}
