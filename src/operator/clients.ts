// The operator's Kubernetes clients. Each says which replica it is (the user agent carries the
// identity). `client` is unfenced: the elector, start-up (MAC keys) and the HTTPS API (it serves on
// every replica and writes on behalf of its callers) use it. `fencedClient` sends a write only while
// the fence is held: every write the controllers make goes through it.
import type { KubeConfig } from '@kubernetes/client-node';
import { type KubeClient, createKubeClient } from '../kube/client.ts';
import type { WriteFence } from '../kube/fence.ts';
import { userAgent } from '../version.ts';

export interface OperatorClients {
  client: KubeClient;
  fencedClient: KubeClient;
}

export function operatorClients(
  kubeConfig: KubeConfig,
  identity: string,
  fence: WriteFence,
): OperatorClients {
  return {
    client: createKubeClient(kubeConfig, { userAgent: userAgent(identity) }),
    fencedClient: createKubeClient(kubeConfig, { userAgent: userAgent(identity), fence }),
  };
}
