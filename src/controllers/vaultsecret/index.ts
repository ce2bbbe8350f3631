// Wires the VaultSecret controller: an informer on VaultSecrets, a label-filtered informer on
// the Secrets vaultsync wrote (edits and deletions are repaired at once), and the workers.
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import {
  API_VERSION,
  VAULTSECRET_OWNER_LABEL,
  VAULTSYNC_FIELD_MANAGERS,
  type RefreshCause,
  type VaultSecret,
} from '../../apis/v1alpha1/index.ts';
import type { Backend } from '../../backends/types.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { Clock } from '../../kube/clock.ts';
import { KeyedBackoff } from '../../kube/backoff.ts';
import { Controller } from '../../kube/controller.ts';
import { enqueueHandlers } from '../../kube/informer-handlers.ts';
import { Informer } from '../../kube/informer.ts';
import { keepWriters } from '../../kube/managed-fields.ts';
import { OwnWrites, skippingEchoes } from '../../kube/own-writes.ts';
import type { Logger } from '../../kube/logger.ts';
import type { ControllerMetrics, WorkqueueMetrics } from '../../kube/metrics.ts';
import { builtinResources, keyFor } from '../../kube/resources.ts';
import { WorkQueue } from '../../kube/workqueue.ts';
import type { MacKeyring } from '../../secrets/mac-keyring.ts';
import type { SecretChanges } from '../contracts.ts';
import type { ControllerEvents } from '../lifecycle.ts';
import { readsLatest } from '../shared/source-refs.ts';
import { FailureHold } from './failure-hold.ts';
import { createVaultSecretReconciler } from './reconciler.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from './target-secret.ts';

export const vaultSecretResource = {
  apiVersion: API_VERSION,
  kind: 'VaultSecret',
  plural: 'vaultsecrets',
  namespaced: true,
} as const;

export interface VaultSecretControllerOptions {
  kubeConfig: KubeConfig;
  /** Watch only these namespaces (`operator.watchNamespaces`); empty or left out: all. */
  namespaces?: readonly string[];
  client: KubeClient;
  backends: { get(name: string): Backend | undefined };
  /** Events, and the lifecycle facts of a sync (controllers/lifecycle.ts). */
  events: ControllerEvents;
  /** Keys of the MACs written to status (bound to namespace, object and use). */
  macKeys: MacKeyring;
  clock: Clock;
  logger: Logger;
  workers: number;
  defaultRefreshIntervalMs: number;
  queueMetrics?: WorkqueueMetrics;
  controllerMetrics?: ControllerMetrics;
  /** Told when a Secret's data really changed: the reload controller (contracts.ts). */
  changes?: SecretChanges;
  /** `operator.resyncPeriod`: how often the informers replay their caches (0: never). */
  resyncIntervalMs?: number;
}

export function createVaultSecretController(opts: VaultSecretControllerOptions) {
  const vaultSecrets = new Informer<VaultSecret>({
    resource: vaultSecretResource,
    kubeConfig: opts.kubeConfig,
    namespaces: opts.namespaces,
    clock: opts.clock,
    logger: opts.logger,
    name: 'vaultsecrets',
    resyncIntervalMs: opts.resyncIntervalMs,
  });
  const secrets = new Informer<V1Secret>({
    resource: builtinResources.Secret,
    kubeConfig: opts.kubeConfig,
    namespaces: opts.namespaces,
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY},${VAULTSECRET_OWNER_LABEL}`,
    clock: opts.clock,
    logger: opts.logger,
    name: 'managed-secrets',
    resyncIntervalMs: opts.resyncIntervalMs,
    // Keeps who applied each Secret (managedFields): ownership is decided by it, not by labels.
    transform: keepWriters(VAULTSYNC_FIELD_MANAGERS),
  });
  // VaultSecrets whose next reconcile reads the backend even if their refresh is not due, and why.
  const refreshRequested = new Map<string, RefreshCause>();
  const failureHold = new FailureHold();
  // The Secrets and statuses this process just wrote: their echoes wake no reconcile
  // (kube/own-writes.ts); a write by anyone else still does.
  const ownWrites = new OwnWrites();
  const ownStatusWrites = new OwnWrites();
  const controller = new Controller({
    name: 'vaultsecret',
    workers: opts.workers,
    clock: opts.clock,
    logger: opts.logger,
    metrics: opts.controllerMetrics,
    // Backend outages back off per key, capped at 30 s so recovery is noticed quickly; the
    // circuit breaker keeps the backend from seeing more than its probes meanwhile.
    queue: new WorkQueue({
      clock: opts.clock,
      metrics: opts.queueMetrics,
      rateLimiter: new KeyedBackoff({ baseMs: 1000, capMs: 30_000 }),
    }),
    reconcile: createVaultSecretReconciler({
      client: opts.client,
      vaultSecrets,
      secrets,
      backends: opts.backends,
      events: opts.events,
      macKeys: opts.macKeys,
      clock: opts.clock,
      defaultRefreshIntervalMs: opts.defaultRefreshIntervalMs,
      ...(opts.changes && { changes: opts.changes }),
      takeRefreshRequest: (key) => {
        const cause = refreshRequested.get(key);
        refreshRequested.delete(key);
        return cause;
      },
      failureHold,
      ownWrites,
      ownStatusWrites,
    }),
  });
  // A replay (resync) wakes only a VaultSecret with nothing planned: one waiting for its refresh
  // or a retry keeps that time, so replays read no backend the schedule did not ask for.
  const replayed = (key: string) => controller.queue.addUnlessPending(key, { priority: 'low' });
  vaultSecrets.addHandlers(
    skippingEchoes(
      enqueueHandlers((key) => controller.enqueue(key), undefined, replayed),
      ownStatusWrites,
    ),
  );
  vaultSecrets.addHandlers({
    delete: (vs) => {
      const key = keyFor(vs.metadata?.namespace, vs.metadata?.name ?? '');
      refreshRequested.delete(key);
      failureHold.forget(key);
      controller.forgetKey(key);
    },
  });
  // A Secret event wakes its VaultSecret (named by our label): drift is repaired at once. The
  // echo of a write of its own reconcile does not.
  secrets.addHandlers(
    skippingEchoes(
      enqueueHandlers(
        (key) => controller.enqueue(key, { priority: 'high' }),
        (s) => [keyFor(s.metadata?.namespace, s.metadata?.labels?.[VAULTSECRET_OWNER_LABEL] ?? '')],
        replayed,
      ),
      ownWrites,
    ),
  );
  /**
   * Makes the VaultSecrets of a namespace that read backend/path at its latest version read it
   * now (a SecretRotation wrote a new version; `cause` is what their history records). Returns
   * their keys.
   */
  function requestRefresh(
    namespace: string,
    backend: string,
    path: string,
    cause: RefreshCause = 'Rotation',
  ): string[] {
    const keys: string[] = [];
    for (const vs of vaultSecrets.list(namespace)) {
      if (!readsLatest(vs, backend, path)) continue;
      const key = keyFor(vs.metadata?.namespace, vs.metadata?.name ?? '');
      refreshRequested.set(key, cause);
      controller.enqueue(key, { priority: 'high' });
      keys.push(key);
    }
    return keys;
  }
  // vaultSecrets and requestRefresh: what SecretRotation is given (VaultSecretReads, contracts.ts).
  return { controller, informers: [vaultSecrets, secrets] as const, vaultSecrets, requestRefresh };
}
