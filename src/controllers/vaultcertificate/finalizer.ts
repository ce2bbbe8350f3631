// The finalizer vaultsync.io/revoke-certificate: held while spec.revokeOnDelete is true; on
// deletion the certificate vaultsync recorded is revoked (revocation.ts), then the resource goes.
import { FieldManager, Finalizer, type VaultCertificate } from '../../apis/v1alpha1/index.ts';
import type { V1Secret } from '@kubernetes/client-node';
import { getObject } from '../../kube/client.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import { addFinalizer, hasFinalizer, removeFinalizer } from '../../kube/finalizers.ts';
import { type StepContext, secretRef } from './context.ts';
import { refusedAs } from './failure.ts';
import { observeSecret } from './observed.ts';
import { revokeOnDeletion } from './revocation.ts';
import { mayWrite } from './secret.ts';
import type { DesiredCertificate } from './spec.ts';

const FINALIZER = Finalizer.RevokeCertificate;

/** Adds or removes the finalizer to match spec.revokeOnDelete; a refusal is a WriteRefused. */
export async function syncFinalizer(
  c: StepContext,
  vc: VaultCertificate,
  desired: DesiredCertificate,
): Promise<void> {
  const has = hasFinalizer(vc, FINALIZER);
  const what = `the finalizer of VaultCertificate ${vc.metadata?.name ?? ''}`;
  await refusedAs(
    async () => {
      if (desired.revokeOnDelete && !has)
        await addFinalizer(c.deps.client, vc, FINALIZER, { fieldManager: FieldManager.VaultCertificate });
      if (!desired.revokeOnDelete && has)
        await removeFinalizer(c.deps.client, vc, FINALIZER, { fieldManager: FieldManager.VaultCertificate });
    },
    what,
    c.userErrorRetryMs,
  );
}

/**
 * revokeOnDelete: revoke the certificate vaultsync last wrote, as status (or this replica)
 * recorded it, then let the resource go. The Secret's own contents pick nothing.
 */
export async function finalize(
  c: StepContext,
  vc: VaultCertificate,
  key: string,
  ctx: ReconcileContext,
): Promise<ReconcileResult> {
  if (!hasFinalizer(vc, FINALIZER)) {
    c.memory.written.delete(key);
    return;
  }
  const secret = await getObject<V1Secret>(c.deps.client, secretRef(vc, vc.spec.secretName));
  const observed = observeSecret(mayWrite(vc, secret).allowed ? secret : undefined, c.deps.macKeys);
  const current = c.memory.recorded(vc, key, observed);
  c.memory.written.delete(key);
  await revokeOnDeletion(c, vc, current, ctx);
  await removeFinalizer(c.deps.client, vc, FINALIZER, { fieldManager: FieldManager.VaultCertificate });
  return undefined;
}
