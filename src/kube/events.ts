// Kubernetes Events (core/v1) about our objects, for `kubectl describe`.
//
// Callers emit only when something changed (principle: no events for no-ops); the recorder
// adds a second guard: an identical (object, type, reason, message) within a short window is
// dropped, so a hot retry loop cannot flood the API server. Messages pass through a sanitiser
// hook (secret values must never reach an event) and are capped. Recording never throws:
// a failed event is logged and forgotten.
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { type Clock, systemClock } from './clock.ts';
import type { KubeClient } from './client.ts';
import { capMessage, toKubeError } from './errors.ts';
import { isNotLeader } from './fence.ts';
import { type Logger, noopLogger, safeLog } from './logger.ts';
import { builtinResources, collectionPath } from './resources.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  client: KubeClient;
  /** reportingComponent and source.component; default "vaultsync". */
  component?: string;
  /** reportingInstance: who emitted it (pod name). */
  instance: string;
  /** source.host (node name), if known. */
  host?: string;
  /** Applied to every message before it leaves the process. */
  sanitize?: (message: string) => string;
  /** Identical events inside this window are dropped; default 60 s. */
  dedupWindowMs?: number;
  /** Bound on remembered events for deduplication; default 4096. */
  maxTracked?: number;
  clock?: Clock;
  logger?: Logger;
}

/** API server limits (validation.NoteLengthLimit and ReasonLengthLimit). */
const MAX_MESSAGE = 1024;
const MAX_REASON = 128;

export class EventRecorder {
  readonly #client: KubeClient;
  readonly #component: string;
  readonly #instance: string;
  readonly #host: string | undefined;
  readonly #sanitize: (message: string) => string;
  readonly #windowMs: number;
  readonly #maxTracked: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  // Insertion-ordered: the oldest entries are first, so pruning stops at the first young one.
  readonly #recent = new Map<string, number>();

  constructor(opts: EventRecorderOptions) {
    this.#client = opts.client;
    this.#component = opts.component ?? 'vaultsync';
    this.#instance = opts.instance;
    this.#host = opts.host;
    this.#sanitize = opts.sanitize ?? ((m) => m);
    this.#windowMs = opts.dedupWindowMs ?? 60_000;
    this.#maxTracked = opts.maxTracked ?? 4096;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? noopLogger;
  }

  normal(obj: KubernetesObject, reason: string, message: string): Promise<void> {
    return this.event(obj, 'Normal', reason, message);
  }

  warning(obj: KubernetesObject, reason: string, message: string): Promise<void> {
    return this.event(obj, 'Warning', reason, message);
  }

  /** Records an event; resolves once written, dropped or failed. Never rejects. */
  async event(obj: KubernetesObject, type: EventType, reason: string, message: string): Promise<void> {
    const meta = obj.metadata ?? {};
    const fields = { kind: obj.kind, namespace: meta.namespace, name: meta.name, reason };
    let dedupKey: string | undefined;
    try {
      const text = capMessage(this.#sanitize(message), MAX_MESSAGE);
      const now = this.#clock.now();
      dedupKey = JSON.stringify([
        meta.uid ?? `${obj.kind}/${meta.namespace}/${meta.name}`,
        type,
        reason,
        text,
      ]);
      this.#prune(now);
      if (this.#recent.has(dedupKey)) return;
      this.#recent.set(dedupKey, now);
      const body = buildEvent(obj, type, reason.slice(0, MAX_REASON), text, now, {
        component: this.#component,
        instance: this.#instance,
        host: this.#host,
      });
      await this.#client.rest.request({
        method: 'POST',
        path: collectionPath(builtinResources.Event, body.metadata.namespace),
        body,
      });
    } catch (err) {
      // Forget it so the same event can be tried again by a later reconcile.
      if (dedupKey) this.#recent.delete(dedupKey);
      if (isNotLeader(err)) {
        safeLog(this.#log, 'debug', 'Event not recorded: not the leader', fields);
        return;
      }
      const e = toKubeError(err);
      safeLog(this.#log, 'warn', 'Failed to record Event', { ...fields, error: e.message, code: e.code });
    }
  }

  #prune(now: number): void {
    for (const [key, at] of this.#recent) {
      if (now - at < this.#windowMs && this.#recent.size < this.#maxTracked) break;
      this.#recent.delete(key);
    }
  }
}

export interface CoreEvent {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: { name: string; namespace: string };
  involvedObject: Record<string, string | undefined>;
  type: EventType;
  reason: string;
  message: string;
  source: { component: string; host?: string };
  reportingComponent: string;
  reportingInstance: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
}

/** The Event object; pure apart from the random name suffix. */
export function buildEvent(
  obj: KubernetesObject,
  type: EventType,
  reason: string,
  message: string,
  now: number,
  who: { component: string; instance: string; host?: string },
): CoreEvent {
  const meta = obj.metadata ?? {};
  const name = meta.name ?? 'unknown';
  const time = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      // Unique like client-go's "<object>.<hex>", within the 253-character name limit.
      name: `${name.slice(0, 200)}.${now.toString(16)}${randomBytes(4).toString('hex')}`,
      // Events about cluster-scoped objects live in "default", as client-go puts them.
      namespace: meta.namespace || 'default',
    },
    involvedObject: {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: meta.name,
      namespace: meta.namespace,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
    },
    type,
    reason,
    message,
    source: who.host ? { component: who.component, host: who.host } : { component: who.component },
    reportingComponent: who.component,
    reportingInstance: who.instance,
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
}
