// Wires the VaultCertificate controller: an informer on VaultCertificates, a label-filtered
// informer on the Secrets it wrote (edits and deletions are repaired at once), the workers,
// and the samples the scrape-time certificate gauges read.
import {
  VAULTCERTIFICATE_OWNER_LABEL,
  API_VERSION,
  UserAnnotation,
  VAULTSYNC_FIELD_MANAGERS,
  type VaultCertificate,
  MANAGED_BY,
  MANAGED_BY_LABEL,
} from '../../apis/v1alpha1/index.ts';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { IssuerRegistry } from '../../issuers/index.ts';
import { KeyedBackoff } from '../../kube/backoff.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { Clock } from '../../kube/clock.ts';
import { isTrue } from '../../kube/conditions.ts';
import { Controller } from '../../kube/controller.ts';
import { Informer } from '../../kube/informer.ts';
import { enqueueHandlers, isReplay } from '../../kube/informer-handlers.ts';
import { keepWriters } from '../../kube/managed-fields.ts';
import { OwnWrites, skippingEchoes } from '../../kube/own-writes.ts';
import type { Logger } from '../../kube/logger.ts';
import type { ControllerMetrics, WorkqueueMetrics } from '../../kube/metrics.ts';
import { builtinResources, keyFor, keyOf } from '../../kube/resources.ts';
import { WorkQueue } from '../../kube/workqueue.ts';
import type { RsaKeyGenerator } from '../../pki/index.ts';
import type { MacKeyring } from '../../secrets/mac-keyring.ts';
import type { CertificateMetricsSink, EventSink, RestartSink } from './context.ts';
import { createVaultCertificateReconciler } from './reconciler.ts';

export const vaultCertificateResource = {
  apiVersion: API_VERSION,
  kind: 'VaultCertificate',
  plural: 'vaultcertificates',
  namespaced: true,
} as const;

export interface VaultCertificateControllerOptions {
  kubeConfig: KubeConfig;
  /** Watch only these namespaces (`operator.watchNamespaces`); empty or left out: all. */
  namespaces?: readonly string[];
  client: KubeClient;
  issuers: Pick<IssuerRegistry, 'get'>;
  events: EventSink;
  /** Keys of the MACs written to status (bound to namespace, object and use). */
  macKeys: MacKeyring;
  clock: Clock;
  logger: Logger;
  workers: number;
  rsa: RsaKeyGenerator;
  queueMetrics?: WorkqueueMetrics;
  controllerMetrics?: ControllerMetrics;
  certificateMetrics?: CertificateMetricsSink;
  /** Restarts rolloutRestartTargets when a certificate is replaced. */
  restarts?: RestartSink;
  /** `operator.resyncPeriod`: how often the informers replay their caches (0: never). */
  resyncIntervalMs?: number;
}

/** One certificate as the gauges see it at scrape time (from the informer cache). */
export interface CertificateSample {
  namespace: string;
  name: string;
  issuer: string;
  ready: boolean | undefined;
  notBefore?: string;
  notAfter?: string;
  renewalTime?: string;
}

/** Only these changes of a VaultCertificate need a reconcile; our own status writes do not. */
function worthReconciling(old: VaultCertificate, cur: VaultCertificate): boolean {
  const a = old.metadata ?? {};
  const b = cur.metadata ?? {};
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    (a.finalizers ?? []).join() !== (b.finalizers ?? []).join() ||
    a.uid !== b.uid ||
    a.annotations?.[UserAnnotation.RenewNow] !== b.annotations?.[UserAnnotation.RenewNow]
  );
}

