// Where secrets and certificates come from: the backends and the issuers (vault-pki, local-ca) of
// the config, unfenced (the controllers get fenced views of them). Each registry gets its own
// ServiceAccount token source and Secrets reader for credentials kept in the cluster.
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeSecretsApi, kubeTokenSource } from '../backends/kube-client.ts';
import { type BackendDeps, type BackendRegistry, createBackends } from '../backends/registry.ts';
import { type Config, readSecretFile } from '../config/index.ts';
import { type IssuerRegistry, createIssuers } from '../issuers/index.ts';
import type { KubeClient } from '../kube/client.ts';
import type { OperatorMetrics } from '../observability/metrics.ts';
import type { RsaKeyGenerator } from '../pki/index.ts';
import { userAgent } from '../version.ts';

export interface SourceDeps {
  kubeConfig: KubeConfig;
  identity: string;
  metrics: OperatorMetrics;
  /** Unfenced: the local-ca issuer keeps its CA in a Secret of the operator's namespace. */
  client: KubeClient;
  /** RSA keys are generated in worker threads. */
  rsa: RsaKeyGenerator;
}

export interface Sources {
  backends: BackendRegistry;
  issuers: IssuerRegistry;
}

export function createSources(config: Config, d: SourceDeps): Sources {
  const backends = createBackends(config, credentialDeps(d));
  const issuers = createIssuers(config, { client: d.client, rsa: d.rsa, ...credentialDeps(d) });
  return { backends, issuers };
}

/** How a backend or issuer logs in with cluster credentials, and where its auth events are counted. */
function credentialDeps({
  kubeConfig,
  identity,
  metrics,
}: SourceDeps): Pick<BackendDeps, 'metrics' | 'tokenSource' | 'secrets' | 'readSecretFile' | 'onAuthEvent'> {
  return {
    metrics,
    tokenSource: kubeTokenSource(kubeConfig, { userAgent: userAgent(identity) }),
    secrets: kubeSecretsApi(kubeConfig, { userAgent: userAgent(identity) }),
    readSecretFile,
    onAuthEvent: (name, event) => metrics.authEvent(name, event),
  };
}
