// Test-only: the manual clock for unit tests of everything that takes a Clock. Never imported
// by production code (the build leaves it out with the other test helpers).
import type { Cancel, Clock } from './clock.ts';

interface FakeTimer {
  due: number;
  seq: number;
  fn: () => void;
}

/**
 * A manual clock for tests. `advance(ms)` fires due timers in order of due time (then creation
 * order), moving `now()` to each timer's due time before it runs.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: FakeTimer[] = [];

  constructor(start: number | Date = Date.UTC(2030, 0, 1)) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): Cancel {
    const timer: FakeTimer = { due: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Number of timers not yet fired or cancelled. */
  pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward synchronously, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (let t = this.#nextDue(target); t; t = this.#nextDue(target)) {
      this.#now = t.due;
      t.fn();
    }
    this.#now = target;
  }

  /**
   * Like `advance`, but lets promise chains settle after every timer, for code that awaits
   * between timers (a retry loop that sleeps, then awaits a request, then sleeps again).
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (let t = this.#nextDue(target); t; t = this.#nextDue(target)) {
      this.#now = t.due;
      t.fn();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  #nextDue(limit: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#timers) {
      if (t.due <= limit && (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq))) best = t;
    }
    if (best) this.#timers = this.#timers.filter((t) => t !== best);
    return best;
  }
}

/** Lets pending promise callbacks and I/O callbacks run (a few macrotask turns). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
