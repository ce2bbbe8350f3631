// The workload caches the reload controller reads: one informer per built-in kind (Deployments,
// StatefulSets, DaemonSets) and the Argo Rollout cache, whose informer exists only while the CRD
// is served (rollouts.ts). Reads only: what to do on an event is the controller's (index.ts).
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeClient } from '../../kube/client.ts';
import type { Clock } from '../../kube/clock.ts';
import { Informer } from '../../kube/informer.ts';
import type { InformerHandlers } from '../../kube/informer-handlers.ts';
import type { Logger } from '../../kube/logger.ts';
import { type ResourceType, builtinResources, keyFor } from '../../kube/resources.ts';
import { RolloutCache, discoverRollouts } from './rollouts.ts';
import { type ReloadableKind, WORKLOAD_KINDS } from '../shared/workloads.ts';
import type { RestartKind, Workload, WorkloadRef } from '../contracts.ts';
import { slimWorkload, workloadRefName } from './workloads.ts';

export interface WorkloadCacheOptions {
  kubeConfig: KubeConfig;
  /** Watch only these namespaces; empty or left out: all. */
  namespaces?: readonly string[];
  client: KubeClient;
  clock: Clock;
  logger: Logger;
  /** The controller's handlers of each kind's events. */
  handlersFor(kind: RestartKind): InformerHandlers<Workload>;
  rolloutDiscoveryIntervalMs?: number;
  resyncIntervalMs?: number;
}

/** A workload of a namespace as the caches show it. */
export interface CachedWorkload {
  ref: WorkloadRef;
  obj: Workload;
}

export class WorkloadCaches {
  readonly #informers: Record<ReloadableKind, Informer<Workload>>;
  readonly rollouts: RolloutCache;

  constructor(opts: WorkloadCacheOptions) {
    const informer = (resource: ResourceType, name: string) =>
      new Informer<Workload>({
        resource,
        kubeConfig: opts.kubeConfig,
        namespaces: opts.namespaces,
        clock: opts.clock,
        logger: opts.logger,
        name,
        transform: slimWorkload,
        resyncIntervalMs: opts.resyncIntervalMs,
      });
    this.#informers = Object.fromEntries(
      WORKLOAD_KINDS.map((kind) => [kind, informer(builtinResources[kind], `${kind.toLowerCase()}s`)]),
    ) as Record<ReloadableKind, Informer<Workload>>;
    this.rollouts = new RolloutCache({
      discover: () => discoverRollouts(opts.client.rest),
      createInformer: (resource) => informer(resource, 'rollouts'),
      handlers: opts.handlersFor('Rollout'),
      clock: opts.clock,
      logger: opts.logger,
      ...(opts.rolloutDiscoveryIntervalMs !== undefined && { recheckMs: opts.rolloutDiscoveryIntervalMs }),
    });
    for (const kind of WORKLOAD_KINDS) this.#informers[kind].addHandlers(opts.handlersFor(kind));
  }

  /**
   * Started and stopped by the operator, checked by /readyz. The Rollout cache is one of them:
   * it runs discovery, and its informer only while the CRD is served (else synced and healthy).
   */
  get informers() {
    return [...WORKLOAD_KINDS.map((k) => this.#informers[k]), this.rollouts];
  }

  get(ref: WorkloadRef): Workload | undefined {
    const key = keyFor(ref.namespace, ref.name);
    return ref.kind === 'Rollout' ? this.rollouts.get(key) : this.#informers[ref.kind].get(key);
  }

  /** Does the cache of this kind know every object (so a miss means there is none)? */
  settled(kind: RestartKind): boolean {
    return kind === 'Rollout' ? this.rollouts.settled() : this.#informers[kind].hasSynced();
  }

  /** Every workload cache knows all its objects (a workload missing from it does not exist). */
  allSettled(): boolean {
    return WORKLOAD_KINDS.every((k) => this.settled(k)) && this.settled('Rollout');
  }

  /** Workloads of a namespace, from the caches. */
  list(namespace: string): CachedWorkload[] {
    const of = (kind: RestartKind, objs: Workload[]) =>
      objs.map((obj) => ({ ref: { kind, namespace, name: obj.metadata?.name ?? '' }, obj }));
    return [
      ...WORKLOAD_KINDS.flatMap((kind) => of(kind, this.#informers[kind].list(namespace))),
      ...of(
        'Rollout',
        this.rollouts.list(namespace).map((r) => this.#withPodTemplate(r)),
      ),
    ];
  }

  /** Is the Argo Rollout kind served (its CRD installed)? Asks discovery again when not known to be. */
  async rolloutsServed(): Promise<boolean> {
    return this.rollouts.served() || (await this.rollouts.recheck());
  }

  /** A Rollout the cache does not follow yet (no events come for it): polled instead. */
  uncachedRollout(ref: WorkloadRef): boolean {
    return ref.kind === 'Rollout' && !this.rollouts.hasSynced();
  }

  /**
   * A Rollout with `spec.workloadRef` takes its pod template from that Deployment: the Secrets
   * its pods use are the Deployment's (from the Deployment cache; none while it is not there).
   */
  #withPodTemplate(r: Workload): Workload {
    const name = workloadRefName(r);
    if (name === undefined) return r;
    const d = this.#informers.Deployment.get(keyFor(r.metadata?.namespace, name));
    const template = { metadata: r.spec?.template?.metadata ?? {}, spec: d?.spec?.template?.spec };
    return { ...r, spec: { ...r.spec, template } };
  }
}
