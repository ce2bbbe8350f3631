// Requests the operator sent to a backend, from its own metrics endpoint (/metrics on the health
// address): calls that passed the circuit breaker and the local rate limit, plus logins and token
// renewals. A call refused by the open circuit or by the local bucket sends nothing and is not
// counted; a token check after a refusal (lookup-self) is not metered and not counted either.
import type { OperatorProcess } from '../support/operator-process.ts';

export interface BackendRequests {
  /** Requests that went out (reads, writes, checks, logins, renewals). */
  sent: number;
  /** Calls refused locally: circuit open, or the local bucket (after a 429's Retry-After). */
  refusedLocally: number;
  /** 429 answers from the backend. */
  throttledByBackend: number;
  logins: number;
  renewals: number;
  /** Finished calls by outcome (success or an error code). */
  outcomes: Record<string, number>;
}

function series(text: string, name: string, backend: string): { labels: string; value: number }[] {
  const out: { labels: string; value: number }[] = [];
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const labels = m[1] ?? '';
    if (labels.includes(`backend="${backend}"`)) out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

const label = (labels: string, name: string) => new RegExp(`${name}="([^"]*)"`).exec(labels)?.[1] ?? '';

export function backendRequests(metricsText: string, backend: string): BackendRequests {
  const outcomes: Record<string, number> = {};
  for (const s of series(metricsText, 'vaultsync_backend_requests_total', backend)) {
    const outcome = label(s.labels, 'outcome');
    outcomes[outcome] = (outcomes[outcome] ?? 0) + s.value;
  }
  const throttled = series(metricsText, 'vaultsync_backend_throttled_total', backend);
  const local = throttled
    .filter((s) => label(s.labels, 'source') === 'local')
    .reduce((n, s) => n + s.value, 0);
  const remote = throttled
    .filter((s) => label(s.labels, 'source') === 'remote')
    .reduce((n, s) => n + s.value, 0);
  const auth = series(metricsText, 'vaultsync_backend_auth_events_total', backend);
  const authCount = (event: string) =>
    auth.filter((s) => label(s.labels, 'event') === event).reduce((n, s) => n + s.value, 0);
  const finished = Object.values(outcomes).reduce((n, v) => n + v, 0);
  // Refused before anything was sent: the open circuit, tenancy, and the local bucket's Throttled.
  const notSent = (outcomes.CircuitOpen ?? 0) + (outcomes.TenancyDenied ?? 0) + local;
  const logins = authCount('login');
  const renewals = authCount('renew') + authCount('renew-failed');
  return {
    sent: finished - notSent + logins + renewals,
    refusedLocally: (outcomes.CircuitOpen ?? 0) + local,
    throttledByBackend: remote,
    logins,
    renewals,
    outcomes,
  };
}

/** `after − before`, field by field. */
export function requestsBetween(before: BackendRequests, after: BackendRequests): BackendRequests {
  const outcomes: Record<string, number> = {};
  for (const k of new Set([...Object.keys(before.outcomes), ...Object.keys(after.outcomes)])) {
    const d = (after.outcomes[k] ?? 0) - (before.outcomes[k] ?? 0);
    if (d !== 0) outcomes[k] = d;
  }
  return {
    sent: after.sent - before.sent,
    refusedLocally: after.refusedLocally - before.refusedLocally,
    throttledByBackend: after.throttledByBackend - before.throttledByBackend,
    logins: after.logins - before.logins,
    renewals: after.renewals - before.renewals,
    outcomes,
  };
}

export async function scrapeBackendRequests(
  healthAddress: string,
  backend: string,
): Promise<BackendRequests> {
  const res = await fetch(`http://${healthAddress}/metrics`);
  if (!res.ok) throw new Error(`metrics: HTTP ${res.status}`);
  return backendRequests(await res.text(), backend);
}

/**
 * Backend requests of every run while it is polled: a run's counter starts at 0, so the sum
 * of (last reading − first reading) per run, the first reading of a run started meanwhile
 * taken as 0. Requests a run made after its last reading before it was killed are missed.
 */
export class BackendRequestMeter {
  readonly #first = new Map<number, number>();
  readonly #last = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;
  readonly #op: OperatorProcess;

  constructor(op: OperatorProcess) {
    this.#op = op;
  }

  async start(): Promise<void> {
    await this.#read(true);
    this.#timer = setInterval(() => void this.#read(false), 500);
  }

  async stop(): Promise<number> {
    clearInterval(this.#timer);
    await this.#read(false);
    let total = 0;
    for (const [pid, last] of this.#last) total += last - (this.#first.get(pid) ?? 0);
    return total;
  }

  async #read(first: boolean): Promise<void> {
    const pid = this.#op.pid;
    const value = await this.#op.backendRequests();
    if (pid === undefined || value === undefined || pid !== this.#op.pid) return;
    if (first) this.#first.set(pid, value);
    this.#last.set(pid, Math.max(value, this.#last.get(pid) ?? 0));
  }
}
