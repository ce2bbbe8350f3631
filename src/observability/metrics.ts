/**
 * The prom-client implementation of the runtime's narrow metric sinks (`kube/metrics.ts`,
 * `resilience/metrics.ts`), plus the leader gauge and the scrape-time per-object gauges.
 *
 * Names follow controller-runtime and client-go (`workqueue_*`, `controller_runtime_*`) and
 * our own `vaultsync_*`. Labels are bounded: queue, controller and backend names come from code
 * or config, everything else from fixed lists (an unexpected value is folded into a known
 * one). Per-object gauges are computed from the informer cache at scrape time, so nothing is
 * kept per object between scrapes and deleted objects disappear. Values and labels are only
 * names, never secret data. Every sink method is cheap and never throws.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type {
  BackendMetrics,
  BackendOperation,
  BackendOutcome,
  CircuitStateName,
} from '../resilience/metrics.ts';
import type { ControllerMetrics, ReconcileResultLabel, WorkqueueMetrics } from '../kube/metrics.ts';

export type AuthEventName = 'login' | 'renew' | 'renew-failed';

export interface OperatorMetrics extends BackendMetrics {
  /** Sink for one work queue; call once per queue (same name → same series). */
  workqueue(name: string): WorkqueueMetrics;
  /** Sink for one controller; its result series start at 0. */
  controller(name: string): ControllerMetrics;
  /**
   * Matches `BackendDeps.onAuthEvent`. The identity (role, ServiceAccount) is deliberately not
   * a label: it is not bounded and says more than a dashboard needs.
   */
  authEvent(backend: string, event: AuthEventName, identity?: string): void;
  /** vaultsync_leader: 1 while this replica holds the lease. */
  setLeader(leader: boolean): void;
}

/** One object as seen in the informer cache at scrape time. */
export interface ResourceSample {
  kind: string;
  namespace: string;
  name: string;
  /** The Ready condition; undefined (no condition yet, or Unknown) leaves the series absent. */
  ready: boolean | undefined;
  /** RFC 3339 time of the last successful sync. */
  lastSyncTime?: string;
}

// client-go: ExponentialBuckets(10e-9, 10, 12), 10ns .. 1000s.
const WORKQUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));
// controller-runtime's reconcile_time_seconds buckets.
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
  1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
const BACKEND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

// Exhaustive at compile time: adding a value to a union without listing it here fails typecheck.
const RECONCILE_RESULTS = Object.keys({
  success: true,
  requeue_after: true,
  error: true,
  terminal_error: true,
} satisfies Record<ReconcileResultLabel, true>) as ReconcileResultLabel[];

const OUTCOMES: ReadonlySet<string> = new Set(
  Object.keys({
    success: true,
    Cancelled: true,
    NotFound: true,
    PermissionDenied: true,
    Throttled: true,
    Unavailable: true,
    InvalidRequest: true,
    Unauthenticated: true,
    TenancyDenied: true,
    CircuitOpen: true,
    Conflict: true,
    Unknown: true,
  } satisfies Record<BackendOutcome, true>),
);
const OPERATIONS: ReadonlySet<string> = new Set(
  Object.keys({
    read: true,
    write: true,
    check: true,
    list: true,
    restore: true,
    delete: true,
  } satisfies Record<BackendOperation, true>),
);
const AUTH_EVENTS: ReadonlySet<string> = new Set(
  Object.keys({ login: true, renew: true, 'renew-failed': true } satisfies Record<AuthEventName, true>),
);

/** vaultsync_backend_circuit_state values. */
export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitStateName, number>> = Object.freeze({
  closed: 0,
  'half-open': 1,
  open: 2,
});

/** Runs a sink body, swallowing anything it throws: metrics must never break the caller. */
function safe<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch {
      // A metric is not worth a failed reconcile.
    }
  };
}

function validSeconds(s: number): boolean {
  return typeof s === 'number' && Number.isFinite(s) && s >= 0;
}