export function createVaultCertificateController(opts: VaultCertificateControllerOptions) {
  const certificates = new Informer<VaultCertificate>({
    resource: vaultCertificateResource,
    kubeConfig: opts.kubeConfig,
    namespaces: opts.namespaces,
    clock: opts.clock,
    logger: opts.logger,
    name: 'vaultcertificates',
    resyncIntervalMs: opts.resyncIntervalMs,
  });
  const secrets = new Informer<V1Secret>({
    resource: builtinResources.Secret,
    kubeConfig: opts.kubeConfig,
    namespaces: opts.namespaces,
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY},${VAULTCERTIFICATE_OWNER_LABEL}`,
    clock: opts.clock,
    logger: opts.logger,
    name: 'certificate-secrets',
    resyncIntervalMs: opts.resyncIntervalMs,
    // Keeps who applied each Secret (managedFields): ownership is decided by it, not by labels.
    transform: keepWriters(VAULTSYNC_FIELD_MANAGERS),
  });
  // The Secrets this process just wrote: their echoes wake no reconcile (kube/own-writes.ts);
  // a write by anyone else, a deletion or a resync replay still does.
  const ownWrites = new OwnWrites();
  const reconcile = createVaultCertificateReconciler({
    client: opts.client,
    certificates,
    secrets,
    issuers: opts.issuers,
    events: opts.events,
    macKeys: opts.macKeys,
    clock: opts.clock,
    rsa: opts.rsa,
    ...(opts.certificateMetrics ? { metrics: opts.certificateMetrics } : {}),
    ...(opts.restarts ? { restarts: opts.restarts } : {}),
    ownWrites,
  });
  const controller = new Controller({
    name: 'vaultcertificate',
    workers: opts.workers,
    clock: opts.clock,
    logger: opts.logger,
    metrics: opts.controllerMetrics,
    // Issuance failures back off in the reconciler (state in status); this backoff is for
    // errors it does not classify (apiserver trouble while writing), capped at 5 minutes.
    queue: new WorkQueue({
      clock: opts.clock,
      metrics: opts.queueMetrics,
      rateLimiter: new KeyedBackoff({ baseMs: 1000, capMs: 5 * 60_000 }),
    }),
    reconcile,
  });
  const enqueue = (key: string) => controller.enqueue(key);
  // A replay (resync) wakes only a certificate with nothing planned (its renewal or a retry
  // keeps its time); the reconcile then checks the Secret against the caches, issuing nothing
  // that is not due.
  const replayed = (key: string) => controller.queue.addUnlessPending(key, { priority: 'low' });
  certificates.addHandlers({
    add: (vc) => enqueue(keyOf(vc)),
    update: (old, vc) => {
      if (isReplay(old, vc)) replayed(keyOf(vc));
      else if (worthReconciling(old, vc)) enqueue(keyOf(vc));
    },
    delete: (vc) => {
      const key = keyOf(vc);
      reconcile.forget(key);
      controller.forgetKey(key);
    },
  });
  // A Secret event wakes its VaultCertificate (named by our label): drift is repaired at once.
  // The echo of a write of its own reconcile does not.
  secrets.addHandlers(
    skippingEchoes(
      enqueueHandlers(
        (key) => controller.enqueue(key, { priority: 'high' }),
        (s) => [keyFor(s.metadata?.namespace, s.metadata?.labels?.[VAULTCERTIFICATE_OWNER_LABEL] ?? '')],
        replayed,
      ),
      ownWrites,
    ),
  );

  function* samples(): Generator<CertificateSample> {
    for (const vc of certificates.list()) {
      const ready = vc.status?.conditions?.find((c) => c.type === 'Ready');
      yield {
        namespace: vc.metadata?.namespace ?? '',
        name: vc.metadata?.name ?? '',
        issuer: vc.spec?.issuer?.backend ?? '',
        ready: ready && ready.status !== 'Unknown' ? isTrue(vc.status?.conditions, 'Ready') : undefined,
        ...(vc.status?.notBefore ? { notBefore: vc.status.notBefore } : {}),
        ...(vc.status?.notAfter ? { notAfter: vc.status.notAfter } : {}),
        ...(vc.status?.renewalTime ? { renewalTime: vc.status.renewalTime } : {}),
      };
    }
  }

  return { controller, informers: [certificates, secrets] as const, certificates, samples };
}
