// A readiness check that may cost a backend request, made cheap to ask: its answer is reused
// for a while, and callers arriving while it runs share that one run. A flood of /readyz
// therefore costs the backend at most one check per TTL.
import type { ReadinessCheck } from './health.ts';

type CheckFn = ReadinessCheck['check'];
type Outcome = Awaited<ReturnType<CheckFn>>;

export function cachedCheck(
  check: CheckFn,
  ttlMs: number,
  now: () => number = () => performance.now(),
): CheckFn {
  let last: { startedAt: number; settled: boolean; outcome: Promise<Outcome> } | undefined;
  return () => {
    if (last && (!last.settled || now() - last.startedAt < ttlMs)) return last.outcome;
    const run = {
      startedAt: now(),
      settled: false,
      outcome: check().catch((err: unknown): Outcome => ({ ok: false, detail: (err as Error).message })),
    };
    void run.outcome.finally(() => (run.settled = true));
    last = run;
    return run.outcome;
  };
}
