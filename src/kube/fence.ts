// The leadership fence: the one question every write of the controllers asks right before it is
// sent — "do I still hold the Lease I last renewed, and is that renewal recent enough?"
//
// Held from the moment the elector acquires the Lease until it loses it, steps down, or simply
// fails to renew within renewDeadline. Time is measured on a monotonic clock
// (performance.now()): it keeps running while the process is frozen (SIGSTOP, a paused VM), so
// a process resumed after its lease ran out finds the fence expired at its very first write,
// before any of its own timers had a chance to run. Once lost, a fence stays lost: the process
// stands down and a fresh one campaigns again.
//
// What it cannot stop: a request already on the wire when the process froze. Server-side, only
// the Lease's own resourceVersion protects the Lease; other objects have no fencing token.

/** What a write path needs: a check right before sending, and a signal for what is in flight. */
export interface WriteFence {
  /** Throws NotLeaderError unless this process may write now. */
  assertHeld(): void;
  /** Aborted the moment leadership is lost or the renew deadline passes without renewal. */
  readonly signal: AbortSignal;
}

/** A refused write: this process is not (or no longer) the leader. Never retried. */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeader';
  /** The controllers do not retry it (see kube/controller.ts). */
  readonly terminal = true;
  readonly reason = 'NotLeader';

  constructor(message: string) {
    super(message);
  }
}

export function isNotLeader(err: unknown): err is NotLeaderError {
  return err instanceof NotLeaderError;
}

/** A fence that is always held: for an operator running without leader election. */
export const openFence: WriteFence = {
  assertHeld() {},
  signal: new AbortController().signal,
};

export interface LeadershipFenceOptions {
  /** Writes are refused once this long has passed since the last renewal began. */
  renewDeadlineMs: number;
  /** Monotonic milliseconds; default performance.now(). */
  now?: () => number;
  /** Runs fn after ms (the deadline timer); default an unref'd setTimeout. */
  after?: (ms: number, fn: () => void) => () => void;
}

function realTimer(ms: number, fn: () => void): () => void {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
}

export class LeadershipFence implements WriteFence {
  readonly #deadlineMs: number;
  readonly #now: () => number;
  readonly #after: (ms: number, fn: () => void) => () => void;
  readonly #abort = new AbortController();
  /** When the last successful acquire/renew attempt began; undefined: never held. */
  #renewedAt: number | undefined;
  #lostReason: string | undefined;
  #cancelTimer: () => void = () => {};

  constructor(opts: LeadershipFenceOptions) {
    if (!(opts.renewDeadlineMs > 0)) throw new Error('the fence needs a positive renewDeadline');
    this.#deadlineMs = opts.renewDeadlineMs;
    this.#now = opts.now ?? (() => performance.now());
    this.#after = opts.after ?? realTimer;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** The fence's clock, read by the elector before each attempt (passed back to renewed()). */
  now(): number {
    return this.#now();
  }

  /**
   * The Lease was written with us as holder by an attempt that began at `attemptStartedAt`
   * (from now()): the lease is valid from no later than that, so the deadline counts from it.
   * Ignored once lost.
   */
  renewed(attemptStartedAt: number): void {
    if (this.#lostReason !== undefined) return;
    if (this.#renewedAt !== undefined && attemptStartedAt <= this.#renewedAt) return;
    this.#renewedAt = attemptStartedAt;
    this.#arm();
  }

  /** Leadership is over (stepped down, another holder seen, stopping). Idempotent. */
  lose(reason: string): void {
    if (this.#lostReason !== undefined) return;
    this.#lostReason = reason;
    this.#cancelTimer();
    this.#abort.abort(new NotLeaderError(`not the leader: ${reason}`));
  }

  /** True while leading and within the renew deadline; checks the clock each time. */
  held(): boolean {
    this.#check();
    return this.#lostReason === undefined && this.#renewedAt !== undefined;
  }

  assertHeld(): void {
    if (this.held()) return;
    throw new NotLeaderError(
      `refusing to write: not the leader (${this.#lostReason ?? 'leadership not acquired'})`,
    );
  }

  /** (Re)arms the deadline timer; a timer that fires a little early re-arms for the rest. */
  #arm(): void {
    this.#cancelTimer();
    this.#check();
    if (this.#lostReason !== undefined || this.#renewedAt === undefined) return;
    const left = this.#renewedAt + this.#deadlineMs - this.#now();
    this.#cancelTimer = this.#after(Math.max(1, Math.ceil(left)), () => this.#arm());
  }

  /** Loses the fence if the deadline has passed (timer, and every check after a pause). */
  #check(): void {
    if (this.#lostReason !== undefined || this.#renewedAt === undefined) return;
    const since = this.#now() - this.#renewedAt;
    if (since >= this.#deadlineMs)
      this.lose(`no Lease renewal for ${Math.round(since)} ms (renewDeadline ${this.#deadlineMs} ms)`);
  }
}
