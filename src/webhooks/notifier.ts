// The narrow interface the operator uses: `onLifecycleFact(fact)` (it subscribes to the
// controllers' lifecycle facts), `notify(event)` (synchronous: build the body once, hand it to
// the queue of every receiver that wants it) and `close()` (drain briefly, then stop). Built from
// `config.webhooks`; with no receivers it does nothing at all.
import { readFile as fsReadFile } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import { compileNamespaceGlob, type NamespaceMatcher } from '../backends/glob.ts';
import type { SecretFileReader } from '../config/files.ts';
import {
  type LifecycleEventType,
  MIN_SIGNING_KEY_BYTES,
  type WebhookReceiverConfig,
  type WebhooksConfig,
} from '../config/schema.ts';
import { type Clock, systemClock } from '../kube/clock.ts';
import { type Logger, noopLogger, safeLog } from '../kube/logger.ts';
import type { Sensitive } from '../secrets/sensitive.ts';
import { ReceiverDispatcher } from './dispatcher.ts';
import { type LifecycleEvent, type LifecycleEventInput, buildLifecycleEvent } from './event.ts';
import { CertificateExpiryWatch, type CertificateSource } from './expiry.ts';
import type { LifecycleFact, LifecycleSubscriber } from '../controllers/lifecycle.ts';
import { lifecycleEventFor } from './lifecycle.ts';
import { type WebhookMetrics, createWebhookMetrics, noopWebhookMetrics } from './metrics.ts';
import type { SigningKey } from './signature.ts';
import { type Transport, errorCode, httpTransport } from './transport.ts';

export interface LifecycleNotifier {
  /** Queues the event for every receiver that wants it; synchronous, never throws. */
  notify(event: LifecycleEventInput): void;
  /** Stops taking events, delivers for up to `drainMs` (default 2 s), then stops. */
  close(drainMs?: number): Promise<void>;
}

export interface WebhookNotifier extends LifecycleNotifier, LifecycleSubscriber {
  /** Receiver names, in config order. */
  readonly receivers: readonly string[];
  /** Queues the webhook event a controller's lifecycle fact stands for (lifecycle.ts). */
  onLifecycleFact(fact: LifecycleFact): void;
  /** Starts `certificate_expiring` (call once this replica leads; stopped by close()). */
  watchCertificateExpiry(source: CertificateSource): void;
  /** Resolves once every receiver's queue is empty (tests). */
  idle(): Promise<void>;
}

export interface WebhookNotifierDeps {
  clock?: Clock;
  logger?: Logger;
  /** Where the delivery metrics are registered (created once per registry). */
  registry?: Registry;
  metrics?: WebhookMetrics;
  /** Reads `signingKeyFile` (config/files.ts readSecretFile). */
  readSecretFile: SecretFileReader;
  /** Reads `caFile`; default fs. */
  readFile?: (path: string) => Promise<Buffer>;
  /** Replaces the HTTP client (tests). */
  transport?: (receiver: WebhookReceiverConfig) => Transport;
  random?: () => number;
  /** A signing key file is read again when its copy is older than this; default 60 s. */
  keyRefreshMs?: number;
  userAgent?: string;
}

const DEFAULT_DRAIN_MS = 2000;

interface Receiver {
  config: WebhookReceiverConfig;
  events: ReadonlySet<LifecycleEventType>;
  namespaces: readonly NamespaceMatcher[];
  dispatcher: ReceiverDispatcher;
}

/**
 * Builds the notifier: reads each receiver's CA file and signing key once (a problem is an
 * error naming the receiver and the file, never its content), registers the metrics.
 */
