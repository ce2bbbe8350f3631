// RolledBack (TwoPhase, rollbackOnFailure): the consumers did not become ready in time, so the
// previous value becomes the current value again, as a new backend version written with
// check-and-set on the version this rotation wrote (a path changed since is never overwritten).
// The VaultSecrets are asked to read it at once; once they have, the consumers are restarted onto
// it (rolledBackFollowUp). After a crash between that write and its status write, the next
// reconcile finds the latest version equal (keyed HMAC) to what the rollback writes and finishes
// as RolledBack, writing nothing again.
import { SecretRotationReason } from '../../../apis/v1alpha1/index.ts';
import type { VaultSecret } from '../../../apis/v1alpha1/index.ts';
import type { RemoteSecret } from '../../../backends/types.ts';
import type { ReconcileResult } from '../../../kube/controller.ts';
import { macEqual } from '../../../secrets/hmac.ts';
import { rotationRestartPolicy } from '../../shared/restart-policy.ts';
import { readersOf } from '../../shared/source-refs.ts';
import { workloadKey } from '../../shared/workloads.ts';
import { readPath, writePath } from '../backend-io.ts';
import { affectedDigests, consumersOf, newerReaderVersion, readerSynced, writtenAt } from '../consumers.ts';
import {
  type BackendRun,
  POLL_MS,
  REFRESH_AGAIN_MS,
  type Run,
  nameOf,
  namespaceOf,
  refreshReaders,
  requestRestart,
  requeue,
  rotationMac,
  stampOf,
  versionMac,
  warnFailed,
} from '../context.ts';
import { generatedKeys, rolledBackData } from '../data.ts';
import { nextPhase, phaseOf } from '../phases.ts';
import { rollbackPart, rollbackPlan } from '../rollback.ts';
import { rolledBackStatus } from '../status.ts';
import { writeStatus } from '../status-write.ts';
import { rolloutFailed } from './rollout-failed.ts';

/** The consumers were not ready in time (`notReady` says which): write the previous value back. */
export async function rollBack(run: BackendRun, notReady: string): Promise<ReconcileResult> {
  const { sr } = run;
  const failedVersion = sr.status?.currentVersion ?? '';
  const latest = await readPath(run);
  if (latest && latest.version !== failedVersion && (await rollbackWritten(run, latest))) {
    // Written before the operator stopped, its status write lost: finish it, write nothing.
    return rolledBack(run, latest.version, notReady);
  }
  const keys = generatedKeys(sr.spec.generate);
  const current = latest && { version: latest.version, data: latest.data.reveal() };
  const plan = rollbackPlan(sr.spec.path, failedVersion, current, keys);
  if ('refused' in plan) {
    return rolloutFailed(
      run,
      SecretRotationReason.RollbackFailed,
      `${notReady}; not rolled back: ${plan.refused}`,
    );
  }
  const version = await writePath(run, plan.data, plan.cas);
  run.env.metrics.write('rollback');
  return rolledBack(run, version, notReady);
}

/**
 * While rolling out: a reader synced a version after the one this rotation wrote. If it is this
 * rotation's rollback, written just before the operator stopped (its status write lost), finish
 * that instead of rolling the rolled-back data out as if it were the rotation (checked once per
 * such version: one backend read). Undefined when there is nothing to finish.
 */
export async function finishLostRollback(
  run: BackendRun,
  readers: readonly VaultSecret[],
): Promise<ReconcileResult | undefined> {
  const { sr, env } = run;
  const version = sr.status?.currentVersion ?? '';
  const newer = newerReaderVersion(readers, sr.spec.path, version);
  if (newer === undefined || env.memory.rollbackChecked.get(run.key) === newer) return undefined;
  env.memory.rollbackChecked.set(run.key, newer);
  const latest = await readPath(run);
  if (!latest || latest.version === version || !(await rollbackWritten(run, latest))) return undefined;
  const why = `the rollback of version ${version} was written before the operator restarted`;
  return rolledBack(run, latest.version, why);
}

