// A rollback asked for by hand (the vaultsync.io/rollback-to annotation, which the API's
// `:rollback` writes too), answered once in any phase but Rotating: the version it names becomes
// the newest by `backend.restore` with check-and-set on the latest (tenancy as a write:
// allowedWritePaths), the VaultSecrets reading the path are asked to read it at once, and the
// rotation follows it as a rollout (RollingOut: each consumer restarted once, then ready).
// Refused — no such version, denied, a backend that cannot restore — it is answered with
// RollbackRefused (Failed) and nothing is written. The answer's digest is stored with the
// outcome, so a restart never repeats it; a restore written just before a restart is found by
// its keyed MAC and adopted, not written twice.
import {
  SecretRotationEventReason as EventReason,
  SecretRotationReason,
  tokenDigest,
} from '../../../apis/v1alpha1/index.ts';
import type { RemoteSecret } from '../../../backends/types.ts';
import type { ReconcileResult } from '../../../kube/controller.ts';
import { formatTime } from '../../../kube/conditions.ts';
import { macEqual } from '../../../secrets/hmac.ts';
import { readPath, restorePath } from '../backend-io.ts';
import {
  type BackendRun,
  POLL_MS,
  refreshReaders,
  requeue,
  rotationMac,
  stampOf,
  warnFailed,
} from '../context.ts';
import { type RollbackToPlan, restoreRefusal, rollbackTarget, rollbackToPlan } from '../manual-rollback.ts';
import { nextPhase, phaseOf } from '../phases.ts';
import { nextRotationAfter } from '../schedule.ts';
import { rollbackToToken } from '../spec.ts';
import { rollbackRefusedStatus, rolledBackToStatus } from '../status.ts';
import { writeStatus } from '../status-write.ts';

export async function rollBackTo(run: BackendRun): Promise<ReconcileResult> {
  const token = rollbackToToken(run.sr);
  // Picked only while a value waits (phases.ts); answered meanwhile, the phase's own step runs next.
  if (token === undefined) return requeue(0);
  const handled = tokenDigest(token);
  const target = rollbackTarget(token);
  if ('invalid' in target) return refuse(run, handled, target.invalid);
  const { path } = run.sr.spec;
  try {
    const plan = await planFor(run, target.version);
    if ('refused' in plan) return await refuse(run, handled, plan.refused);
    if ('unchanged' in plan) return await answered(run, handled, plan.unchanged);
    const version = 'current' in plan ? plan.current : await restorePath(run, plan.restore);
    if ('restore' in plan) run.env.metrics.write('rollback');
    return await rolledBackTo(run, handled, target.version, version);
  } catch (err) {
    const refused = restoreRefusal(err, path, target.version);
    if (refused === undefined) throw err;
    return refuse(run, handled, refused);
  }
}

/** The latest version and the one asked for, compared by the rotation's keyed MAC (no value kept). */
async function planFor(run: BackendRun, version: string): Promise<RollbackToPlan> {
  const seen = (s: RemoteSecret | undefined) =>
    s && { version: s.version, mac: rotationMac(run, s.data.reveal()) };
  const latest = seen(await readPath(run));
  const target = latest && latest.version !== version ? seen(await readPath(run, version)) : latest;
  return rollbackToPlan(run.sr.spec.path, version, latest, target, macEqual);
}

/** Written (or found written): the readers read it now, the consumers follow as in a rollout. */
async function rolledBackTo(
  run: BackendRun,
  handledToken: string,
  from: string,
  version: string,
): Promise<ReconcileResult> {
  const { sr, env } = run;
  const status = sr.status ?? {};
  const rolledBackAt = Date.parse(formatTime(env.clock.now()));
  const nextAt = sr.spec.suspend ? undefined : nextRotationAfter(sr.spec, rolledBackAt);
  const next = rolledBackToStatus(
    status,
    nextPhase(phaseOf(status.phase), 'RolledBackTo'),
    { path: sr.spec.path, from, version, handledToken, rolledBackAt, nextAt },
    stampOf(run),
  );
  await writeStatus(run, next);
  env.memory.requested.delete(run.key);
  env.memory.refreshedAt.set(run.key, env.clock.now());
  refreshReaders(run, 'Rollback');
  run.ctx.log.info('Rolled back to an earlier version', { path: sr.spec.path, from, version });
  const message = `Rolled back ${sr.spec.path} to version ${from}: its value is version ${version} now`;
  await env.events.normal(sr, EventReason.RolledBackTo, message);
  return requeue(POLL_MS);
}

/** The version asked for is the latest already: answered, the phase goes on. */
async function answered(run: BackendRun, handledToken: string, version: string): Promise<ReconcileResult> {
  await writeStatus(run, { ...run.sr.status, rollbackToHandled: handledToken });
  run.ctx.log.info('Rollback asked for the latest version: nothing to do', {
    path: run.sr.spec.path,
    version,
  });
  return requeue(0);
}

/** Answered with a refusal: Failed with RollbackRefused and one Warning; nothing written. */
async function refuse(run: BackendRun, handledToken: string, message: string): Promise<ReconcileResult> {
  const status = run.sr.status ?? {};
  const phase = nextPhase(phaseOf(status.phase), 'RollbackRefused');
  await writeStatus(run, rollbackRefusedStatus(status, phase, handledToken, message, stampOf(run)));
  run.ctx.log.info('Refused a rollback', { path: run.sr.spec.path, why: message });
  await warnFailed(run, SecretRotationReason.RollbackRefused, message);
  return requeue(POLL_MS);
}
