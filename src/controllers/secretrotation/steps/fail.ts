// Records a failed reconcile: Ready=False with its reason, one Warning per change of reason or
// message, and the retry: transient with backoff (or Retry-After), a user's fault after a delay.
import { RetryAfterError, type ReconcileResult } from '../../../kube/controller.ts';
import { type Run, stampOf } from '../context.ts';
import { type RotationFailure, failsRotation } from '../failure.ts';
import { phaseAfterFailure, phaseOf } from '../phases.ts';
import { KEEPS_PHASE, Reason } from '../reasons.ts';
import { manualToken } from '../spec.ts';
import { failureStatus, readyOf } from '../status.ts';
import { recordFailure } from '../status-write.ts';

export async function fail(run: Run, failure: RotationFailure): Promise<ReconcileResult> {
  const { env, sr, key, ctx } = run;
  const status = sr.status ?? {};
  const previous = readyOf(status);
  const phase =
    status.phase === undefined ? undefined : phaseAfterFailure(phaseOf(status.phase), failsRotation(failure));
  if (phase === 'Failed' && status.phase !== 'Failed') env.metrics.rotation('Failed');
  if (failure.reason === Reason.InternalError) ctx.log.error('Reconcile failed unexpectedly', {});
  const stored = await recordFailure(run, failureStatus(status, failure, phase, stampOf(run)));
  // One Warning per change: judged by the stored Ready condition and, while the status cannot
  // be written, by what this replica said last.
  const said = `${failure.reason}\n${failure.message}`;
  const same =
    (previous?.status === 'False' &&
      previous.reason === failure.reason &&
      previous.message === failure.message) ||
    env.memory.warned.get(key) === said;
  if (!same) await env.events.warning(sr, failure.reason, failure.message);
  if (stored) env.memory.warned.delete(key);
  else env.memory.warned.set(key, said);
  if (failure.retryAfterMs !== undefined) throw new RetryAfterError(failure.message, failure.retryAfterMs);
  if (failure.transient) throw failure;
  const now = env.clock.now();
  env.memory.failedAt.set(key, now);
  if (KEEPS_PHASE.has(failure.reason)) {
    env.memory.held.set(key, { at: now, generation: sr.metadata?.generation, token: manualToken(sr) });
  }
  return { requeueAfter: env.userErrorRetryMs };
}
