// Ready, as the apiserver has it: a resource's Ready condition is True. Used by the tests that
// wait for a namespace's VaultSecrets to be in sync.
import type { VaultSecret } from '../../src/apis/v1alpha1/index.ts';
import type { KubeClient } from '../../src/kube/index.ts';

interface WithConditions {
  status?: { conditions?: readonly { type: string; status: string }[] };
}

export const isReady = (obj: WithConditions | undefined): boolean =>
  obj?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** How many VaultSecrets of `namespace` are Ready now. */
export async function readyVaultSecrets(client: KubeClient, namespace: string): Promise<number> {
  const list = await client.rest.request<{ items: VaultSecret[] }>({
    method: 'GET',
    path: `/apis/vaultsync.io/v1alpha1/namespaces/${namespace}/vaultsecrets`,
  });
  return list.items.filter(isReady).length;
}
