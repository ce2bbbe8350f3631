// Leadership (docs/architecture.md, "Fencing"): the fence the controllers' writes go through, the
// Lease elector, and what starting and ending leadership do. Informers run on every replica
// (standbys keep warm caches); only the leader's controllers work.
//
// Leadership over — stepped down, another holder seen, or the renew deadline passed on the fence's
// own clock (even when a late renewal then succeeded): in-flight reconciles are aborted at once
// (their writes are already refused) and the process exits for a fresh replica; it never keeps
// the Lease with its fence closed.
import type { LeaderElectionConfig } from '../config/index.ts';
import type { KubeClient } from '../kube/client.ts';
import type { Clock } from '../kube/clock.ts';
import type { Controller } from '../kube/controller.ts';
import { LeadershipFence, type WriteFence, openFence } from '../kube/fence.ts';
import { LeaderElector } from '../kube/leader-election.ts';
import type { Logger } from '../kube/logger.ts';
import type { OperatorMetrics } from '../observability/metrics.ts';

export interface Fences {
  /** Held only while this process holds the Lease it last renewed within renewDeadline. */
  leadership: LeadershipFence | undefined;
  /** What the writes check: the leadership fence, or one always open without leader election. */
  fence: WriteFence;
}

export function createFences(election: LeaderElectionConfig): Fences {
  const leadership = election.enabled
    ? new LeadershipFence({ renewDeadlineMs: election.renewDeadline })
    : undefined;
  return { leadership, fence: leadership ?? openFence };
}

export interface LeadershipOptions {
  election: LeaderElectionConfig;
  /** The Lease's namespace: the operator's. */
  namespace: string;
  identity: string;
  /** Unfenced: the elector writes the Lease itself. */
  client: KubeClient;
  fences: Fences;
  controllers: readonly Pick<Controller, 'start' | 'abort'>[];
  /**
   * Every informer cache the controllers read: their workers start once all have synced (as
   * client-go's WaitForCacheSync), so no reconcile takes an unsynced cache's miss for a missing
   * object (a Secret not listed yet is not a Secret to create).
   */
  caches: readonly { waitForSync(): Promise<void> }[];
  /** Run when leading begins, after the controllers started. */
  onStartedLeading: () => void;
  metrics: Pick<OperatorMetrics, 'setLeader'>;
  clock: Clock;
  logger: Logger;
  /** True once the operator is stopping: leadership ending then is expected. */
  stopping: () => boolean;
  /** Stops the operator (when standing down). */
  stop: () => Promise<void>;
  /** Ends the process once stopped after standing down; default process.exit (tests replace it). */
  exit?: (code: number) => void;
}

export class Leadership {
  /** Undefined when leader election is disabled: this replica leads at once. */
  readonly elector: LeaderElector | undefined;
  readonly #o: LeadershipOptions;
  #standingDown = false;

  constructor(o: LeadershipOptions) {
    this.#o = o;
    const { election: le, fences } = o;
    fences.fence.signal.addEventListener('abort', () => this.#standDown());
    this.elector = le.enabled
      ? new LeaderElector({
          client: o.client,
          identity: o.identity,
          leaseName: le.leaseName,
          leaseNamespace: o.namespace,
          leaseDurationMs: le.leaseDuration,
          renewDeadlineMs: le.renewDeadline,
          retryPeriodMs: le.retryPeriod,
          fence: fences.leadership,
          clock: o.clock,
          logger: o.logger,
          onStartedLeading: () => this.#startLeading(),
          onStoppedLeading: () => this.#standDown(),
        })
      : undefined;
  }

  /** Campaigns for the Lease, or (leader election disabled) leads at once. */
  start(): void {
    if (this.elector) this.elector.start();
    else this.#startLeading();
  }

  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : true;
  }

  /** Stops campaigning; if leading, steps down and releases the Lease. */
  async stop(): Promise<void> {
    await this.elector?.stop();
  }

  #startLeading(): void {
    const { metrics, logger, identity, controllers, caches } = this.#o;
    metrics.setLeader(true);
    logger.info('Started leading', { identity });
    void Promise.all(caches.map((c) => c.waitForSync())).then(() => {
      if (this.#standingDown || this.#o.stopping()) return;
      for (const c of controllers) c.start();
      this.#o.onStartedLeading();
    });
  }

  #standDown(): void {
    const { metrics, logger, identity, controllers, fences } = this.#o;
    for (const c of controllers) c.abort(fences.fence.signal.reason);
    metrics.setLeader(false);
    if (this.#o.stopping() || this.#standingDown) return;
    this.#standingDown = true;
    logger.error('Lost leadership; exiting so a fresh replica can stand by', {
      identity,
      reason: (fences.fence.signal.reason as Error | undefined)?.message,
    });
    process.exitCode = 1;
    // No second campaign from this process (its fence stays lost): a fresh one will.
    void this.elector?.stop();
    const exit = this.#o.exit ?? ((code: number) => process.exit(code));
    void this.#o.stop().finally(() => exit(1));
  }
}