export async function createWebhookNotifier(
  config: WebhooksConfig | undefined,
  deps: WebhookNotifierDeps,
): Promise<WebhookNotifier> {
  const clock = deps.clock ?? systemClock;
  const log = deps.logger ?? noopLogger;
  const receiversConfig = config?.receivers ?? [];
  const names = receiversConfig.map((r) => r.name);
  const metrics =
    deps.metrics ??
    (deps.registry && names.length > 0 ? createWebhookMetrics(deps.registry, names) : noopWebhookMetrics);
  const readFile = deps.readFile ?? ((p: string) => fsReadFile(p));
  const closers: (() => void)[] = [];

  const receivers: Receiver[] = [];
  for (const r of receiversConfig) {
    let transport: Transport;
    if (deps.transport) transport = deps.transport(r);
    else {
      let caPem: string | undefined;
      if (r.caFile) {
        try {
          caPem = (await readFile(r.caFile)).toString('utf8');
        } catch (err) {
          throw new Error(`webhook receiver ${r.name}: cannot read caFile ${r.caFile}: ${errorCode(err)}`);
        }
      }
      const http = httpTransport(caPem ? { caPem } : {});
      closers.push(http.close);
      transport = http.send;
    }
    const signingKey = await keySource(r, deps, clock, log);
    receivers.push({
      config: r,
      events: new Set(r.events),
      namespaces: r.namespaces.map(compileNamespaceGlob),
      dispatcher: new ReceiverDispatcher({
        name: r.name,
        url: r.url,
        queueSize: config?.queueSize ?? 1000,
        timeoutMs: r.timeout,
        maxAttempts: r.maxAttempts,
        retry: { initialDelayMs: r.retry.initialDelay, maxDelayMs: r.retry.maxDelay },
        signingKey,
        transport,
        clock,
        metrics,
        logger: log,
        ...(deps.random && { random: deps.random }),
        ...(deps.userAgent && { userAgent: deps.userAgent }),
      }),
    });
  }

  let expiry: CertificateExpiryWatch | undefined;
  let closed = false;

  const notifier: WebhookNotifier = {
    receivers: names,
    notify(input) {
      if (closed || receivers.length === 0) return;
      try {
        let event: LifecycleEvent | undefined;
        let body: string | undefined;
        for (const r of receivers) {
          if (!r.events.has(input.type)) continue;
          if (!r.namespaces.some((n) => n.test(input.resource.namespace))) continue;
          event ??= buildLifecycleEvent(input, clock.now());
          body ??= JSON.stringify(event);
          r.dispatcher.enqueue({ id: event.id, type: event.type, body });
        }
      } catch (err) {
        safeLog(log, 'error', 'Failed to queue a lifecycle event', { error: errorCode(err) });
      }
    },
    onLifecycleFact(fact) {
      if (closed || receivers.length === 0) return;
      try {
        notifier.notify(lifecycleEventFor(fact));
      } catch (err) {
        safeLog(log, 'error', 'Failed to queue a lifecycle event', { error: errorCode(err) });
      }
    },
    watchCertificateExpiry(source) {
      if (closed || expiry || !receivers.some((r) => r.events.has('certificate_expiring'))) return;
      expiry = new CertificateExpiryWatch({
        source,
        withinMs: config?.expiringWithin ?? 7 * 24 * 3_600_000,
        notify: (e) => notifier.notify(e),
        clock,
        logger: log,
      });
      expiry.start();
    },
    async idle() {
      await Promise.all(receivers.map((r) => r.dispatcher.idle()));
    },
    async close(drainMs = DEFAULT_DRAIN_MS) {
      if (closed) return;
      closed = true;
      expiry?.stop();
      await Promise.all(receivers.map((r) => r.dispatcher.close(drainMs)));
      for (const c of closers) c();
    },
  };
  if (receivers.length > 0) {
    safeLog(log, 'info', 'Lifecycle webhooks enabled', { receivers: names });
  }
  return notifier;
}

/**
 * The signing key of a receiver: inline (development), or a file read now (it must be readable
 * at start-up) and again when the copy is older than keyRefreshMs, so a rotated Secret takes
 * effect without a restart. A failed re-read keeps the last key and is logged once per failure streak.
 */
async function keySource(
  r: WebhookReceiverConfig,
  deps: WebhookNotifierDeps,
  clock: Clock,
  log: Logger,
): Promise<() => Promise<SigningKey>> {
  if (r.signingKey) {
    const key = r.signingKey;
    return async () => key.reveal();
  }
  const path = r.signingKeyFile;
  if (!path) throw new Error(`webhook receiver ${r.name}: no signingKey or signingKeyFile`);
  const refreshMs = deps.keyRefreshMs ?? 60_000;
  const read = async (): Promise<Sensitive<string>> => {
    const key = await deps.readSecretFile(path);
    const bytes = Buffer.byteLength(key.reveal(), 'utf8');
    if (bytes === 0) throw new Error(`${path} is empty`);
    if (bytes < MIN_SIGNING_KEY_BYTES) {
      throw new Error(
        `${path} holds ${bytes} bytes; a signing key needs at least ${MIN_SIGNING_KEY_BYTES} (a random key, e.g. openssl rand -hex 32)`,
      );
    }
    return key;
  };
  let current: Sensitive<string>;
  try {
    current = await read();
  } catch (err) {
    throw new Error(
      `webhook receiver ${r.name}: cannot read signingKeyFile: ${err instanceof Error ? err.message : 'read failed'}`,
    );
  }
  let readAt = clock.now();
  let warned = false;
  return async () => {
    if (clock.now() - readAt >= refreshMs) {
      readAt = clock.now();
      try {
        current = await read();
        warned = false;
      } catch (err) {
        if (!warned) {
          warned = true;
          safeLog(log, 'warn', 'Cannot re-read the webhook signing key; using the last one', {
            receiver: r.name,
            error: err instanceof Error ? err.message : 'read failed',
          });
        }
      }
    }
    return current.reveal();
  };
}
