// What to do with an Event before it is sent, after client-go's EventCorrelator. Pure (the time
// is passed in). Identical events (object, type, reason, message):
//   - within the dedup window of the last one sent: dropped (a hot retry loop sends nothing);
//   - later, while remembered: the Event already written gets count+1 and a new lastTimestamp
//     (one PATCH) instead of a new Event.
// Rate limits, each a token bucket:
//   - per object (client-go's spam filter: 25 at once, then one per 5 minutes), every type;
//   - Normal events of one reason across objects (25 at once, then 5 a second): a burst of
//     first syncs — a thousand resources applied at once — is not a thousand Event writes. The
//     same news is in each resource's status and lifecycle facts; Warnings are never limited here.
import { LRUCache } from 'lru-cache';
import type { EventType } from './events.ts';

export interface CorrelatorOptions {
  /** Identical events inside this window are dropped; default 60 s. */
  readonly dedupWindowMs?: number;
  /** After it, identical events bump the Event written for as long as this; default 30 min. */
  readonly aggregateWindowMs?: number;
  /** Bound on remembered events and buckets; default 4096. */
  readonly maxTracked?: number;
  readonly perObject?: BucketRule;
  readonly normalPerReason?: BucketRule;
}

export interface BucketRule {
  readonly burst: number;
  /** One token comes back every this many ms. */
  readonly refillMs: number;
}

const PER_OBJECT: BucketRule = { burst: 25, refillMs: 5 * 60_000 };
const NORMAL_PER_REASON: BucketRule = { burst: 25, refillMs: 200 };

export interface EventKey {
  /** The involved object (uid, or kind/namespace/name). */
  readonly object: string;
  readonly type: EventType;
  readonly reason: string;
  /** After sanitising and capping: what is written. */
  readonly message: string;
}

/** An Event written, as the correlator remembers it. */
export interface Written {
  readonly name: string;
  readonly namespace: string;
  readonly count: number;
  readonly firstTimestamp: string;
  readonly sentAt: number;
}

export type Decision =
  | { readonly action: 'drop'; readonly why: 'duplicate' | 'object rate limit' | 'burst of similar events' }
  | { readonly action: 'create' }
  | { readonly action: 'patch'; readonly written: Written };

/** Tokens per key, refilled with time; bounded (the least recently used key is forgotten: full again). */
class TokenBuckets {
  readonly #rule: BucketRule;
  readonly #buckets: LRUCache<string, { tokens: number; at: number }>;

  constructor(rule: BucketRule, max: number) {
    this.#rule = rule;
    this.#buckets = new LRUCache({ max });
  }

  /** Takes a token for `key` if one is left. */
  take(key: string, now: number): boolean {
    const { burst, refillMs } = this.#rule;
    const b = this.#buckets.get(key) ?? { tokens: burst, at: now };
    const tokens = Math.min(burst, b.tokens + Math.max(0, now - b.at) / refillMs);
    const ok = tokens >= 1;
    this.#buckets.set(key, { tokens: ok ? tokens - 1 : tokens, at: now });
    return ok;
  }
}

export class EventCorrelator {
  readonly #dedupMs: number;
  readonly #aggregateMs: number;
  readonly #written: LRUCache<string, Written>;
  readonly #perObject: TokenBuckets;
  readonly #normal: TokenBuckets;

  constructor(opts: CorrelatorOptions = {}) {
    const max = opts.maxTracked ?? 4096;
    this.#dedupMs = opts.dedupWindowMs ?? 60_000;
    this.#aggregateMs = Math.max(opts.aggregateWindowMs ?? 30 * 60_000, this.#dedupMs);
    this.#written = new LRUCache({ max });
    this.#perObject = new TokenBuckets(opts.perObject ?? PER_OBJECT, max);
    this.#normal = new TokenBuckets(opts.normalPerReason ?? NORMAL_PER_REASON, max);
  }

  decide(key: EventKey, now: number): Decision {
    const id = idOf(key);
    const written = this.#written.get(id);
    if (written && now - written.sentAt < this.#dedupMs) return { action: 'drop', why: 'duplicate' };
    if (!this.#perObject.take(key.object, now)) return { action: 'drop', why: 'object rate limit' };
    if (written && now - written.sentAt < this.#aggregateMs) return { action: 'patch', written };
    if (key.type === 'Normal' && !this.#normal.take(key.reason, now))
      return { action: 'drop', why: 'burst of similar events' };
    return { action: 'create' };
  }

  /** The Event was written (created, or its count bumped). */
  recorded(key: EventKey, written: Written): void {
    this.#written.set(idOf(key), written);
  }

  /** The write failed or the Event is gone: the next identical one is created anew. */
  forget(key: EventKey): void {
    this.#written.delete(idOf(key));
  }
}

const idOf = (key: EventKey): string => JSON.stringify([key.object, key.type, key.reason, key.message]);
