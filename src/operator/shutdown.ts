// A clean stop, in an order that matters: the controllers get a grace to finish their reconciles,
// then the fence closes (nothing is written after the grace), then the Lease is released, then
// everything that serves or feeds them closes, the health server and the audit log last.
import type { LeaderElectionConfig } from '../config/index.ts';
import { shutdownGraceMs } from '../kube/leader-election.ts';

interface Closable {
  close(): Promise<unknown>;
}

/** What the operator runs, as stop() needs it. */
export interface RunningParts {
  /** How long in-flight reconciles may finish (shutdownGrace); undefined: each controller's own. */
  graceMs: number | undefined;
  controllers: readonly { stop(graceMs?: number): Promise<void> }[];
  /** The leadership fence, if leader election is on. */
  fence: { lose(reason: string): void } | undefined;
  webhooks: Closable;
  /** Stops campaigning and releases the Lease. */
  leadership: { stop(): Promise<void> };
  informers: readonly { stop(): Promise<void> }[];
  backends: Closable;
  issuers: Closable;
  rsa: Closable;
  api: Closable | undefined;
  health: Closable | undefined;
  audit: Closable;
}

/**
 * The reconciles' grace: with leader election, below leaseDuration − renewDeadline, so they are
 * done before a standby may take the Lease; without it, the controllers' own default.
 */
export function shutdownGrace(election: LeaderElectionConfig): number | undefined {
  return election.enabled ? shutdownGraceMs(election.leaseDuration, election.renewDeadline) : undefined;
}

export async function stopInOrder(p: RunningParts): Promise<void> {
  await Promise.allSettled(p.controllers.map((c) => c.stop(p.graceMs)));
  // Nothing is written after the grace: a reconcile that ignored its signal is refused.
  p.fence?.lose('stopping');
  await p.webhooks.close();
  await p.leadership.stop();
  await Promise.allSettled(p.informers.map((i) => i.stop()));
  await p.backends.close();
  await p.issuers.close();
  await p.rsa.close();
  await p.api?.close();
  await p.health?.close();
  await p.audit.close();
}

/** Whether the operator is stopping (liveness and the stand-down ask), and stopping it once. */
export class Shutdown {
  #stopping = false;
  #parts: RunningParts | undefined;

  get stopping(): boolean {
    return this.#stopping;
  }

  /** What stop() stops: known once start-up has built it all. */
  arm(parts: RunningParts): void {
    this.#parts = parts;
  }

  /** Stops everything in order; a second call (or one during the first) returns at once. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#parts) await stopInOrder(this.#parts);
  }
}