/**
 * Does `latest` already hold what rolling back the rotation's version writes? Compared by keyed
 * HMAC (no value is logged or kept) over the generated keys and their `_previous` keys. Reads
 * the rotation's version once; false when that version is gone or held no previous value.
 */
async function rollbackWritten(run: BackendRun, latest: RemoteSecret): Promise<boolean> {
  const { sr } = run;
  const failedVersion = sr.status?.currentVersion;
  if (failedVersion === undefined) return false;
  const failed = await readPath(run, failedVersion);
  if (!failed) return false;
  const keys = generatedKeys(sr.spec.generate);
  const expected = rolledBackData(failed.data.reveal(), keys);
  if (!expected) return false;
  const mac = (data: ReadonlyMap<string, Buffer>) => rotationMac(run, rollbackPart(data, keys));
  const same = macEqual(mac(latest.data.reveal()), mac(expected));
  if (same) {
    run.ctx.log.info('Found the rollback already written before a restart; finishing it', {
      path: sr.spec.path,
      failedVersion,
      version: latest.version,
    });
  }
  return same;
}

/** The status of a rotation rolled back to the previous value, now `version` in the backend. */
async function rolledBack(run: Run, version: string, notReady: string): Promise<ReconcileResult> {
  const { sr, env } = run;
  const status = sr.status ?? {};
  const failedVersion = status.currentVersion ?? '';
  const message = `${notReady}; rolled back: the previous value is current again as version ${version}`;
  const phase = nextPhase(phaseOf(status.phase), 'RolledBack');
  await writeStatus(run, rolledBackStatus(status, phase, version, message, stampOf(run)));
  env.memory.requested.delete(run.key);
  env.memory.refreshedAt.set(run.key, env.clock.now());
  refreshReaders(run, 'Rollback');
  env.metrics.rotation('RolledBack');
  run.ctx.log.warn('Rolled back rotation', { path: sr.spec.path, failedVersion, version });
  await warnFailed(run, SecretRotationReason.RolledBack, message);
  return requeue(POLL_MS);
}

/**
 * After a rollback: once the readers have synced the rolled-back version, its consumers are
 * asked (once) to restart onto it; true when that is done. Nothing is awaited: the rotation
 * stays RolledBack until the next one.
 */
export function rolledBackFollowUp(run: Run): boolean {
  const { sr, env } = run;
  const version = sr.status?.currentVersion ?? '';
  const now = env.clock.now();
  const readers = readersOf(sr, env.vaultSecrets.list(namespaceOf(sr)));
  if (readers.some((vs) => !readerSynced(vs, sr.spec.path, version))) {
    if (env.memory.refreshDue(run.key, now, REFRESH_AGAIN_MS)) refreshReaders(run, 'Rollback');
    return false;
  }
  // Caches still filling: a consumer may be missing from them; asked again shortly.
  if (!env.reload.cachesSynced()) return false;
  const affected = affectedDigests(sr, readers, () => versionMac(run, version));
  const since = writtenAt(sr, readers);
  const { consumers } = consumersOf(sr, env.reload.workloads(namespaceOf(sr)), affected);
  const requested = env.memory.requestedFor(run.key, version);
  const readyTimeoutMs = rotationRestartPolicy(sr.spec).readyTimeoutMs;
  let unknown = false;
  for (const c of consumers) {
    if (requested.has(workloadKey(c.ref))) continue;
    const state = env.reload.rolloutState(c.ref, c.wanted, readyTimeoutMs, now, since).state;
    if (state === 'Unknown') unknown = true;
    if (state !== 'NotRestarted') continue;
    requested.add(workloadKey(c.ref));
    const reason = `SecretRotation ${nameOf(sr)} rolled ${sr.spec.path} back to the previous value (version ${version})`;
    requestRestart(run, c, reason);
  }
  return !unknown;
}
