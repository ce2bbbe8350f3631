// RollingOut (and a failed rollout, still watched): the VaultSecrets reading the path sync the
// new version, then its consumers are restarted (reload controller) with the rotation's restart
// settings; the rotation waits until each runs the new data and is ready, or readyTimeout passes.
import {
  SecretRotationReason,
  SecretRotationEventReason as EventReason,
  type VaultSecret,
} from '../../../apis/v1alpha1/index.ts';
import type { ReconcileResult } from '../../../kube/controller.ts';
import { rotationRestartPolicy } from '../../shared/restart-policy.ts';
import { readersOf } from '../../shared/source-refs.ts';
import { workloadKey } from '../../shared/workloads.ts';
import { formatDuration as fmt } from '../../../apis/v1alpha1/duration.ts';
import {
  type ConsumerState,
  affectedDigests,
  consumersOf,
  describeConsumers,
  readerStuck,
  readerSynced,
  rolloutVerdict,
  writtenAt,
} from '../consumers.ts';
import {
  type BackendRun,
  POLL_MS,
  REFRESH_AGAIN_MS,
  type Run,
  WATCH_FAILED_MS,
  nameOf,
  namespaceOf,
  refreshReaders,
  requestRestart,
  requeue,
  stampOf,
  versionMac,
  warnFailed,
} from '../context.ts';
import { nextPhase, phaseOf } from '../phases.ts';
import { retentionOf, rollbackWanted, strategyOf } from '../spec.ts';
import { readyOf, rolledOutStatus, withReady } from '../status.ts';
import { writeStatus } from '../status-write.ts';
import { finishLostRollback, rollBack } from './roll-back.ts';
import { rolloutFailed } from './rollout-failed.ts';

/** Where the rotation stands in time: when it wrote, and when its readers and consumers are late. */
interface Timing {
  now: number;
  rotatedAt: number;
  readyTimeoutMs: number;
  /** Past readyTimeout since the rotation: readers are late. */
  readersLate: boolean;
  /** Past debounce plus readyTimeout: consumers are late. */
  consumersLate: boolean;
}

function timing(run: Run): Timing {
  const now = run.env.clock.now();
  const policy = rotationRestartPolicy(run.sr.spec);
  const rotatedAt = Date.parse(run.sr.status?.lastRotationTime ?? '') || now;
  return {
    now,
    rotatedAt,
    readyTimeoutMs: policy.readyTimeoutMs,
    readersLate: now >= rotatedAt + policy.readyTimeoutMs,
    consumersLate: now >= rotatedAt + policy.debounceMs + policy.readyTimeoutMs,
  };
}

export async function rollOut(run: BackendRun): Promise<ReconcileResult> {
  const { sr, env } = run;
  const failedAlready = sr.status?.phase === 'Failed';
  const readers = readersOf(sr, env.vaultSecrets.list(namespaceOf(sr)));
  if (!failedAlready && rollbackWanted(sr)) {
    const finished = await finishLostRollback(run, readers);
    if (finished) return finished;
  }
  const t = timing(run);
  const waitingForReaders = await awaitReaders(run, readers, t, failedAlready);
  if (waitingForReaders) return waitingForReaders;
  if (!env.reload.cachesSynced() && !t.consumersLate) {
    // The workload caches are still filling (operator start, an Argo Rollouts CRD just found):
    // a consumer missing from them may exist. Selectors and annotations are read once they are.
    return requeue(POLL_MS);
  }
  return awaitConsumers(run, readers, t, failedAlready);
}

/** Undefined once every reader synced the rotation's version; else the wait (or the failure). */
async function awaitReaders(
  run: Run,
  readers: readonly VaultSecret[],
  t: Timing,
  failedAlready: boolean,
): Promise<ReconcileResult | undefined> {
  const { sr, env } = run;
  const version = sr.status?.currentVersion ?? '';
  const unsynced = readers.filter((vs) => !readerSynced(vs, sr.spec.path, version));
  const stuck = unsynced.flatMap((vs) => {
    const why = readerStuck(vs);
    return why ? [`VaultSecret ${vs.metadata?.name ?? ''} (${why})`] : [];
  });
  if (stuck.length > 0 && !failedAlready && !t.readersLate) {
    // A reader that cannot write its Secret shows here at once, not after readyTimeout; the
    // rotation still waits for it (it syncs once fixed) and times out as before.
    const message = `Cannot roll out version ${version}: ${stuck.join('; ')}`;
    const previous = readyOf(sr.status ?? {});
    await writeStatus(
      run,
      withReady(sr.status ?? {}, 'False', SecretRotationReason.VaultSecretNotSynced, message, stampOf(run)),
    );
    if (previous?.reason !== SecretRotationReason.VaultSecretNotSynced || previous.message !== message)
      await warnFailed(run, SecretRotationReason.VaultSecretNotSynced, message);
    return requeue(POLL_MS);
  }
  if (unsynced.length === 0) return undefined;
  const names = unsynced.map((vs) => vs.metadata?.name).join(', ');
  if (env.memory.refreshDue(run.key, t.now, REFRESH_AGAIN_MS)) refreshReaders(run);
  if (failedAlready) return requeue(POLL_MS);
  if (t.readersLate) {
    const message = `VaultSecret ${names} did not sync version ${version} within ${fmt(t.readyTimeoutMs)}`;
    return rolloutFailed(run, SecretRotationReason.VaultSecretNotSynced, message);
  }
  const waiting = `Waiting for VaultSecret ${names} to sync version ${version}`;
  await writeStatus(
    run,
    withReady(sr.status ?? {}, 'False', SecretRotationReason.RollingOut, waiting, stampOf(run)),
  );
  return requeue(POLL_MS);
}

