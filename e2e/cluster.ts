// The cluster the end-to-end suite runs against: the one KUBECONFIG names when set (a kind
// cluster on a laptop), else the local test bed. vaultsync runs out of cluster, in this
// process, with the embedded backends, so any cluster works without images or Vault.
import { KubeConfig } from '@kubernetes/client-node';
import { testbed } from '../test/support/testbed.ts';

export interface E2eCluster {
  kubeConfig: KubeConfig;
  description: string;
}

export async function e2eCluster(): Promise<E2eCluster> {
  if (process.env.KUBECONFIG) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromDefault();
    return { kubeConfig, description: `KUBECONFIG (${kubeConfig.getCurrentContext()})` };
  }
  const bed = await testbed();
  return { kubeConfig: bed.kubeConfig(), description: 'local test bed' };
}
