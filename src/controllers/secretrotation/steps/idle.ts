// Idle (and Failed, RolledBack, a manual rotation while Retiring): is a rotation due? Start it,
// or record when the next one is and wait for it.
import { tokenDigest } from '../../../apis/v1alpha1/index.ts';
import type { ReconcileResult } from '../../../kube/controller.ts';
import { readPath } from '../backend-io.ts';
import { type BackendRun, requeue, stampOf } from '../context.ts';
import { generatedKeys, missingValues } from '../data.ts';
import { nextPhase, phaseOf } from '../phases.ts';
import { rotationDue } from '../schedule.ts';
import { manualToken } from '../spec.ts';
import { rotatingStatus, waitingStatus } from '../status.ts';
import { writeStatus } from '../status-write.ts';
import { write } from './rotate.ts';

export async function idle(run: BackendRun): Promise<ReconcileResult> {
  const { sr } = run;
  const status = sr.status ?? {};
  const now = run.env.clock.now();
  const token = manualToken(sr);
  const lastRotation = status.lastRotationTime ? Date.parse(status.lastRotationTime) : undefined;
  const specChanged = status.observedGeneration !== sr.metadata?.generation;
  // Values missing from the backend are rotated at once; read only when that can be news.
  const mayBeMissing =
    token === undefined &&
    (specChanged || (lastRotation === undefined && status.nextRotationTime === undefined));
  const missing =
    mayBeMissing && missingValues((await readPath(run))?.data.reveal(), generatedKeys(sr.spec.generate));
  const decision = rotationDue({
    spec: sr.spec,
    ...(lastRotation !== undefined && { lastRotation }),
    created: Date.parse(sr.metadata?.creationTimestamp as unknown as string) || now,
    missingValues: missing,
    manual: token !== undefined,
    now,
  });
  if (decision.due) return startRotation(run, decision.why, token);
  await writeStatus(
    run,
    waitingStatus(status, nextPhase(phaseOf(status.phase), 'NotDue'), decision, stampOf(run)),
  );
  if (decision.why === 'Suspended' || decision.next === undefined) return;
  return requeue(decision.next - now + 50);
}

/** Rotating: the version to replace is recorded before anything is written, then the write. */
async function startRotation(
  run: BackendRun,
  why: string,
  token: string | undefined,
): Promise<ReconcileResult> {
  const { sr } = run;
  const current = await readPath(run);
  const next = rotatingStatus(
    sr.status ?? {},
    nextPhase(phaseOf(sr.status?.phase), 'Due'),
    {
      path: sr.spec.path,
      why,
      ...(token !== undefined && { handledToken: tokenDigest(token) }),
      ...(current && { replaces: current.version }),
    },
    stampOf(run),
  );
  await writeStatus(run, next);
  run.ctx.log.info('Started rotation', { why, path: sr.spec.path, backend: sr.spec.backend });
  return write(run);
}
