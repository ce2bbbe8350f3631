// Shows a failure on the VaultCertificate: status (Ready, and Issuing for an issuance attempt),
// one Warning per change, and the delay before the next try. A failure before issuance (no
// issuer, Secret not ours, invalid spec) retries slowly; a failed issuance backs off by the
// attempts counted in status, so a restart does not shorten the wait.
import type { VaultCertificate } from '../../apis/v1alpha1/index.ts';
import { getCondition } from '../../kube/conditions.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import { keyFor } from '../../kube/resources.ts';
import type { StepContext } from './context.ts';
import { type IssuanceFailure, WriteRefused } from './failure.ts';
import type { ObservedSecret } from './observed.ts';
import type { Violation } from './policies.ts';
import { issuanceBackoff } from './renewal.ts';
import { blockedStatus, conditionsOf, failedIssuanceStatus } from './status.ts';
import { recordFailure } from './status-write.ts';
import { blockedWarningIsNew, issuanceWarningIsNew, said } from './warnings.ts';

/** Warns when `isNew`; remembers what was said while status could not record it. */
function warn(
  c: StepContext,
  vc: VaultCertificate,
  key: string,
  failure: { reason: string; message: string },
  isNew: boolean,
  stored: boolean,
): void {
  if (isNew) void c.deps.events.warning(vc, failure.reason, failure.message);
  if (stored) c.memory.warnedUnrecorded.delete(key);
  else c.memory.warnedUnrecorded.set(key, said(failure.reason, failure.message));
}

/** A failure before any issuance attempt (no issuer, Secret not ours): Ready=False, slow retry. */
export async function blocked(
  c: StepContext,
  vc: VaultCertificate,
  key: string,
  reason: string,
  message: string,
): Promise<ReconcileResult> {
  const previous = getCondition(conditionsOf(vc), 'Ready');
  const stored = await recordFailure(c, vc, key, blockedStatus(vc, reason, message, c.deps.clock.now()));
  const isNew = blockedWarningIsNew(previous, reason, message, c.memory.warnedUnrecorded.get(key));
  warn(c, vc, key, { reason, message }, isNew, stored);
  return { requeueAfter: c.userErrorRetryMs };
}

/** A failed issuance attempt: counted in status, backed off exponentially (or by Retry-After). */
export async function failed(
  c: StepContext,
  vc: VaultCertificate,
  key: string,
  observed: ObservedSecret,
  trigger: Violation,
  failure: IssuanceFailure,
  ctx: ReconcileContext,
): Promise<ReconcileResult> {
  const now = c.deps.clock.now();
  const attempts = (vc.status?.failedIssuanceAttempts ?? 0) + 1;
  const seed = vc.metadata?.uid ?? keyFor(vc.metadata?.namespace, vc.metadata?.name ?? '');
  const delayMs = Math.max(issuanceBackoff(attempts, seed), failure.retryAfterMs ?? 0);
  const writeRefused = failure instanceof WriteRefused;
  const status = failedIssuanceStatus({
    vc,
    observed,
    trigger,
    failure,
    writeRefused,
    attempts,
    delayMs,
    now,
  });
  const stored = await recordFailure(c, vc, key, status);
  ctx.log.info('Certificate issuance failed', {
    reason: failure.reason,
    attempts,
    retryInMs: delayMs,
    why: trigger.reason,
  });
  const conditions = {
    ready: getCondition(conditionsOf(vc), 'Ready'),
    issuing: getCondition(conditionsOf(vc), 'Issuing'),
  };
  const isNew = issuanceWarningIsNew(
    conditions,
    failure.reason,
    failure.message,
    c.memory.warnedUnrecorded.get(key),
  );
  warn(c, vc, key, failure, isNew, stored);
  return { requeueAfter: delayMs };
}
