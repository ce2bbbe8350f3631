// A rollout that failed (not ready in time, or the rollback could not be written): Failed with
// its reason, one Warning, and still watched: consumers that become ready later complete it.
import { SecretRotationReason } from '../../../apis/v1alpha1/index.ts';
import type { ReconcileResult } from '../../../kube/controller.ts';
import { type Run, WATCH_FAILED_MS, requeue, stampOf, warnFailed } from '../context.ts';
import { nextPhase, phaseOf } from '../phases.ts';
import { rolloutFailedStatus } from '../status.ts';
import { writeStatus } from '../status-write.ts';

/** Not ready in time (or the rollback failed): Failed, and still watched. */
export async function rolloutFailed(
  run: Run,
  reason: SecretRotationReason,
  message: string,
): Promise<ReconcileResult> {
  const { sr, env } = run;
  const status = sr.status ?? {};
  const event = reason === SecretRotationReason.RollbackFailed ? 'RollbackFailed' : 'NotReadyInTime';
  const next = rolloutFailedStatus(
    status,
    nextPhase(phaseOf(status.phase), event),
    reason,
    message,
    stampOf(run),
  );
  await writeStatus(run, next);
  env.metrics.rotation('Failed');
  await warnFailed(run, reason, message);
  // Still watched: consumers that become ready later complete the rotation.
  return requeue(WATCH_FAILED_MS);
}
