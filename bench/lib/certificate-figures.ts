// The certificates scenario's decisions on text the servers wrote: issuance times from the
// operator's log, event-loop delay from its /metrics, OpenBao sign calls from its audit log, and
// the verdict against issue 15's goals. Pure, so each can be tested on a sample.

/** Issue 15's goals for certificate issuance. */
export const CERTIFICATE_GOALS = { rateRatio: 0.8, p99Ms: 100, eventLoopP99Ms: 20 } as const;

/**
 * Per-issuance service time (ms): the operator's "Issued certificate" log line's `seconds`, from
 * the reconcile's decision to issue (key generation next) to the Secret write answered.
 */
export function issuanceLatenciesMs(logs: readonly string[]): number[] {
  const out: number[] = [];
  for (const line of logs) {
    if (!line.includes('"Issued certificate"')) continue;
    try {
      const seconds = (JSON.parse(line) as { seconds?: unknown }).seconds;
      if (typeof seconds === 'number') out.push(seconds * 1000);
    } catch {
      // a line that is not one JSON object (a stack trace) is no issuance
    }
  }
  return out;
}

export interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * The event-loop delay prom-client's default metrics measured since their last scrape (it resets
 * its histogram at every scrape): `<prefix>nodejs_eventloop_lag_{p50,p99,max}_seconds`, in ms.
 * Like perf_hooks.monitorEventLoopDelay, a sample includes the 10 ms sampling interval itself.
 */
export function eventLoopDelay(metricsText: string, prefix = 'vaultsync_'): LoopDelay {
  const value = (name: string): number => {
    const m = new RegExp(`^${prefix}nodejs_eventloop_lag_${name}_seconds ([0-9.eE+-]+)$`, 'm').exec(
      metricsText,
    );
    if (!m) throw new Error(`no ${prefix}nodejs_eventloop_lag_${name}_seconds in the operator's /metrics`);
    return Number(m[1]) * 1000;
  };
  return { p50Ms: value('p50'), p99Ms: value('p99'), maxMs: value('max') };
}

/** OpenBao requests to `<mount>/sign/…` in an audit log's text (one JSON line per entry). */
export function baoSignRequests(auditText: string, mount = 'pki'): number {
  const marker = `"path":"${mount}/sign/`;
  let n = 0;
  for (const line of auditText.split('\n'))
    if (line.includes('"type":"request"') && line.includes(marker)) n++;
  return n;
}

export interface CertificateVerdict {
  met: boolean;
  /** One phrase per goal: met, or missed by how much. */
  findings: string[];
}

/** The run against the goals: rate ratio, p99 per issuance, event-loop p99 (ECDSA and RSA). */
export function certificateVerdict(f: {
  rateRatio: number;
  p99Ms: number;
  eventLoopP99Ms: number;
  rsaEventLoopP99Ms: number | undefined;
}): CertificateVerdict {
  const g = CERTIFICATE_GOALS;
  const checks: [boolean, string][] = [
    [f.rateRatio >= g.rateRatio, `rate ${f.rateRatio.toFixed(2)}× the plain loop (goal ≥ ${g.rateRatio}×)`],
    [f.p99Ms <= g.p99Ms, `p99 ${f.p99Ms.toFixed(1)} ms (goal ≤ ${g.p99Ms} ms)`],
    [
      f.eventLoopP99Ms <= g.eventLoopP99Ms,
      `event loop p99 ${f.eventLoopP99Ms.toFixed(1)} ms (goal ≤ ${g.eventLoopP99Ms} ms)`,
    ],
  ];
  if (f.rsaEventLoopP99Ms !== undefined)
    checks.push([
      f.rsaEventLoopP99Ms <= g.eventLoopP99Ms,
      `RSA event loop p99 ${f.rsaEventLoopP99Ms.toFixed(1)} ms (goal ≤ ${g.eventLoopP99Ms} ms)`,
    ]);
  return {
    met: checks.every(([ok]) => ok),
    findings: checks.map(([ok, text]) => `${ok ? 'met' : 'missed'}: ${text}`),
  };
}
