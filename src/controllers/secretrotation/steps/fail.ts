// Records a failed reconcile through the shared failure path (controllers/failure): Ready=False
// with its reason, one Warning per change of reason or message, and the retry. The rotation's
// own bookkeeping: a user error while writing fails the rotation (phases.ts), and a user error
// waits out its delay (memory.failedAt; memory.held for one that keeps the phase).
import type { ReconcileResult } from '../../../kube/controller.ts';
import { type Failure, settle } from '../../failure/index.ts';
import { type Run, stampOf, warnFailed } from '../context.ts';
import { failsRotation } from '../failure.ts';
import { phaseAfterFailure, phaseOf } from '../phases.ts';
import { KEEPS_PHASE } from '../reasons.ts';
import { triggerTokens } from '../spec.ts';
import { failureStatus, readyOf } from '../status.ts';
import { recordFailure } from '../status-write.ts';

export async function fail(run: Run, failure: Failure): Promise<ReconcileResult> {
  const { env, sr, key } = run;
  const status = sr.status ?? {};
  const phase =
    status.phase === undefined ? undefined : phaseAfterFailure(phaseOf(status.phase), failsRotation(failure));
  if (phase === 'Failed' && status.phase !== 'Failed') env.metrics.rotation('Failed');
  const { retry } = await env.failures.report({
    key,
    failure,
    previous: readyOf(status),
    record: async () => ({
      stored: await recordFailure(run, failureStatus(status, failure, phase, stampOf(run))),
    }),
    warn: (reason, message) => warnFailed(run, reason, message),
  });
  if (retry.kind === 'userError') {
    const now = env.clock.now();
    env.memory.failedAt.set(key, now);
    if (KEEPS_PHASE.has(failure.reason)) {
      env.memory.held.set(key, { at: now, generation: sr.metadata?.generation, token: triggerTokens(sr) });
    }
  }
  return settle(failure, retry);
}
