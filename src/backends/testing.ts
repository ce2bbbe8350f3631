// Test-only: what the guard's unit tests share (metrics that record, default options, the
// BackendError a promise rejects with). Never imported by production code.
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { BackendError } from '../resilience/errors.ts';
import type { BackendMetrics } from '../resilience/metrics.ts';
import type { GuardOptions } from './guard.ts';

/** Records every report: requests as `<backend> <operation> <outcome>`. */
export class RecordingMetrics implements BackendMetrics {
  readonly requests: string[] = [];
  readonly throttles: string[] = [];
  readonly states: string[] = [];
  coalescedCount = 0;
  request(backend: string, op: string, outcome: string): void {
    this.requests.push(`${backend} ${op} ${outcome}`);
  }
  throttled(_backend: string, source: string): void {
    this.throttles.push(source);
  }
  circuitState(_backend: string, state: string): void {
    this.states.push(state);
  }
  coalesced(): void {
    this.coalescedCount++;
  }
}

/** Guard options for tests: namespaces `team-*`, each its own `{namespace}/**`. */
export const guardOptions = (over: Partial<GuardOptions> = {}): GuardOptions => ({
  allowedNamespaces: ['team-*'],
  allowedPaths: ['{namespace}/**'],
  allowedWritePaths: ['{namespace}/**'],
  rateLimit: { qps: 10, burst: 10, maxWait: 10_000 },
  circuitBreaker: { failureThreshold: 3, halfOpenAfter: 60_000 },
  coalesce: { ttl: 0 },
  timeout: 5_000,
  ...over,
});

/** The BackendError `p` rejects with (fails when it resolves or rejects with anything else). */
export async function errorOf(p: Promise<unknown>): Promise<BackendError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof BackendError, `not a BackendError: ${inspect(err)}`);
    return err;
  }
  assert.fail('expected an error');
}
