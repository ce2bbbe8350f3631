// Lease-based leader election (coordination.k8s.io/v1), after client-go's leaderelection:
// - a candidate takes the Lease when it does not exist, is released (no holder) or expired;
// - expiry is judged by when WE last saw the record change (local clock) plus the holder's
//   leaseDurationSeconds, never by comparing the holder's timestamps with our clock (skew);
// - every write carries the resourceVersion it read; a 409 means someone else won: try later;
// - the leader renews every retryPeriod and steps down if it could not renew within
//   renewDeadline (< leaseDuration, so it stops before anyone else may take over);
// - on stop it can release the Lease (empty holder) so a standby takes over at once;
// - it keeps a LeadershipFence (fence.ts) up to date: renewed with the start of every successful
//   attempt, lost on step-down, on seeing another holder and on stop (before the release).
// Only who writes is decided here; standbys keep informers and queues warm.
import type { Random } from './backoff.ts';
import { type Clock, sleep, systemClock } from './clock.ts';
import type { KubeClient } from './client.ts';
import { isNotFound, toKubeError } from './errors.ts';
import { type Logger, noopLogger, safeLog } from './logger.ts';
import { builtinResources, collectionPath, objectPath } from './resources.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  client: KubeClient;
  /** Unique per replica (pod name); it is what `kubectl get lease` shows. */
  identity: string;
  leaseName: string;
  leaseNamespace: string;
  /** How long a Lease stays valid without renewal; default 15 s. */
  leaseDurationMs?: number;
  /** The leader steps down if it could not renew for this long; default 10 s. */
  renewDeadlineMs?: number;
  /** Interval between attempts; default 2 s. */
  retryPeriodMs?: number;
  /** Release the Lease on stop() so a standby takes over at once; default true. */
  releaseOnStop?: boolean;
  onStartedLeading?: () => unknown;
  onStoppedLeading?: () => unknown;
  /** Called when the observed holder changes (including to us). */
  onNewLeader?: (identity: string) => unknown;
  /** Told of every renewal and of the end of leadership; every controller write checks it. */
  fence?: ElectionFence;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
}

/** What the elector tells the fence (LeadershipFence in fence.ts), in the fence's own clock. */
export interface ElectionFence {
  now(): number;
  renewed(attemptStartedAt: number): void;
  lose(reason: string): void;
}

export type LeaseAction = 'create' | 'renew' | 'acquire' | 'wait';

/**
 * What a candidate should do with the Lease as read. `observedAt` is when we first saw this
 * exact record; the holder's lease runs until observedAt + its leaseDurationSeconds.
 */
