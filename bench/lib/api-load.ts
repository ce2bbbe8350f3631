// Open-loop load for the api scenario: requests start on their schedule (the ith at i / rate
// seconds) whether or not earlier ones have answered, and each latency runs from the scheduled
// start, so a server that falls behind is charged for the queue it builds (no coordinated
// omission). One keep-alive HTTP client (undici) serves both sides of the sandwich.
import { Agent, request } from 'undici';
import { quantile, round } from './figures.ts';

/** How one request ended: `ok`, or what went wrong (an HTTP status, `transport`, `wrong value`). */
export interface Sample {
  scheduledMs: number;
  doneMs: number;
  outcome: string;
}

/** The ith request's start, in ms after the phase's start, at `rate` requests per second. */
export const scheduledAt = (i: number, rate: number): number => (i * 1000) / rate;

/** Requests of a phase of `seconds` at `rate` per second. */
export const requestCount = (rate: number, seconds: number): number => Math.round(rate * seconds);

/** A request that got no answer, named by its error's code (`transport UND_ERR_SOCKET`, …). */
export function transportFailure(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code ?? e?.cause?.code ?? e?.name;
  return typeof code === 'string' ? `transport ${code}` : 'transport';
}

/** A request not sent because `maxInFlight` were still out: an error, with no latency of its own. */
export const BACKLOG = 'backlog';

/**
 * Sends `count` requests on schedule, `send(i)` resolving with the outcome. The loop wakes at each
 * start it has not reached; when the harness's own event loop was late it sends every request due
 * at once, each still timed from its own scheduled start. A start that finds `maxInFlight`
 * requests still out is not sent (BACKLOG): a server that cannot keep up fails the phase in
 * bounded time and memory instead of queueing the rest of it.
 */
export async function openLoop(
  rate: number,
  count: number,
  send: (i: number) => Promise<string>,
  maxInFlight = Infinity,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  let next = 0;
  while (next < count) {
    const now = performance.now() - start;
    while (next < count && scheduledAt(next, rate) <= now) {
      const i = next++;
      const scheduledMs = scheduledAt(i, rate);
      if (pending.size >= maxInFlight) {
        samples.push({ scheduledMs, doneMs: scheduledMs, outcome: BACKLOG });
        continue;
      }
      const request = send(i)
        .catch((err: unknown) => transportFailure(err))
        .then((outcome) => {
          samples.push({ scheduledMs, doneMs: performance.now() - start, outcome });
          pending.delete(request);
        });
      pending.add(request);
    }
    if (next < count) await new Promise((r) => setTimeout(r, Math.max(0, scheduledAt(next, rate) - now)));
  }
  await Promise.all(pending);
  return samples;
}

export interface PhaseStats {
  /** Requests scheduled, and those sent (the rest found the backlog full). */
  scheduled: number;
  sent: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  errors: number;
  /** Failed requests by outcome (an HTTP status, `transport`, `wrong value`). */
  errorsByKind: Record<string, number>;
  /** Answers (of any outcome) per second from the phase's start to its last answer. */
  achievedRate: number | null;
}

/** Latencies (from each scheduled start) of the requests sent in a phase, in ms. */
export const latencies = (samples: readonly Sample[]): number[] =>
  samples.filter((s) => s.outcome !== BACKLOG).map((s) => s.doneMs - s.scheduledMs);

/** The figures of one phase: quantiles over every request, failed ones included. */
export function phaseStats(samples: readonly Sample[]): PhaseStats {
  const ms = latencies(samples);
  const errorsByKind: Record<string, number> = {};
  for (const s of samples)
    if (s.outcome !== 'ok') errorsByKind[s.outcome] = (errorsByKind[s.outcome] ?? 0) + 1;
  const lastDone = Math.max(...samples.map((s) => s.doneMs));
  const answered = ms.length;
  return {
    scheduled: samples.length,
    sent: answered,
    p50Ms: round(quantile(ms, 0.5), 1),
    p99Ms: round(quantile(ms, 0.99), 1),
    maxMs: round(Math.max(...ms), 1),
    errors: Object.values(errorsByKind).reduce((a, b) => a + b, 0),
    errorsByKind,
    achievedRate: answered > 0 ? round((answered * 1000) / lastDone, 1) : null,
  };
}

/** The paths of the ith batch: `size` consecutive bench paths from i × size, wrapping around. */
export function batchPaths(i: number, size: number, paths: number): string[] {
  return Array.from({ length: size }, (_, k) => `p${(i * size + k) % paths}`);
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

/**
 * A keep-alive client of one origin (HTTPS verified against `caPem`, or plain HTTP), connections
 * opened as the open loop needs them. Gives up after `timeoutMs`, as a caller would.
 */
export function httpClient(
  origin: string,
  opts: { caPem?: string; timeoutMs: number; connections?: number },
) {
  const dispatcher = new Agent({
    ...(opts.connections && { connections: opts.connections }),
    connect: opts.caPem ? { ca: opts.caPem, servername: 'localhost' } : {},
    keepAliveTimeout: 30_000,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
  });
  return {
    async call(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown) {
      const res = await request(`${origin}${path}`, {
        method,
        dispatcher,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      return { status: res.statusCode, body: parseJson(await res.body.text()) };
    },
    close: () => dispatcher.close(),
  };
}

/** The body as JSON, or undefined when it is none (an error page, an empty answer). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The outcome of an answer: `ok` when 2xx and `check` approves the body, else why not. */
export function outcomeOf(answer: HttpAnswer, check: (body: unknown) => boolean): string {
  if (answer.status < 200 || answer.status > 299) return String(answer.status);
  return check(answer.body) ? 'ok' : 'wrong value';
}
