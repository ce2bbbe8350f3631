// The cluster the end-to-end suite runs against: the one KUBECONFIG names when set (a kind
// cluster on a laptop), else the local test bed. vaultsync runs out of cluster, in this
// process, with the embedded backends, so any cluster works without images or Vault — as the
// chart ships it: its ServiceAccount and RBAC applied, and only that ServiceAccount's token used.
import { KubeConfig } from '@kubernetes/client-node';
import { testbed } from '../test/support/testbed.ts';

export interface E2eCluster {
  kubeConfig: KubeConfig;
  /** The admin's kubeconfig file (for kubectl and helm). */
  kubeconfig: string;
  description: string;
}

export async function e2eCluster(): Promise<E2eCluster> {
  if (process.env.KUBECONFIG) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromDefault();
    return {
      kubeConfig,
      kubeconfig: process.env.KUBECONFIG,
      description: `KUBECONFIG (${kubeConfig.getCurrentContext()})`,
    };
  }
  const bed = await testbed();
  return { kubeConfig: bed.kubeConfig(), kubeconfig: bed.kubeconfig, description: 'local test bed' };
}