/**
 * Registers every operator metric on `registry` (never on prom-client's global registry), so
 * two registries never collide. Registering twice on one registry throws (a wiring bug).
 */
export function createMetrics(registry: Registry): OperatorMetrics {
  const registers = [registry];
  // Registered in this order, which is the order of the scrape output.
  const workqueue = workqueueMetrics(registers);
  const controller = controllerMetrics(registers);
  const backend = backendMetrics(registers);
  const leader = new Gauge({
    name: 'vaultsync_leader',
    help: 'Whether this replica is the leader (1) or not (0).',
    registers,
  });
  leader.set(0);
  return {
    workqueue,
    controller,
    ...backend,
    setLeader: safe((isLeader: boolean) => leader.set(isLeader ? 1 : 0)),
  };
}

/** client-go's workqueue_* series; one sink per queue name, created on first use. */
function workqueueMetrics(registers: Registry[]): (name: string) => WorkqueueMetrics {
  const labelNames = ['name'] as const;
  const depth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of the work queue.',
    labelNames,
    registers,
  });
  const adds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of keys added to the work queue.',
    labelNames,
    registers,
  });
  const latency = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long a key stays in the work queue before being handed to a worker.',
    labelNames,
    buckets: WORKQUEUE_BUCKETS,
    registers,
  });
  const work = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long processing one key from the work queue takes.',
    labelNames,
    buckets: WORKQUEUE_BUCKETS,
    registers,
  });
  const retries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of rate-limited re-adds handled by the work queue.',
    labelNames,
    registers,
  });
  return memoized((name) => {
    const labels = { name };
    depth.set(labels, 0);
    adds.inc(labels, 0);
    retries.inc(labels, 0);
    return {
      depth: safe((n: number) => depth.set(labels, n)),
      add: safe(() => adds.inc(labels)),
      queueLatency: safe((s: number) => {
        if (validSeconds(s)) latency.observe(labels, s);
      }),
      workDuration: safe((s: number) => {
        if (validSeconds(s)) work.observe(labels, s);
      }),
      retry: safe(() => retries.inc(labels)),
    };
  });
}

/** controller-runtime's controller_runtime_* series; one sink per controller name. */
function controllerMetrics(registers: Registry[]): (name: string) => ControllerMetrics {
  const reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller and result.',
    labelNames: ['controller', 'result'] as const,
    registers,
  });
  const reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller.',
    labelNames: ['controller'] as const,
    buckets: RECONCILE_BUCKETS,
    registers,
  });
  const activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of workers currently running a reconcile, per controller.',
    labelNames: ['controller'] as const,
    registers,
  });
  return memoized((name) => {
    const controller = { controller: name };
    // Every result starts at 0 so rate() and ratios work before the first error.
    for (const result of RECONCILE_RESULTS) reconcileTotal.inc({ controller: name, result }, 0);
    activeWorkers.set(controller, 0);
    return {
      reconcileTotal: safe((result: ReconcileResultLabel) => {
        reconcileTotal.inc({
          controller: name,
          result: RECONCILE_RESULTS.includes(result) ? result : 'error',
        });
      }),
      reconcileDuration: safe((s: number) => {
        if (validSeconds(s)) reconcileTime.observe(controller, s);
      }),
      activeWorkers: safe((n: number) => activeWorkers.set(controller, n)),
    };
  });
}

