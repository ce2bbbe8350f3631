// Narrow metric sinks the runtime reports to. The observability module implements them with
// prom-client (workqueue_* and controller_runtime_* names, bounded labels); the runtime itself
// never touches a registry. Every method must be cheap and must not throw.

/** One instance per queue (the queue name is bound by whoever creates it). */
export interface WorkqueueMetrics {
  /** Keys waiting to be handed to a worker. */
  depth(n: number): void;
  /** A key was inserted into the queue (dropped duplicates are not counted, as in client-go). */
  add(): void;
  /** Time a key spent waiting in the queue, in seconds. */
  queueLatency(seconds: number): void;
  /** Time from get() to done() for one key, in seconds. */
  workDuration(seconds: number): void;
  /** A key was re-added with a rate-limited delay. */
  retry(): void;
}

export type ReconcileResultLabel = 'success' | 'requeue_after' | 'error' | 'terminal_error';

/** One instance per controller. */
export interface ControllerMetrics {
  /** controller_runtime_reconcile_total{controller, result}. */
  reconcileTotal(result: ReconcileResultLabel): void;
  /** controller_runtime_reconcile_time_seconds{controller}. */
  reconcileDuration(seconds: number): void;
  /** controller_runtime_active_workers{controller}. */
  activeWorkers(n: number): void;
}

export const noopWorkqueueMetrics: WorkqueueMetrics = {
  depth() {},
  add() {},
  queueLatency() {},
  workDuration() {},
  retry() {},
};

export const noopControllerMetrics: ControllerMetrics = {
  reconcileTotal() {},
  reconcileDuration() {},
  activeWorkers() {},
};

/** Wraps a sink so a faulty implementation can never break the queue or a worker. */
export function guarded<T extends object>(sink: T): T {
  return new Proxy(sink, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch {
          return undefined;
        }
      };
    },
  });
}
