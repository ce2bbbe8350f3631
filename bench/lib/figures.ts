// Pure arithmetic of the bench: the servers' counters turned into deltas, quantiles, the noise
// verdict of a sandwich, and the heap slope. No I/O here, so each rule has a unit test beside it.

/** One sample of kube-apiserver's `apiserver_request_total`, summed by "VERB resource[/subresource]". */
export type RequestCounts = ReadonlyMap<string, number>;

/** Verbs that change stored state (APPLY is a server-side apply patch). */
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION']);

/**
 * Requests left out of every count: non-resource URLs (our own /metrics scrapes, health probes),
 * the apiserver's own leases, and WATCH (a long-running request is counted when it ends, so a
 * window would see only the watches that happened to close in it).
 */
const counted = (verb: string, resource: string): boolean =>
  resource !== '' && resource !== 'leases' && verb !== 'WATCH' && verb !== 'CONNECT';

/** Parses the Prometheus text of kube-apiserver's /metrics into counts by verb and resource. */
export function parseApiserverRequests(text: string): RequestCounts {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^apiserver_request_total\{([^}]*)\} ([0-9.e+]+)$/gm)) {
    const labels = new Map<string, string>();
    for (const l of m[1]!.matchAll(/(\w+)="([^"]*)"/g)) labels.set(l[1]!, l[2]!);
    const verb = labels.get('verb') ?? '';
    const resource = labels.get('resource') ?? '';
    if (!counted(verb, resource)) continue;
    const sub = labels.get('subresource');
    const key = `${verb} ${resource}${sub ? `/${sub}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(m[2]));
  }
  return out;
}

export interface RequestDelta {
  requests: number;
  mutations: number;
  /** "VERB resource[/subresource]" → requests in the window (zeros left out). */
  byKind: Record<string, number>;
}

/**
 * What the apiserver served between two samples, less what the harness itself sent in the window
 * (`own`, by the same keys: e.g. its VaultSecret creates), which is not the work being measured.
 */
export function requestDelta(
  before: RequestCounts,
  after: RequestCounts,
  own: Record<string, number> = {},
): RequestDelta {
  const byKind: Record<string, number> = {};
  let requests = 0;
  let mutations = 0;
  for (const [key, value] of after) {
    const n = Math.max(0, value - (before.get(key) ?? 0) - (own[key] ?? 0));
    if (n === 0) continue;
    byKind[key] = n;
    requests += n;
    if (MUTATING.has(key.split(' ')[0]!)) mutations += n;
  }
  return { requests, mutations, byKind };
}

/** KV v2 reads under `prefix` (e.g. `secret/data/bench/`) in OpenBao's file audit log text. */
export function baoReads(auditText: string, prefix: string): number {
  let n = 0;
  for (const line of auditText.split('\n')) {
    if (!line.includes('"type":"request"') || !line.includes(prefix)) continue;
    const e = JSON.parse(line) as { type?: string; request?: { path?: string; operation?: string } };
    if (e.type === 'request' && e.request?.operation === 'read' && e.request.path?.startsWith(prefix)) n++;
  }
  return n;
}

/** One backend read in OpenBao's audit log: its path and when (ms since the epoch). */
export interface BaoRead {
  path: string;
  at: number;
}

/** The reads of paths under `prefix` in audit log text, in the log's order. */
export function baoReadTimes(auditText: string, prefix: string): BaoRead[] {
  const reads: BaoRead[] = [];
  for (const line of auditText.split('\n')) {
    if (!line.includes('"type":"request"') || !line.includes(prefix)) continue;
    const e = JSON.parse(line) as {
      type?: string;
      time?: string;
      request?: { path?: string; operation?: string };
    };
    const path = e.request?.path;
    if (e.type === 'request' && e.request?.operation === 'read' && path?.startsWith(prefix) && e.time)
      reads.push({ path, at: Date.parse(e.time) });
  }
  return reads;
}

/**
 * Reads at or after `from` that came sooner than `minGapMs` after the previous read of the same
 * path: what a refresh schedule of one read per path per interval would not have made. Counting
 * these instead of reads per window leaves out the window's edges (a path read on schedule just
 * inside both ends counts once more than the window holds intervals).
 */
export function earlyReads(reads: readonly BaoRead[], from: number, minGapMs: number): number {
  const last = new Map<string, number>();
  let early = 0;
  for (const { path, at } of [...reads].sort((a, b) => a.at - b.at)) {
    const previous = last.get(path);
    if (at >= from && previous !== undefined && at - previous < minGapMs) early++;
    last.set(path, at);
  }
  return early;
}

/** How the reads in [from, to) fall on paths: what lies behind a reads-per-refresh count. */
export interface PathReadSpread {
  /** Reads in the window. */
  reads: number;
  /** Paths by the number of reads they had in the window ("4": 990 paths read 4 times). */
  histogram: Record<string, number>;
  /** Paths read more often than the window holds intervals... */
  overCount: number;
  /** ...of them, those whose first read in the window came within `edgeMs` of its start. */
  overCountAtStart: number;
  /**
   * Reads per interval per path from each path's own spacing ((n − 1) reads over first to last
   * read), summed over paths: the count without the window's edges.
   */
  readsPerIntervalByRate: number;
}

export function pathReadSpread(
  reads: readonly BaoRead[],
  window: { from: number; to: number },
  intervalMs: number,
  edgeMs: number,
): PathReadSpread {
  const byPath = new Map<string, number[]>();
  for (const { path, at } of reads) {
    if (at < window.from || at >= window.to) continue;
    const times = byPath.get(path) ?? [];
    times.push(at);
    byPath.set(path, times);
  }
  const expected = Math.floor((window.to - window.from) / intervalMs);
  const histogram: Record<string, number> = {};
  let overCount = 0;
  let overCountAtStart = 0;
  let byRate = 0;
  let count = 0;
  for (const times of byPath.values()) {
    count += times.length;
    times.sort((a, b) => a - b);
    histogram[times.length] = (histogram[times.length] ?? 0) + 1;
    if (times.length > expected) {
      overCount++;
      if (times[0]! - window.from < edgeMs) overCountAtStart++;
    }
    const span = times.at(-1)! - times[0]!;
    byRate += times.length > 1 && span > 0 ? ((times.length - 1) * intervalMs) / span : 1;
  }
  return { reads: count, histogram, overCount, overCountAtStart, readsPerIntervalByRate: byRate };
}

/** The q-quantile by the nearest-rank method (NaN for no samples). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** The issue's rule: two baselines of one sandwich more than `tolerance` apart make the run noisy. */
export function isNoisy(first: number, second: number, tolerance = 0.15): boolean {
  const low = Math.min(first, second);
  if (!(low > 0)) return true;
  return (Math.max(first, second) - low) / low > tolerance;
}

/** Bytes per resource between two (resources, heap bytes) points: the retained cost of one more. */
export function heapSlope(
  small: { resources: number; heap: number },
  large: { resources: number; heap: number },
) {
  if (large.resources <= small.resources) throw new Error('the slope needs two different resource counts');
  return (large.heap - small.heap) / (large.resources - small.resources);
}

/** Rounds for the summary: `digits` decimals, NaN and infinities to null (JSON has neither). */
export function round(x: number | undefined, digits = 2): number | null {
  if (x === undefined || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
