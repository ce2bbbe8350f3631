// Writes a VaultCertificate's status, only when it differs from what is stored or what this
// replica wrote last (the informer may not show our own write yet). A refusal of the patch by
// the apiserver is a WriteRefused that says it was the status.
import { FieldManager } from '../../apis/v1alpha1/index.ts';
import type { VaultCertificate, VaultCertificateStatus } from '../../apis/v1alpha1/index.ts';
import { patchStatus } from '../../kube/client.ts';
import { type StepContext, certificateRef } from './context.ts';
import { refusedWrite } from '../failure/index.ts';
import { WriteRefused, refusedAs } from './failure.ts';
import { statusEqual, statusPatch } from './status.ts';

export async function writeStatus(
  c: StepContext,
  vc: VaultCertificate,
  key: string,
  status: VaultCertificateStatus,
): Promise<void> {
  const record = c.memory.written.get(key);
  const current = vc.status ?? {};
  if (statusEqual(current, status) || (record?.status && statusEqual(record.status, status))) return;
  await refusedAs(
    () =>
      patchStatus(c.deps.client, certificateRef(vc), statusPatch(current, status), {
        fieldManager: FieldManager.VaultCertificate,
      }),
    `the status of VaultCertificate ${vc.metadata?.name ?? ''}`,
    c.userErrorRetryMs,
    true,
  );
  if (record) record.status = status;
}

/**
 * The status with a failure in it, written; when the apiserver refuses it, the Ready condition
 * alone is tried (the rest of the status may be what it refuses). True when either was stored.
 */
export async function recordFailure(
  c: StepContext,
  vc: VaultCertificate,
  key: string,
  status: VaultCertificateStatus,
): Promise<boolean> {
  try {
    await writeStatus(c, vc, key, status);
    return true;
  } catch (err) {
    if (!(err instanceof WriteRefused && err.status)) throw err;
  }
  try {
    await patchStatus(
      c.deps.client,
      certificateRef(vc),
      { conditions: status.conditions, observedGeneration: status.observedGeneration },
      { fieldManager: FieldManager.VaultCertificate },
    );
    return true;
  } catch (err) {
    if (!refusedWrite(err)) throw err;
    return false;
  }
}
