// Writing a SecretRotation's status: a merge patch of what changed, nothing when nothing did.
import {
  SecretRotationReason,
  API_VERSION,
  FieldManager,
  type SecretRotationStatus,
} from '../../apis/v1alpha1/index.ts';
import { patchStatus } from '../../kube/client.ts';
import { refusedWrite, refusedWriteMessage } from '../failure/index.ts';
import { type Run, nameOf, namespaceOf } from './context.ts';
import { StatusRefused } from './failure.ts';
import { statusPatch } from './status.ts';

const statusRef = (run: Run) => ({
  apiVersion: API_VERSION,
  kind: 'SecretRotation',
  namespace: namespaceOf(run.sr),
  name: nameOf(run.sr),
});

/** Sends the merge patch from `from` to `to`; false when they are equal (nothing sent). */
async function patch(run: Run, from: SecretRotationStatus, to: SecretRotationStatus): Promise<boolean> {
  const p = statusPatch(from, to);
  if (!p) return false;
  await patchStatus(run.env.client, statusRef(run), p, { fieldManager: FieldManager.SecretRotation });
  return true;
}

/** Writes `status`; a refusal (4xx) becomes StatusRefused. Later steps of the run build on it. */
export async function writeStatus(run: Run, status: SecretRotationStatus): Promise<void> {
  try {
    if (!(await patch(run, run.sr.status ?? {}, status))) return;
  } catch (err) {
    const refused = refusedWrite(err);
    if (!refused) throw err;
    throw new StatusRefused(
      SecretRotationReason.SecretWriteFailed,
      refusedWriteMessage(`the status of SecretRotation ${nameOf(run.sr)}`, refused),
    );
  }
  run.sr.status = status;
}

/**
 * A status with a failure in it, written; when the apiserver refuses it, the conditions alone
 * are tried (the rest may be what it refuses; the stored phase and versions stay). True when
 * either was stored.
 */
export async function recordFailure(run: Run, status: SecretRotationStatus): Promise<boolean> {
  try {
    await writeStatus(run, status);
    return true;
  } catch (err) {
    if (!(err instanceof StatusRefused)) throw err;
  }
  try {
    await patch(run, { conditions: run.sr.status?.conditions }, { conditions: status.conditions });
    return true;
  } catch (err) {
    if (!refusedWrite(err)) throw err;
    return false;
  }
}
