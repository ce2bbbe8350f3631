/**
 * What the backend layer reports; implemented over prom-client in `observability/`. Labels
 * are bounded: backend names come from the config, outcomes from a fixed list.
 */
import type { BackendErrorCode } from './errors.ts';

/** `list`: one page of a find; `restore`: a rollback's write (or the native call); `delete`: a delete. */
export type BackendOperation = 'read' | 'write' | 'check' | 'list' | 'restore' | 'delete';
/** `success`, an error code, or `Cancelled` (the caller gave up). */
export type BackendOutcome = 'success' | 'Cancelled' | BackendErrorCode;
export type CircuitStateName = 'closed' | 'open' | 'half-open';

export interface BackendMetrics {
  /** One call finished (suggested: `vaultsync_backend_requests_total` + `..._duration_seconds`). */
  request(backend: string, operation: BackendOperation, outcome: BackendOutcome, durationMs: number): void;
  /** A call was throttled: `local` by our bucket, `remote` by the backend (429). */
  throttled(backend: string, source: 'local' | 'remote'): void;
  /** The circuit breaker changed state (suggested gauge: `vaultsync_backend_circuit_state`). */
  circuitState(backend: string, state: CircuitStateName): void;
  /** A read was served by a request already in flight or a kept result. */
  coalesced(backend: string): void;
}

export const noopBackendMetrics: BackendMetrics = {
  request: () => undefined,
  throttled: () => undefined,
  circuitState: () => undefined,
  coalesced: () => undefined,
};
