// Merge + Delete: on deletion, take back only the keys, labels and annotations we applied (an
// empty apply by our field manager drops what it owned), then release the VaultSecret. Owner +
// Delete needs nothing here: the owner reference lets the garbage collector act.
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../../apis/v1alpha1/index.ts';
import { FieldManager, LEGACY_FIELD_MANAGER, VAULTSECRET_OWNER_LABEL } from '../../apis/v1alpha1/index.ts';
import { type KubeClient, serverSideApply } from '../../kube/client.ts';
import { hasFinalizer, removeFinalizer } from '../../kube/finalizers.ts';
import { releaseFields } from '../../kube/managed-fields.ts';
import { mayWrite } from './ownership.ts';
import { targetName } from '../shared/target-name.ts';
import { CLEANUP_FINALIZER, needsCleanupFinalizer } from './target-secret.ts';

export async function finalize(
  client: KubeClient,
  vs: VaultSecret,
  existingSecret: (vs: VaultSecret) => Promise<V1Secret | undefined>,
): Promise<void> {
  if (!hasFinalizer(vs, CLEANUP_FINALIZER)) return;
  const existing = await existingSecret(vs);
  if (
    needsCleanupFinalizer(vs) &&
    existing?.metadata?.labels?.[VAULTSECRET_OWNER_LABEL] === vs.metadata?.name &&
    mayWrite(vs, existing).allowed
  ) {
    const emptied = await serverSideApply(
      client,
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: targetName(vs), namespace: vs.metadata?.namespace },
      },
      { fieldManager: FieldManager.VaultSecret, force: true },
    );
    // Keys merged before the controllers had their own field managers.
    await releaseFields(client, emptied, LEGACY_FIELD_MANAGER);
  }
  await removeFinalizer(client, vs, CLEANUP_FINALIZER, { fieldManager: FieldManager.VaultSecret });
}
