// Reconciles one SecretRotation: checks what needs no backend (spec, schedule, backend, enabled
// features), then runs the step its phase names (phases.ts: the table of phases, their steps and
// transitions; steps/: one module per step). Every failure goes through steps/fail.ts.
//
// Rotating: the status names the version the write must replace (previousVersion) before the
// backend is written, with check-and-set on that version. After a crash the next reconcile reads
// the backend: still that version → write; a newer one → the write happened, adopt it. So a
// rotation is written at most once, and its values never live only in memory.
import { SecretRotationReason } from '../../apis/v1alpha1/index.ts';
import type { Backend } from '../../backends/types.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import { cryptoRandom } from '../../secrets/generators.ts';
import { Failure, FailureReporter, USER_ERROR_RETRY_MS } from '../failure/index.ts';
import { invalidSpecMessage } from '../invalid-spec.ts';
import {
  type BackendRun,
  POLL_MS,
  type RotationEnv,
  type Run,
  type SecretRotationReconcilerDeps,
  requeue,
} from './context.ts';
import { classifyError } from './failure.ts';
import { disabledRestartMode } from './features.ts';
import { noopRotationMetrics } from './metrics.ts';
import { type PhaseFacts, type Step, phaseOf, stepFor } from './phases.ts';
import { scheduleError } from './schedule.ts';
import { manualToken, rollbackToToken, strategyOf, triggerTokens } from './spec.ts';
import { readyOf } from './status.ts';
import { fail } from './steps/fail.ts';
import { idle } from './steps/idle.ts';
import { rolledBackFollowUp } from './steps/roll-back.ts';
import { rollBackTo } from './steps/roll-back-to.ts';
import { rollOut } from './steps/roll-out.ts';
import { write } from './steps/rotate.ts';
import { retire } from './steps/retire.ts';

/** Ready reasons of a failed rollout: the rotation keeps watching its consumers. */
const ROLLOUT_FAILURES: ReadonlySet<string> = new Set([
  SecretRotationReason.RolloutNotReady,
  SecretRotationReason.VaultSecretNotSynced,
  SecretRotationReason.RollbackFailed,
]);

export function createSecretRotationReconciler(deps: SecretRotationReconcilerDeps) {
  const env: RotationEnv = {
    ...deps,
    random: deps.random ?? cryptoRandom,
    metrics: deps.metrics ?? noopRotationMetrics,
    userErrorRetryMs: deps.userErrorRetryMs ?? USER_ERROR_RETRY_MS,
    failures: new FailureReporter(deps.userErrorRetryMs ?? USER_ERROR_RETRY_MS),
  };
  return async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const sr = env.rotations.get(key);
    if (!sr || sr.metadata?.deletionTimestamp) {
      env.memory.forget(key);
      env.failures.forget(key);
      return;
    }
    // A private copy: steps update sr.status as they write it.
    const run: Run = { env, key, ctx, sr: { ...sr, status: sr.status ? { ...sr.status } : undefined } };
    try {
      // A failure that needs a person waits for the user-error delay, a spec change or a new
      // rotate-now or rollback-to token; its own status write must not turn into a retry loop.
      const current = { generation: run.sr.metadata?.generation, token: triggerTokens(run.sr) };
      const wait = env.memory.holdLeft(key, current, env.clock.now(), env.userErrorRetryMs);
      if (wait > 0) return requeue(wait);
      env.memory.held.delete(key);
      return await runStep({ ...run, backend: checkedBackend(run) });
    } catch (err) {
      // Lost leadership (fencing), shutdown and transient apiserver trouble are thrown on.
      const classified = classifyError(err, ctx.signal.aborted);
      if (classified.rethrow) throw err;
      if (classified.unexpected)
        ctx.log.error('Reconcile failed unexpectedly', { error: classified.unexpected });
      return fail(run, classified.failure);
    }
  };
}

/** What needs no backend call: the spec as the CRD checks it, the schedule, the backend, features. */
function checkedBackend({ env, sr }: Run): Backend {
  // The CRD's rules again: an object stored past them gets InvalidSpec, not a throw or a loop.
  const invalid = invalidSpecMessage('SecretRotation', sr.spec);
  if (invalid) throw new Failure(SecretRotationReason.InvalidSpec, invalid);
  const unreadable = scheduleError(sr.spec);
  if (unreadable) throw new Failure(SecretRotationReason.InvalidSchedule, unreadable);
  const backend = env.backends.get(sr.spec.backend);
  if (!backend) {
    const message = `backend "${sr.spec.backend}" is not in the operator configuration`;
    throw new Failure(SecretRotationReason.BackendNotFound, message);
  }
  const disabled = disabledRestartMode(sr.spec, env.annotatePods ?? false);
  if (disabled) throw new Failure(SecretRotationReason.AnnotatePodsDisabled, disabled);
  return backend;
}

/** The facts phases.ts picks a step by. */
function factsOf({ env, sr, key }: Run): PhaseFacts {
  const status = sr.status ?? {};
  const now = env.clock.now();
  return {
    manual: manualToken(sr) !== undefined,
    rollbackTo: rollbackToToken(sr) !== undefined,
    rolloutFailed: status.phase === 'Failed' && ROLLOUT_FAILURES.has(readyOf(status)?.reason ?? ''),
    replaceDue:
      strategyOf(sr.spec) === 'Replace' &&
      status.nextRotationTime !== undefined &&
      Date.parse(status.nextRotationTime) <= now,
    userErrorWaitMs: (env.memory.failedAt.get(key) ?? 0) + env.userErrorRetryMs - now,
  };
}

const STEPS: Record<Step, (run: BackendRun, facts: PhaseFacts) => Promise<ReconcileResult>> = {
  idle,
  write,
  rollOut,
  retire,
  wait: async (_run, facts) => requeue(facts.userErrorWaitMs),
  followUpThenIdle,
  rollBackTo,
};

async function runStep(run: BackendRun): Promise<ReconcileResult> {
  const facts = factsOf(run);
  return STEPS[stepFor(phaseOf(run.sr.status?.phase), facts)](run, facts);
}

/**
 * RolledBack: restarts onto the rolled-back value are asked for once its readers have it; the
 * schedule goes on meanwhile (a reader that never syncs must not hold it up).
 */
async function followUpThenIdle(run: BackendRun, facts: PhaseFacts): Promise<ReconcileResult> {
  const done = facts.manual || rolledBackFollowUp(run);
  const result = await idle(run);
  if (done || run.sr.status?.phase !== 'RolledBack') return result;
  return requeue(Math.min(result?.requeueAfter ?? POLL_MS, POLL_MS));
}
