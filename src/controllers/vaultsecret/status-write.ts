// A VaultSecret's status: written only when it differs (key order ignored: a no-op reconcile
// must not write), by this controller's field manager.
import type { VaultSecret, VaultSecretStatus } from '../../apis/v1alpha1/index.ts';
import { API_VERSION, FieldManager } from '../../apis/v1alpha1/index.ts';
import { type KubeClient, patchStatus } from '../../kube/client.ts';
import { canonicalJson } from '../shared/canonical-json.ts';

export async function writeStatus(
  client: KubeClient,
  vs: VaultSecret,
  status: VaultSecretStatus,
): Promise<void> {
  if (statusEqual(vs.status, status)) return;
  await patchStatus(
    client,
    {
      apiVersion: API_VERSION,
      kind: 'VaultSecret',
      namespace: vs.metadata?.namespace ?? '',
      name: vs.metadata?.name ?? '',
    },
    status as Record<string, unknown>,
    { fieldManager: FieldManager.VaultSecret },
  );
}

/** Status equality that ignores key order (a no-op reconcile must not write). */
export function statusEqual(a: VaultSecretStatus | undefined, b: VaultSecretStatus | undefined): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b ?? {});
}