export function leaseAction(
  spec: LeaseSpec | undefined,
  identity: string,
  observedAt: number,
  now: number,
): LeaseAction {
  if (!spec) return 'create';
  if (spec.holderIdentity === identity) return 'renew';
  if (!spec.holderIdentity) return 'acquire';
  const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
  return observedAt + durationMs <= now ? 'acquire' : 'wait';
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/** The spec to write for `action` ('create' | 'renew' | 'acquire'). */
export function nextLeaseSpec(
  action: Exclude<LeaseAction, 'wait'>,
  old: LeaseSpec | undefined,
  identity: string,
  leaseDurationMs: number,
  now: number,
): LeaseSpec {
  const time = microTime(now);
  const renewing = action === 'renew';
  return {
    holderIdentity: identity,
    leaseDurationSeconds: Math.max(1, Math.ceil(leaseDurationMs / 1000)),
    acquireTime: renewing ? (old?.acquireTime ?? time) : time,
    renewTime: time,
    leaseTransitions: (old?.leaseTransitions ?? 0) + (action === 'acquire' ? 1 : 0),
  };
}

/**
 * How long a stopping leader lets in-flight reconciles finish: half of leaseDuration −
 * renewDeadline, so a leader that stops because it could not renew is done well before a
 * standby may take the Lease (the fence refuses its writes after renewDeadline anyway).
 */
export function shutdownGraceMs(leaseDurationMs: number, renewDeadlineMs: number): number {
  return Math.max(0, Math.floor((leaseDurationMs - renewDeadlineMs) / 2));
}

export class LeaderElector {
  readonly identity: string;
  readonly #client: KubeClient;
  readonly #name: string;
  readonly #namespace: string;
  readonly #leaseMs: number;
  readonly #deadlineMs: number;
  readonly #retryMs: number;
  readonly #release: boolean;
  readonly #opts: LeaderElectionOptions;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #leading = false;
  #observed: { lease: Lease; key: string; at: number } | undefined;
  #holder: string | undefined;

  constructor(opts: LeaderElectionOptions) {
    this.identity = opts.identity;
    this.#client = opts.client;
    this.#name = opts.leaseName;
    this.#namespace = opts.leaseNamespace;
    this.#leaseMs = opts.leaseDurationMs ?? 15_000;
    this.#deadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.#retryMs = opts.retryPeriodMs ?? 2_000;
    this.#release = opts.releaseOnStop ?? true;
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#log = (opts.logger ?? noopLogger).child({
      lease: `${this.#namespace}/${this.#name}`,
      identity: this.identity,
    });
    if (!opts.identity) throw new Error('leader election needs an identity');
    if (!(this.#leaseMs > this.#deadlineMs))
      throw new Error('leaseDuration must be greater than renewDeadline');
    if (!(this.#deadlineMs > this.#retryMs * 1.2))
      throw new Error('renewDeadline must exceed 1.2 × retryPeriod');
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** The holder we last observed (may be stale by up to one retry period); undefined if none. */
  leader(): string | undefined {
    return this.#holder || undefined;
  }

  start(): void {
    if (this.#loop || this.#stop.signal.aborted) return;
    this.#loop = this.#run().catch((err: unknown) => {
      safeLog(this.#log, 'error', 'Leader election loop crashed', { error: toKubeError(err).message });
      this.#setLeading(false);
    });
  }

  /** Stops campaigning; if leading, steps down (and releases the Lease if configured). */
  async stop(): Promise<void> {
    this.#opts.fence?.lose('stopping');
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const stopped = this.#stop.signal;
    while (!stopped.aborted) {
      if (!(await this.#acquire())) break;
      this.#setLeading(true);
      await this.#renewUntilLost();
      if (stopped.aborted) break;
      this.#setLeading(false);
    }
    if (this.#leading) {
      // Writes end before the Lease is handed over.
      this.#opts.fence?.lose('stopping');
      if (this.#release) await this.#releaseLease();
      this.#setLeading(false);
    }
  }

  /** Tries every retry period (jittered) until we hold the Lease; false if stopped first. */
  async #acquire(): Promise<boolean> {
    while (!this.#stop.signal.aborted) {
      if (await this.#tryAcquireOrRenew(this.#deadlineMs)) return true;
      await sleep(this.#clock, this.#retryMs * (1 + 0.2 * this.#random()), this.#stop.signal);
    }
    return false;
  }

  /** Renews every retry period; returns when a renewal deadline passes or on stop. */
  async #renewUntilLost(): Promise<void> {
    let lastRenew = this.#clock.now();
    while (!this.#stop.signal.aborted) {
      await sleep(this.#clock, this.#retryMs, this.#stop.signal);
      if (this.#stop.signal.aborted) return;
      const attemptAt = this.#clock.now();
      const remaining = lastRenew + this.#deadlineMs - attemptAt;
      if (remaining > 0 && (await this.#tryAcquireOrRenew(remaining))) {
        // Count from when the attempt began: the Lease is valid from no later than that.
        lastRenew = attemptAt;
        continue;
      }
      const holder = this.#observed?.lease.spec?.holderIdentity;
      if (holder && holder !== this.identity) {
        safeLog(this.#log, 'warn', 'Lease taken by another holder; stepping down', { leader: holder });
        return;
      }
      if (this.#clock.now() - lastRenew >= this.#deadlineMs) {
        safeLog(this.#log, 'warn', 'Failed to renew Lease in time; stepping down', {
          renewDeadlineMs: this.#deadlineMs,
        });
        return;
      }
    }
  }

  async #tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const now = this.#clock.now();
    const fenceAt = this.#opts.fence?.now();
    try {
      const lease = await this.#get(timeoutMs);
      if (lease) this.#observe(lease, now);
      const action = leaseAction(lease?.spec, this.identity, this.#observed?.at ?? now, now);
      if (action === 'wait') return false;
      const spec = nextLeaseSpec(action, lease?.spec, this.identity, this.#leaseMs, now);
      const written =
        action === 'create'
          ? await this.#create(spec, timeoutMs)
          : await this.#update(lease!, spec, timeoutMs);
      this.#observe(written, now);
      if (fenceAt !== undefined) this.#opts.fence?.renewed(fenceAt);
      return true;
    } catch (err) {
      const e = toKubeError(err);
      // Conflict / AlreadyExists: another candidate wrote first. Anything else: try again later.
      const level = e.code === 'Conflict' || e.code === 'AlreadyExists' ? 'debug' : 'warn';
      safeLog(this.#log, level, 'Failed to acquire or renew Lease', { error: e.message, code: e.code });
      return false;
    }
  }

  async #releaseLease(): Promise<void> {
    const lease = this.#observed?.lease;
    if (!lease || lease.spec?.holderIdentity !== this.identity) return;
    const now = this.#clock.now();
    try {
      await this.#update(
        lease,
        {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: lease.spec?.leaseTransitions ?? 0,
        },
        this.#deadlineMs,
      );
      safeLog(this.#log, 'info', 'Released Lease');
    } catch (err) {
      // The Lease simply expires instead; a standby waits leaseDuration.
      safeLog(this.#log, 'warn', 'Failed to release Lease', { error: toKubeError(err).message });
    }
  }

  #observe(lease: Lease, now: number): void {
    const key = JSON.stringify(lease.spec ?? {});
    if (this.#observed?.key !== key) this.#observed = { lease, key, at: now };
    else this.#observed.lease = lease;
    const holder = lease.spec?.holderIdentity ?? '';
    if (this.#leading && holder !== this.identity)
      this.#opts.fence?.lose(`the Lease is held by ${holder || 'no one'}`);
    if (holder === this.#holder) return;
    this.#holder = holder;
    if (holder) {
      safeLog(this.#log, 'info', 'Observed new leader', { leader: holder });
      this.#callback(this.#opts.onNewLeader, holder);
    }
  }

  #setLeading(leading: boolean): void {
    if (this.#leading === leading) return;
    this.#leading = leading;
    if (!leading) this.#opts.fence?.lose('stepped down');
    safeLog(this.#log, 'info', leading ? 'Started leading' : 'Stopped leading');
    this.#callback(leading ? this.#opts.onStartedLeading : this.#opts.onStoppedLeading);
  }

  #callback(fn: ((arg: string) => unknown) | (() => unknown) | undefined, arg = ''): void {
    try {
      const out = (fn as ((arg: string) => unknown) | undefined)?.(arg);
      if (out && typeof (out as Promise<unknown>).then === 'function') {
        (out as Promise<unknown>).then(undefined, (err: unknown) =>
          safeLog(this.#log, 'error', 'Leader election callback failed', { error: toKubeError(err).message }),
        );
      }
    } catch (err) {
      safeLog(this.#log, 'error', 'Leader election callback failed', { error: toKubeError(err).message });
    }
  }

  async #get(timeoutMs: number): Promise<Lease | undefined> {
    try {
      return await this.#client.rest.request<Lease>({
        method: 'GET',
        path: objectPath(builtinResources.Lease, this.#name, this.#namespace),
        timeoutMs,
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  #create(spec: LeaseSpec, timeoutMs: number): Promise<Lease> {
    return this.#client.rest.request<Lease>({
      method: 'POST',
      path: collectionPath(builtinResources.Lease, this.#namespace),
      body: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.#name, namespace: this.#namespace },
        spec,
      },
      timeoutMs,
    });
  }

  #update(lease: Lease, spec: LeaseSpec, timeoutMs: number): Promise<Lease> {
    return this.#client.rest.request<Lease>({
      method: 'PUT',
      path: objectPath(builtinResources.Lease, this.#name, this.#namespace),
      body: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: this.#name,
          namespace: this.#namespace,
          resourceVersion: lease.metadata?.resourceVersion,
        },
        spec,
      },
      timeoutMs,
    });
  }
}
