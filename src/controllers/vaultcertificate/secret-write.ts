// The Secret write step: server-side apply by our field manager (the legacy manager hands its
// fields over), with the apiserver's refusals turned into failures a person can read (the values
// being written cut out). A newly issued certificate whose write fails is kept in memory, so the
// retry writes it again instead of having a second one signed.
import { VaultCertificateReason, FieldManager, LEGACY_FIELD_MANAGER } from '../../apis/v1alpha1/index.ts';
import type { V1Secret } from '@kubernetes/client-node';
import { serverSideApply } from '../../kube/client.ts';
import { toKubeError } from '../../kube/errors.ts';
import { isNotLeader } from '../../kube/fence.ts';
import { releaseFields } from '../../kube/managed-fields.ts';
import type { StepContext } from './context.ts';
import { Failure } from '../failure/index.ts';
import { secretWriteRefused } from './failure.ts';
import type { Unwritten } from './memory.ts';

async function applySecret(c: StepContext, want: V1Secret): Promise<V1Secret> {
  const applied = await serverSideApply(c.deps.client, want, {
    fieldManager: FieldManager.VaultCertificate,
    force: true,
  });
  return releaseFields(c.deps.client, applied, LEGACY_FIELD_MANAGER);
}

/** The Secret's metadata or extra outputs brought in line, its certificate unchanged. */
export async function rewriteSecret(c: StepContext, secretName: string, want: V1Secret): Promise<V1Secret> {
  try {
    return await applySecret(c, want);
  } catch (err) {
    throw secretWriteRefused(err, secretName, want, c.userErrorRetryMs) ?? err;
  }
}

/** The Secret with a new certificate; when the write fails, `issued` is kept for the retry. */
export async function writeIssuedSecret(
  c: StepContext,
  key: string,
  secretName: string,
  want: V1Secret,
  issued: Unwritten,
): Promise<V1Secret> {
  try {
    const applied = await applySecret(c, want);
    c.memory.unwritten.delete(key);
    return applied;
  } catch (err) {
    c.memory.unwritten.set(key, issued);
    if (isNotLeader(err)) throw err;
    const refused = secretWriteRefused(err, secretName, want, c.userErrorRetryMs);
    if (refused) throw refused;
    const e = toKubeError(err);
    if (e.transient) throw e;
    throw new Failure(
      VaultCertificateReason.SecretWriteFailed,
      `could not write Secret ${secretName}: ${e.message}`,
    );
  }
}