/** The vaultsync_backend_* series the resilience room and the backends report to. */
function backendMetrics(registers: Registry[]): BackendMetrics & Pick<OperatorMetrics, 'authEvent'> {
  const requests = new Counter({
    name: 'vaultsync_backend_requests_total',
    help: 'Backend calls by backend, operation and outcome (success or error code).',
    labelNames: ['backend', 'operation', 'outcome'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'vaultsync_backend_request_duration_seconds',
    help: 'Duration of backend calls.',
    labelNames: ['backend', 'operation'] as const,
    buckets: BACKEND_BUCKETS,
    registers,
  });
  const throttled = new Counter({
    name: 'vaultsync_backend_throttled_total',
    help: 'Backend calls throttled locally (rate limit) or remotely (429).',
    labelNames: ['backend', 'source'] as const,
    registers,
  });
  const circuit = new Gauge({
    name: 'vaultsync_backend_circuit_state',
    help: 'Circuit breaker state per backend: 0 closed, 1 half-open, 2 open.',
    labelNames: ['backend'] as const,
    registers,
  });
  const coalesced = new Counter({
    name: 'vaultsync_backend_coalesced_total',
    help: 'Backend reads served by a request already in flight or a kept result.',
    labelNames: ['backend'] as const,
    registers,
  });
  const auth = new Counter({
    name: 'vaultsync_backend_auth_events_total',
    help: 'Backend authentication events (login, renew, renew-failed).',
    labelNames: ['backend', 'event'] as const,
    registers,
  });
  return {
    request: safe(
      (backend: string, operation: BackendOperation, outcome: BackendOutcome, durationMs: number) => {
        if (!OPERATIONS.has(operation)) return;
        requests.inc({ backend, operation, outcome: OUTCOMES.has(outcome) ? outcome : 'Unknown' });
        const seconds = durationMs / 1000;
        if (validSeconds(seconds)) duration.observe({ backend, operation }, seconds);
      },
    ),
    throttled: safe((backend: string, source: 'local' | 'remote') => {
      if (source === 'local' || source === 'remote') throttled.inc({ backend, source });
    }),
    circuitState: safe((backend: string, state: CircuitStateName) => {
      const value = Object.hasOwn(CIRCUIT_STATE_VALUE, state) ? CIRCUIT_STATE_VALUE[state] : undefined;
      if (value !== undefined) circuit.set({ backend }, value);
    }),
    coalesced: safe((backend: string) => coalesced.inc({ backend })),
    authEvent: safe((backend: string, event: AuthEventName) => {
      if (AUTH_EVENTS.has(event)) auth.inc({ backend, event });
    }),
  };
}

/** One sink per name: asking again for a name returns the sink made the first time. */
function memoized<T>(make: (name: string) => T): (name: string) => T {
  const made = new Map<string, T>();
  return (name) => {
    let sink = made.get(name);
    if (sink === undefined) {
      sink = make(name);
      made.set(name, sink);
    }
    return sink;
  };
}

/**
 * Per-object gauges computed from `source` (typically the informer caches) at every scrape:
 * `vaultsync_resource_ready{kind,namespace,name}` (1/0, absent when unknown) and
 * `vaultsync_resource_last_sync_timestamp_seconds{kind,namespace,name}`. Each scrape resets
 * and refills them, so deleted objects disappear. A throwing source yields empty gauges, never a
 * failed scrape.
 */
export function registerResourceGauges(registry: Registry, source: () => Iterable<ResourceSample>): void {
  const snapshot = (): ResourceSample[] => {
    try {
      return [...source()];
    } catch {
      return [];
    }
  };

  new Gauge({
    name: 'vaultsync_resource_ready',
    help: 'Whether the resource is Ready (1) or not (0); absent while unknown.',
    labelNames: ['kind', 'namespace', 'name'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of snapshot()) {
        if (r.ready === undefined) continue;
        try {
          this.set({ kind: r.kind, namespace: r.namespace, name: r.name }, r.ready ? 1 : 0);
        } catch {
          // Skip one bad sample, keep the rest.
        }
      }
    },
  });

  new Gauge({
    name: 'vaultsync_resource_last_sync_timestamp_seconds',
    help: 'Unix time of the last successful sync of the resource.',
    labelNames: ['kind', 'namespace', 'name'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of snapshot()) {
        if (r.lastSyncTime === undefined) continue;
        const ms = Date.parse(r.lastSyncTime);
        if (!Number.isFinite(ms)) continue;
        try {
          this.set({ kind: r.kind, namespace: r.namespace, name: r.name }, ms / 1000);
        } catch {
          // Skip one bad sample, keep the rest.
        }
      }
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Certificates (VaultCertificate)

/** One certificate as seen in the informer cache at scrape time. */
export interface CertificateGaugeSample {
  namespace: string;
  name: string;
  /** The issuer (a backend name from the config: bounded). */
  issuer: string;
  /** RFC 3339 times from status; absent ones leave their series out. */
  notBefore?: string;
  notAfter?: string;
  renewalTime?: string;
}

// Issuance takes milliseconds (EC key, local CA) to seconds (RSA 4096, a slow backend).
const ISSUANCE_BUCKETS = [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * `vaultsync_certificate_issuance_duration_seconds{issuer,mode}` and
 * `vaultsync_certificate_issuances_total{issuer,mode,outcome}` (outcome: success or a condition
 * reason, a fixed list). Register once per registry.
 */
export function createCertificateMetrics(registry: Registry): {
  issuance(issuer: string, mode: string, outcome: string, seconds: number): void;
} {
  const duration = new Histogram({
    name: 'vaultsync_certificate_issuance_duration_seconds',
    help: 'Time to obtain a certificate and store it: key, CSR, issuer, Secret write.',
    labelNames: ['issuer', 'mode'] as const,
    buckets: ISSUANCE_BUCKETS,
    registers: [registry],
  });
  const total = new Counter({
    name: 'vaultsync_certificate_issuances_total',
    help: 'Certificate issuance attempts by issuer, mode and outcome (success or the failure reason).',
    labelNames: ['issuer', 'mode', 'outcome'] as const,
    registers: [registry],
  });
  return {
    issuance: safe((issuer: string, mode: string, outcome: string, seconds: number) => {
      const m = mode === 'issue' ? 'issue' : 'sign';
      total.inc({ issuer, mode: m, outcome: /^[A-Za-z]{1,64}$/.test(outcome) ? outcome : 'Unknown' });
      if (outcome === 'success' && validSeconds(seconds)) duration.observe({ issuer, mode: m }, seconds);
    }),
  };
}

/**
 * Per-certificate gauges computed from `source` at every scrape (as cert-manager's collectors):
 * `vaultsync_certificate_expiration_timestamp_seconds`, `..._not_before_timestamp_seconds` and
 * `..._renewal_timestamp_seconds`, labelled {namespace, name, issuer}. Deleted certificates
 * disappear with the next scrape; a throwing source yields empty gauges.
 */
export function registerCertificateGauges(
  registry: Registry,
  source: () => Iterable<CertificateGaugeSample>,
): void {
  const snapshot = (): CertificateGaugeSample[] => {
    try {
      return [...source()];
    } catch {
      return [];
    }
  };
  const gauge = (name: string, help: string, field: 'notBefore' | 'notAfter' | 'renewalTime') =>
    new Gauge({
      name,
      help,
      labelNames: ['namespace', 'name', 'issuer'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const c of snapshot()) {
          const ms = Date.parse(c[field] ?? '');
          if (!Number.isFinite(ms)) continue;
          try {
            this.set({ namespace: c.namespace, name: c.name, issuer: c.issuer }, ms / 1000);
          } catch {
            // Skip one bad sample, keep the rest.
          }
        }
      },
    });
  gauge(
    'vaultsync_certificate_expiration_timestamp_seconds',
    'Unix time at which the certificate in the Secret expires (notAfter).',
    'notAfter',
  );
  gauge(
    'vaultsync_certificate_not_before_timestamp_seconds',
    'Unix time from which the certificate in the Secret is valid (notBefore).',
    'notBefore',
  );
  gauge(
    'vaultsync_certificate_renewal_timestamp_seconds',
    'Unix time at which vaultsync will renew the certificate.',
    'renewalTime',
  );
}
