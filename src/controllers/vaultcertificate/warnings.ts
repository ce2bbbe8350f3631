// When a failed issuance is already shown, for the shared failure path's one-Warning-per-change
// (controllers/failure warningDue judges by Ready=False). A failing renewal keeps Ready=True while
// the certificate is valid and quotes the failure in Issuing instead: that counts as shown. Pure.
import type { Condition } from '../../kube/conditions.ts';
import type { Failure } from '../failure/index.ts';

/**
 * The condition that shows `failure`, for FailureReporter's `previous`: Ready itself, or — when
 * Issuing quotes the failure (Ready stayed True) — Ready as it would read had it gone False.
 */
export function shownIn(
  conditions: { ready: Condition | undefined; issuing: Condition | undefined },
  failure: Pick<Failure, 'reason' | 'message'>,
): Condition | undefined {
  const { ready, issuing } = conditions;
  const quoted = issuing?.message?.includes(`(${failure.reason}): ${failure.message}.`) ?? false;
  if (!quoted) return ready;
  return {
    ...(ready ?? issuing!),
    type: 'Ready',
    status: 'False',
    reason: failure.reason,
    message: failure.message,
  };
}
