// Metrics of workload restarts: a narrow sink the controller reports to, and its prom-client
// implementation. Labels are bounded: kind (4 values) and outcome (fixed list).
import { Counter, Histogram, type Registry } from 'prom-client';

export type RestartOutcome = 'restarted' | 'skipped' | 'failed';
export type RolloutOutcome = 'ready' | 'timeout';

export interface ReloadMetrics {
  /** vaultsync_workload_restarts_total{kind, outcome} */
  restart(kind: string, outcome: RestartOutcome): void;
  /** vaultsync_workload_restart_latency_seconds: first change of a burst → workload patched. */
  restartLatency(seconds: number): void;
  /** vaultsync_workload_rollouts_total{kind, outcome}: restarted workloads that became ready, or not in time. */
  rollout(kind: string, outcome: RolloutOutcome): void;
}

export const noopReloadMetrics: ReloadMetrics = { restart() {}, restartLatency() {}, rollout() {} };

const KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout']);
const safe =
  <A extends unknown[]>(fn: (...args: A) => void) =>
  (...args: A) => {
    try {
      fn(...args);
    } catch {
      // A metric is not worth a failed reconcile.
    }
  };

export function createReloadMetrics(registry: Registry): ReloadMetrics {
  const restarts = new Counter({
    name: 'vaultsync_workload_restarts_total',
    help: 'Workload restarts by kind and outcome (restarted, skipped, failed).',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  const rollouts = new Counter({
    name: 'vaultsync_workload_rollouts_total',
    help: 'Restarted workloads that became ready (ready) or not within readyTimeout (timeout).',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'vaultsync_workload_restart_latency_seconds',
    help: 'Time from the first Secret change of a burst to the workload restart (debounce included).',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600],
    registers: [registry],
  });
  for (const kind of KINDS) {
    for (const outcome of ['restarted', 'skipped', 'failed']) restarts.inc({ kind, outcome }, 0);
  }
  const kindLabel = (kind: string) => (KINDS.has(kind) ? kind : 'other');
  return {
    restart: safe((kind: string, outcome: RestartOutcome) =>
      restarts.inc({ kind: kindLabel(kind), outcome }),
    ),
    restartLatency: safe((s: number) => {
      if (Number.isFinite(s) && s >= 0) latency.observe(s);
    }),
    rollout: safe((kind: string, outcome: RolloutOutcome) =>
      rollouts.inc({ kind: kindLabel(kind), outcome }),
    ),
  };
}
