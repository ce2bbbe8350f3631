// certificate_expiring: sent once per certificate and notAfter when the certificate in a
// VaultCertificate's status is within `expiringWithin` of its expiry (or past it). Read from
// the VaultCertificate informer cache: a scan at the earliest time one falls due (a single
// timer, not one per certificate), again whenever a certificate's notAfter changes, and at
// least every few minutes. The event id is derived from the resource and notAfter, so when a
// restarted operator reports it again, receivers can tell it is the same event.
//
// Set expiringWithin shorter than the renewal window (renewBefore): then it fires only when a
// renewal is late or failing, which is what it is for.
import type { VaultCertificate } from '../apis/v1alpha1/index.ts';
import { formatDuration } from '../apis/v1alpha1/duration.ts';
import type { Cancel, Clock } from '../kube/clock.ts';
import { type Logger, noopLogger, safeLog } from '../kube/logger.ts';
import { type LifecycleEventInput, stableEventId } from './event.ts';

export interface CertificateSource {
  list(): Iterable<VaultCertificate>;
  /** An informer: add/update wake a scan when a certificate's notAfter changed. */
  addHandlers?(handlers: {
    add?(obj: VaultCertificate): unknown;
    update?(oldObj: VaultCertificate, newObj: VaultCertificate): unknown;
  }): () => void;
}

export interface ExpiryWatchOptions {
  source: CertificateSource;
  withinMs: number;
  notify(event: LifecycleEventInput): void;
  clock: Clock;
  logger?: Logger;
  /** Longest time between two scans; default 10 minutes. */
  maxIntervalMs?: number;
  /** Delay of the scan after a change seen by the informer (many changes share one); default 1 s. */
  settleMs?: number;
}

export class CertificateExpiryWatch {
  readonly #o: ExpiryWatchOptions;
  readonly #maxIntervalMs: number;
  readonly #settleMs: number;
  /** Resource (uid, else namespace/name) → the notAfter already reported. */
  readonly #reported = new Map<string, string>();
  #timer: { at: number; cancel: Cancel } | undefined;
  #unsubscribe: (() => void) | undefined;
  #stopped = true;

  constructor(opts: ExpiryWatchOptions) {
    this.#o = opts;
    this.#maxIntervalMs = opts.maxIntervalMs ?? 10 * 60_000;
    this.#settleMs = opts.settleMs ?? 1000;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#unsubscribe = this.#o.source.addHandlers?.({
      add: (vc) => {
        if (vc.status?.notAfter) this.#schedule(this.#settleMs);
      },
      update: (old, vc) => {
        if (old.status?.notAfter !== vc.status?.notAfter) this.#schedule(this.#settleMs);
      },
    });
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Reports what is due now; returns when the next certificate falls due (ms since the epoch). */
  scan(): number | undefined {
    const now = this.#o.clock.now();
    const seen = new Set<string>();
    let next: number | undefined;
    for (const vc of this.#o.source.list()) {
      const notAfterText = vc.status?.notAfter;
      const notAfter = notAfterText ? Date.parse(notAfterText) : NaN;
      if (!notAfterText || !Number.isFinite(notAfter)) continue;
      const key = vc.metadata?.uid ?? `${vc.metadata?.namespace}/${vc.metadata?.name}`;
      seen.add(key);
      if (this.#reported.get(key) === notAfterText) continue;
      const due = notAfter - this.#o.withinMs;
      if (now < due) {
        next = next === undefined ? due : Math.min(next, due);
        continue;
      }
      this.#reported.set(key, notAfterText);
      this.#o.notify(expiringEvent(vc, key, notAfterText, notAfter, now));
    }
    for (const key of this.#reported.keys()) if (!seen.has(key)) this.#reported.delete(key);
    return next;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    const at = this.#o.clock.now() + Math.max(0, delayMs);
    if (this.#timer && this.#timer.at <= at) return;
    this.#timer?.cancel();
    const cancel = this.#o.clock.after(delayMs, () => this.#tick());
    this.#timer = { at, cancel };
  }

  #tick(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    let next: number | undefined;
    try {
      next = this.scan();
    } catch (err) {
      safeLog(this.#o.logger ?? noopLogger, 'warn', 'Certificate expiry scan failed', {
        error: err instanceof Error ? err.name : 'Error',
      });
    }
    const now = this.#o.clock.now();
    const wait = next === undefined ? this.#maxIntervalMs : Math.min(this.#maxIntervalMs, next - now);
    this.#schedule(Math.max(this.#settleMs, wait));
  }
}

function expiringEvent(
  vc: VaultCertificate,
  key: string,
  notAfterText: string,
  notAfter: number,
  now: number,
): LifecycleEventInput {
  const expired = now >= notAfter;
  const secretName = vc.spec?.secretName;
  const serial = vc.status?.serialNumber;
  const what = `Certificate${serial ? ` ${serial}` : ''}${secretName ? ` in Secret ${secretName}` : ''}`;
  return {
    id: stableEventId(`certificate_expiring/${key}/${notAfterText}`),
    type: 'certificate_expiring',
    resource: {
      apiVersion: vc.apiVersion,
      kind: 'VaultCertificate',
      namespace: vc.metadata?.namespace ?? '',
      name: vc.metadata?.name ?? '',
      ...(vc.metadata?.uid !== undefined && { uid: vc.metadata.uid }),
    },
    reason: expired ? 'Expired' : 'Expiring',
    message: expired
      ? `${what} expired at ${notAfterText}`
      : `${what} expires at ${notAfterText} (in ${formatDuration(Math.max(60_000, Math.round((notAfter - now) / 60_000) * 60_000))})`,
    details: {
      ...(secretName !== undefined && { secretName }),
      ...(serial !== undefined && { serialNumber: serial }),
      notAfter: notAfterText,
      ...(vc.status?.revision !== undefined && { revision: vc.status.revision }),
    },
  };
}
