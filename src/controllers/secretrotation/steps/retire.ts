// Retiring (TwoPhase): previousValueRetention after the rollout, the `_previous` keys are removed
// by one more write; the reload controller is told first (expectRetirement) that the Secret
// changes it causes need no restart.
import { SecretRotationEventReason as EventReason } from '../../../apis/v1alpha1/index.ts';
import type { ReconcileResult } from '../../../kube/controller.ts';
import { type Condition, getCondition } from '../../../kube/conditions.ts';
import { readPath, writePath } from '../backend-io.ts';
import { type BackendRun, POLL_MS, namespaceOf, refreshReaders, requeue, stampOf } from '../context.ts';
import { generatedKeys, hasPreviousValues, retiredData } from '../data.ts';
import { nextPhase, phaseOf } from '../phases.ts';
import { retentionOf } from '../spec.ts';
import { retiredStatus } from '../status.ts';
import { writeStatus } from '../status-write.ts';

/** How long a retirement write's Secret changes are kept from restarting consumers. */
const RETIRE_SUPPRESS_MS = 5 * 60_000;

export async function retire(run: BackendRun): Promise<ReconcileResult> {
  const { sr, env } = run;
  const status = sr.status ?? {};
  const now = env.clock.now();
  const rolled = getCondition(status.conditions as Condition[] | undefined, 'RolledOut');
  const due =
    (rolled?.status === 'True' ? Date.parse(rolled.lastTransitionTime) : now) + retentionOf(sr.spec);
  if (now < due) return requeue(due - now + 50);
  const keys = generatedKeys(sr.spec.generate);
  const latest = await readPath(run);
  let version = latest?.version ?? status.currentVersion;
  if (latest && hasPreviousValues(latest.data.reveal(), keys)) {
    const { backend, path } = sr.spec;
    env.reload.expectRetirement({ namespace: namespaceOf(sr), backend, path }, now + RETIRE_SUPPRESS_MS);
    version = await writePath(run, retiredData(latest.data.reveal(), keys), latest.version);
    env.metrics.write('retire');
    refreshReaders(run);
    run.ctx.log.info('Retired previous value', { path: sr.spec.path, version });
    const message = `Retired the previous value of ${sr.spec.path} (version ${version})`;
    await env.events.normal(sr, EventReason.PreviousValueRetired, message);
  }
  await writeStatus(
    run,
    retiredStatus(status, nextPhase(phaseOf(status.phase), 'Retired'), version, stampOf(run)),
  );
  return requeue(POLL_MS);
}