/** The consumers of the version: asked to restart once, then followed until ready or late. */
async function awaitConsumers(
  run: BackendRun,
  readers: readonly VaultSecret[],
  t: Timing,
  failedAlready: boolean,
): Promise<ReconcileResult> {
  const { sr, env } = run;
  const status = sr.status ?? {};
  const version = status.currentVersion ?? '';
  const affected = affectedDigests(sr, readers, () => versionMac(run, version));
  const since = writtenAt(sr, readers);
  const { consumers, unsupported } = consumersOf(sr, env.reload.workloads(namespaceOf(sr)), affected);
  const requested = env.memory.requestedFor(run.key, version);
  const states: ConsumerState[] = consumers.map((c) => ({
    c,
    s: env.reload.rolloutState(c.ref, c.wanted, t.readyTimeoutMs, t.now, since),
  }));
  for (const { c, s } of states) {
    if (s.state === 'NotRestarted' && !requested.has(workloadKey(c.ref))) {
      requested.add(workloadKey(c.ref));
      requestRestart(run, c, `SecretRotation ${nameOf(sr)} rotated ${sr.spec.path} to version ${version}`);
    }
  }
  const { failing, waiting, notFound } = rolloutVerdict(states, requested, t.consumersLate);
  if (waiting.length === 0) {
    return rolledOut(run, states.length - notFound.length, unsupported, describeConsumers(notFound));
  }
  if (failing.length > 0 && !failedAlready) {
    const notReady = `${describeConsumers(failing)} did not become ready with version ${version} within ${fmt(t.readyTimeoutMs)}`;
    if (rollbackWanted(sr)) return rollBack(run, notReady);
    const kept = status.previousVersion !== undefined ? '; the previous value is kept' : '';
    return rolloutFailed(run, SecretRotationReason.RolloutNotReady, `${notReady}${kept}`);
  }
  if (failedAlready) return requeue(WATCH_FAILED_MS);
  const ready = states.length - waiting.length;
  const message = `${ready}/${states.length} consumers ready with version ${version}; waiting for ${describeConsumers(waiting)}`;
  await writeStatus(run, withReady(status, 'False', SecretRotationReason.RollingOut, message, stampOf(run)));
  return requeue(POLL_MS);
}

/** Every consumer is ready: Retiring (TwoPhase with a previous value) or done. */
async function rolledOut(
  run: Run,
  count: number,
  unsupported: string[],
  notFound: string,
): Promise<ReconcileResult> {
  const { sr, env } = run;
  const status = sr.status ?? {};
  const version = status.currentVersion ?? '';
  const twoPhase = strategyOf(sr.spec) === 'TwoPhase' && status.previousVersion !== undefined;
  const note =
    (unsupported.length > 0 ? ` (not restarted, kind not supported: ${unsupported.join(', ')})` : '') +
    (notFound ? ` (not found, not restarted: ${notFound})` : '');
  const summary = `${count} consumer(s) ready with version ${version}${note}`;
  const phase = nextPhase(phaseOf(status.phase), twoPhase ? 'ReadyPreviousKept' : 'Ready');
  const retention = retentionOf(sr.spec);
  await writeStatus(run, rolledOutStatus(status, phase, summary, fmt(retention), stampOf(run)));
  env.metrics.rotation('Succeeded');
  run.ctx.log.info('Rolled out rotation', { version, consumers: count });
  await env.events.normal(sr, EventReason.RolledOut, summary);
  return twoPhase ? requeue(retention + 50) : requeue(POLL_MS);
}
