// Shows a failure on the VaultCertificate through the shared failure path (controllers/failure's
// FailureReporter: status written, one Warning per change). A failure before issuance (no issuer,
// Secret not ours, invalid spec) is Ready=False and retried at the user-error interval; a failed
// issuance is counted in status and backed off by those attempts, so a restart does not shorten
// the wait, while Ready stays True as long as a certificate only due for renewal is valid.
import type { VaultCertificate, VaultCertificateStatus } from '../../apis/v1alpha1/index.ts';
import { type Condition, getCondition } from '../../kube/conditions.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import { keyFor } from '../../kube/resources.ts';
import type { Failure } from '../failure/index.ts';
import type { StepContext } from './context.ts';
import { WriteRefused } from './failure.ts';
import type { ObservedSecret } from './observed.ts';
import type { Violation } from './policies.ts';
import { issuanceBackoff } from './renewal.ts';
import { blockedStatus, conditionsOf, failedIssuanceStatus } from './status.ts';
import { recordFailure } from './status-write.ts';
import { shownIn } from './warnings.ts';

/** Records `status` and warns once per change; `shown` is the condition that showed it before. */
async function report(
  c: StepContext,
  vc: VaultCertificate,
  key: string,
  failure: Failure,
  shown: Condition | undefined,
  status: VaultCertificateStatus,
): Promise<void> {
  await c.failures.report({
    key,
    failure,
    previous: shown,
    record: async () => ({ stored: await recordFailure(c, vc, key, status) }),
    // The Warning and the webhook's CertificateFailed in one; not awaited: a slow Event write
    // never holds a worker (events never reject).
    warn: (reason, message) =>
      void c.deps.events.fact({
        type: 'CertificateFailed',
        object: vc,
        reason,
        message,
        secretName: vc.spec.secretName,
      }),
  });
}

/** A failure before any issuance attempt (no issuer, Secret not ours): Ready=False, slow retry. */
export async function blocked(
  c: StepContext,
  vc: VaultCertificate,
  key: string,
  failure: Failure,
): Promise<ReconcileResult> {
  const status = blockedStatus(vc, failure.reason, failure.message, c.deps.clock.now());
  await report(c, vc, key, failure, getCondition(conditionsOf(vc), 'Ready'), status);
  return { requeueAfter: c.userErrorRetryMs };
}

/** A failed issuance attempt: counted in status, backed off exponentially (or by Retry-After). */
export async function failed(
  c: StepContext,
  vc: VaultCertificate,
  key: string,
  observed: ObservedSecret,
  trigger: Violation,
  failure: Failure,
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
  const shown = shownIn(
    { ready: getCondition(conditionsOf(vc), 'Ready'), issuing: getCondition(conditionsOf(vc), 'Issuing') },
    failure,
  );
  await report(c, vc, key, failure, shown, status);
  ctx.log.info('Certificate issuance failed', {
    reason: failure.reason,
    attempts,
    retryInMs: delayMs,
    why: trigger.reason,
  });
  return { requeueAfter: delayMs };
}
