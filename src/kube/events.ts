// Kubernetes Events (core/v1) about our objects, for `kubectl describe`.
//
// Callers emit only when something changed (principle: no events for no-ops); the recorder
// adds client-go's correlation (event-correlator.ts): an identical event within a short window
// is dropped, so a hot retry loop cannot flood the API server; a later identical one bumps the
// count of the Event already written (one PATCH) instead of creating another; bursts are
// rate-limited per object, and Normal events of one reason across objects. Messages pass
// through a sanitiser hook (secret values must never reach an event) and are capped. Recording
// never throws: a failed event is logged and forgotten.
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { type Clock, systemClock } from './clock.ts';
import type { KubeClient } from './client.ts';
import { capMessage, isNotFound, toKubeError } from './errors.ts';
import { type CorrelatorOptions, type EventKey, EventCorrelator, type Written } from './event-correlator.ts';
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
  /** Aggregation window and rate limits (event-correlator.ts); defaults as client-go's. */
  correlation?: Omit<CorrelatorOptions, 'dedupWindowMs' | 'maxTracked'>;
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
  readonly #correlator: EventCorrelator;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(opts: EventRecorderOptions) {
    this.#client = opts.client;
    this.#component = opts.component ?? 'vaultsync';
    this.#instance = opts.instance;
    this.#host = opts.host;
    this.#sanitize = opts.sanitize ?? ((m) => m);
    this.#correlator = new EventCorrelator({
      ...opts.correlation,
      dedupWindowMs: opts.dedupWindowMs,
      maxTracked: opts.maxTracked,
    });
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
    let key: EventKey | undefined;
    try {
      const text = capMessage(this.#sanitize(message), MAX_MESSAGE);
      const now = this.#clock.now();
      const object = meta.uid ?? `${obj.kind}/${meta.namespace}/${meta.name}`;
      key = { object, type, reason, message: text };
      const decision = this.#correlator.decide(key, now);
      if (decision.action === 'drop') {
        if (decision.why !== 'duplicate')
          safeLog(this.#log, 'debug', `Event not recorded: ${decision.why}`, fields);
        return;
      }
      if (decision.action === 'patch' && (await this.#bump(key, decision.written, now))) return;
      const body = buildEvent(obj, type, reason.slice(0, MAX_REASON), text, now, {
        component: this.#component,
        instance: this.#instance,
        host: this.#host,
      });
      // Remembered before it is sent, so an identical event meanwhile is not sent twice.
      this.#correlator.recorded(key, {
        name: body.metadata.name,
        namespace: body.metadata.namespace,
        count: 1,
        firstTimestamp: body.firstTimestamp,
        sentAt: now,
      });
      await this.#client.rest.request({
        method: 'POST',
        path: collectionPath(builtinResources.Event, body.metadata.namespace),
        body,
      });
    } catch (err) {
      // Forget it so the same event can be tried again by a later reconcile.
      if (key) this.#correlator.forget(key);
      if (isNotLeader(err)) {
        safeLog(this.#log, 'debug', 'Event not recorded: not the leader', fields);
        return;
      }
      const e = toKubeError(err);
      safeLog(this.#log, 'warn', 'Failed to record Event', { ...fields, error: e.message, code: e.code });
    }
  }

  /** count+1 and lastTimestamp on the Event written before; false when it is gone (expired). */
  async #bump(key: EventKey, written: Written, now: number): Promise<boolean> {
    const next = { ...written, count: written.count + 1, sentAt: now };
    this.#correlator.recorded(key, next);
    try {
      await this.#client.rest.request({
        method: 'PATCH',
        path: `${collectionPath(builtinResources.Event, written.namespace)}/${encodeURIComponent(written.name)}`,
        body: { count: next.count, lastTimestamp: eventTime(now) },
        contentType: 'application/merge-patch+json',
      });
      return true;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.#correlator.forget(key);
      return false;
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
  const time = eventTime(now);
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

/** Event timestamps keep whole seconds (metav1.Time). */
const eventTime = (now: number): string => new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
