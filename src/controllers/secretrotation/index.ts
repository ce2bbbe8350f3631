// Wires the SecretRotation controller: an informer on SecretRotations, wake-ups from the
// VaultSecrets reading a rotation's path and from its consumers, and the hooks that let the
// reload controller apply a rotation's restart settings to the Secret changes it causes.
import type { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, type SecretRotation, type VaultSecret } from '../../apis/v1alpha1/index.ts';
import type { Backend } from '../../backends/types.ts';
import { KeyedBackoff } from '../../kube/backoff.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { Clock } from '../../kube/clock.ts';
import { Controller } from '../../kube/controller.ts';
import { Informer, enqueueHandlers } from '../../kube/informer.ts';
import type { Logger } from '../../kube/logger.ts';
import type { ControllerMetrics, WorkqueueMetrics } from '../../kube/metrics.ts';
import { keyFor, keyOf } from '../../kube/resources.ts';
import { WorkQueue } from '../../kube/workqueue.ts';
import type { RandomSource } from '../../secrets/generators.ts';
import type { MacKeyring } from '../../secrets/mac-keyring.ts';
import type { ReloadController, RotationContext } from '../reload/controller.ts';
import { rotationRestartPolicy } from '../reload/policy.ts';
import { sourceRefs } from '../vaultsecret/desired-data.ts';
import type { RotationMetrics } from './metrics.ts';
import type { EventSink } from './context.ts';
import { RotationMemory, pathKey } from './memory.ts';
import { createSecretRotationReconciler } from './reconciler.ts';

export { ROTATE_NOW_ANNOTATION } from './spec.ts';

export const secretRotationResource = {
  apiVersion: API_VERSION,
  kind: 'SecretRotation',
  plural: 'secretrotations',
  namespaced: true,
} as const;

export interface SecretRotationControllerOptions {
  kubeConfig: KubeConfig;
  /** Watch only these namespaces (`operator.watchNamespaces`); empty or left out: all. */
  namespaces?: readonly string[];
  client: KubeClient;
  backends: { get(name: string): Backend | undefined };
  /** The VaultSecret controller's informer (shared, not a second watch). */
  vaultSecrets: Informer<VaultSecret>;
  /** The VaultSecret controller's "read this path now". */
  requestRefresh(namespace: string, backend: string, path: string): string[];
  reload: ReloadController;
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
  /** `operator.resyncPeriod`: how often the informer replays its cache (0: never). */
  resyncIntervalMs?: number;
}

export function createSecretRotationController(opts: SecretRotationControllerOptions) {
  const rotations = new Informer<SecretRotation>({
    resource: secretRotationResource,
    kubeConfig: opts.kubeConfig,
    namespaces: opts.namespaces,
    clock: opts.clock,
    logger: opts.logger,
    name: 'secretrotations',
    resyncIntervalMs: opts.resyncIntervalMs,
  });
  const memory = new RotationMemory();
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
      vaultSecrets: opts.vaultSecrets,
      backends: opts.backends,
      reload: opts.reload,
      requestRefresh: opts.requestRefresh,
      events: opts.events,
      macKeys: opts.macKeys,
      clock: opts.clock,
      memory,
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

  /** The rotation (if any) writing a path this VaultSecret reads at its latest version. */
  function rotationFor(vs: VaultSecret): SecretRotation | undefined {
    const paths = new Set(
      sourceRefs(vs.spec)
        .filter((r) => r.version === undefined)
        .map((r) => r.path),
    );
    return rotations
      .list(vs.metadata?.namespace)
      .find((sr) => sr.spec.backend === vs.spec.backend && paths.has(sr.spec.path));
  }

  // A reader's status changed (it synced a version): wake its rotation.
  opts.vaultSecrets.addHandlers(
    enqueueHandlers(
      (key) => controller.enqueue(key, { priority: 'low' }),
      (vs) => {
        const sr = rotationFor(vs);
        return sr ? [keyOf(sr)] : [];
      },
      // A replayed VaultSecret did not change; the rotation's own replay re-checks it.
      () => {},
    ),
  );
  // A consumer progressed: wake the rotations of its namespace that are rolling out.
  opts.reload.onWorkloadEvent((namespace) => {
    for (const sr of rotations.list(namespace)) {
      const phase = sr.status?.phase;
      if (phase === 'RollingOut' || phase === 'Failed') controller.enqueue(keyOf(sr), { priority: 'low' });
    }
  });

  opts.reload.setRotationHooks({
    contextFor(vs): RotationContext | undefined {
      const sr = rotationFor(vs);
      if (!sr) return undefined;
      const path = pathKey(vs.metadata?.namespace ?? '', sr.spec.backend, sr.spec.path);
      const suppress = memory.isRetiring(path, opts.clock.now());
      return { rotation: sr.metadata?.name ?? '', ...(suppress && { suppress }) };
    },
    policyFor(namespace, name) {
      const sr = rotations.get(keyFor(namespace, name));
      return sr ? rotationRestartPolicy(sr.spec) : undefined;
    },
  });

  return { controller, informers: [rotations] as const, rotations };
}
