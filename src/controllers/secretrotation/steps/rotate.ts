// Rotating: generate the new values and write them once, with check-and-set on the version the
// status names (previousVersion). After a crash the next reconcile finds a newer version and
// adopts it instead of writing again; a conflict starts over from what is there now.
import {
  SecretRotationEventReason as EventReason,
  type SecretRotationStatus,
} from '../../../apis/v1alpha1/index.ts';
import type { ReconcileResult } from '../../../kube/controller.ts';
import { formatTime } from '../../../kube/conditions.ts';
import { generateValues } from '../../../secrets/generators.ts';
import { readPath, writePath } from '../backend-io.ts';
import { type BackendRun, POLL_MS, refreshReaders, requeue, stampOf } from '../context.ts';
import { generatedKeys, hasPreviousValues, rotatedData } from '../data.ts';
import { isConflict } from '../failure.ts';
import { nextPhase, phaseOf } from '../phases.ts';
import { nextRotationAfter } from '../schedule.ts';
import { GENERATOR_DEFAULTS, strategyOf } from '../spec.ts';
import { rollingOutStatus } from '../status.ts';
import { writeStatus } from '../status-write.ts';

export async function write(run: BackendRun): Promise<ReconcileResult> {
  const { sr, env } = run;
  const status = sr.status ?? {};
  const expected = status.previousVersion;
  const { version, keptPrevious } = await newVersion(run, expected);
  const rotatedAt = Date.parse(formatTime(env.clock.now()));
  const nextAt = sr.spec.suspend ? undefined : nextRotationAfter(sr.spec, rotatedAt);
  const next = rollingOutStatus(
    status,
    nextPhase(phaseOf(status.phase), 'Written'),
    { path: sr.spec.path, version, rotatedAt, nextAt, previousVersion: keptPrevious ? expected : undefined },
    stampOf(run),
  );
  await writeStatus(run, next);
  env.memory.requested.delete(run.key);
  const strategy = strategyOf(sr.spec);
  run.ctx.log.info('Rotated secret', { backend: sr.spec.backend, path: sr.spec.path, version, strategy });
  const kept = keptPrevious ? ' (previous value kept)' : '';
  await env.events.fact({
    type: 'RotationCompleted',
    object: sr,
    reason: EventReason.Rotated,
    message: `Wrote version ${version} of ${sr.spec.path}${kept}`,
    backend: sr.spec.backend,
    path: sr.spec.path,
    version,
  });
  env.memory.refreshedAt.set(run.key, env.clock.now());
  refreshReaders(run);
  return requeue(POLL_MS);
}

/** The version this rotation wrote: adopted when written already, else generated and written now. */
async function newVersion(
  run: BackendRun,
  expected: string | undefined,
): Promise<{ version: string; keptPrevious: boolean }> {
  const { sr, env } = run;
  const keys = generatedKeys(sr.spec.generate);
  const twoPhase = strategyOf(sr.spec) === 'TwoPhase';
  const latest = await readPath(run);
  if (latest && latest.version !== expected) {
    // Written already (by this operator before a restart, or by someone else): adopt it.
    run.ctx.log.info('Adopted a version written since the rotation started', { version: latest.version });
    const keptPrevious = twoPhase && expected !== undefined && hasPreviousValues(latest.data.reveal(), keys);
    return { version: latest.version, keptPrevious };
  }
  const generated = await generateValues(sr.spec.generate, GENERATOR_DEFAULTS, env.random);
  const data = rotatedData(latest?.data.reveal(), generated.reveal(), keys, strategyOf(sr.spec));
  let version: string;
  try {
    version = await writePath(run, data, latest?.version ?? '0');
  } catch (err) {
    if (isConflict(err)) await replaceAgain(run);
    throw err;
  }
  env.metrics.write('rotate');
  return { version, keptPrevious: twoPhase && expected !== undefined && hasPreviousValues(data, keys) };
}

/** Someone wrote in between: the rotation starts over from the version there now. */
async function replaceAgain(run: BackendRun): Promise<void> {
  const now = await readPath(run);
  const again: SecretRotationStatus = { ...run.sr.status };
  delete again.previousVersion;
  if (now) again.previousVersion = now.version;
  await writeStatus(run, again);
}
