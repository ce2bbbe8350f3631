/**
 * Builds every configured backend, each wrapped with tenancy, coalescing, rate limit, circuit
 * breaker and metrics (`guard.ts`). The one place that knows the concrete backend types.
 */
import type { SecretFileReader } from '../config/files.ts';
import type { BackendConfig, Config } from '../config/schema.ts';
import { systemClock, type Clock } from '../kube/clock.ts';
import { BackendError, isBackendError } from '../resilience/errors.ts';
import { GuardedBackend } from './guard.ts';
import type { SecretsApi, TokenSource } from './kube-client.ts';
import { KubernetesBackend } from './kubernetes.ts';
import { MemoryBackend } from './memory.ts';
import { noopBackendMetrics, type BackendMetrics } from '../resilience/metrics.ts';
import type { Backend, BackendAdapter } from './types.ts';
import { AwsSecretsManagerBackend, type AwsBackendDeps, type AwsSecretsClient } from './aws/backend.ts';
import { AzureKeyVaultBackend, type AzureSecretsClient } from './azure/backend.ts';
import { GcpSecretManagerBackend, type GcpSecretsClient } from './gcp/backend.ts';
import type { VaultApi } from './vault/api.ts';
import { VaultBackend } from './vault/backend.ts';

export interface BackendDeps {
  readonly clock?: Clock;
  readonly metrics?: BackendMetrics;
  /** ServiceAccount tokens for Vault Kubernetes auth (`kubeTokenSource(kc)`). */
  readonly tokenSource?: TokenSource;
  /** Secrets for the kubernetes backend and `secretRef` credentials (`kubeSecretsApi(kc)`). */
  readonly secrets?: SecretsApi;
  /** Token files (`readSecretFile` from config/). */
  readonly readSecretFile?: SecretFileReader;
  /** Test seam: Vault API per backend name. */
  readonly vaultApi?: (backendName: string) => VaultApi | undefined;
  /** AWS credentials per backend name (the sidecar's web identity); else the config's. */
  readonly awsCredentials?: (backendName: string) => AwsBackendDeps['credentials'];
  /** Test seam: AWS SDK client per backend name. */
  readonly awsClient?: (backendName: string) => AwsSecretsClient | undefined;
  /** Test seam: Google Secret Manager client per backend name. */
  readonly gcpClient?: (backendName: string) => GcpSecretsClient | undefined;
  /** Test seam: Azure Key Vault client per backend name. */
  readonly azureClient?: (backendName: string) => AzureSecretsClient | undefined;
  /** Told about Vault logins and renewals. */
  readonly onAuthEvent?: (
    backend: string,
    event: 'login' | 'renew' | 'renew-failed',
    identity: string,
  ) => void;
}

export interface BackendRegistry {
  /** The backend with this name (from `spec.backend`), or undefined. */
  get(name: string): Backend | undefined;
  names(): readonly string[];
  /** Checks every backend at once (for /readyz): name → undefined when reachable, else the error. */
  checkAll(signal?: AbortSignal): Promise<ReadonlyMap<string, BackendError | undefined>>;
  close(): Promise<void>;
}

export function createBackends(config: Config, deps: BackendDeps = {}): BackendRegistry {
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? noopBackendMetrics;
  const backends = new Map<string, Backend>();
  try {
    for (const cfg of config.backends) {
      const adapter = createAdapter(cfg, config, deps, clock);
      backends.set(cfg.name, new GuardedBackend(adapter, cfg, { clock, metrics }));
    }
  } catch (err) {
    for (const b of backends.values()) void b.close();
    throw err;
  }

  return {
    get: (name) => backends.get(name),
    names: () => [...backends.keys()],
    async checkAll(signal) {
      const entries = await Promise.all(
        [...backends].map(async ([name, b]): Promise<[string, BackendError | undefined]> => {
          try {
            await b.check(signal);
            return [name, undefined];
          } catch (err) {
            return [
              name,
              isBackendError(err)
                ? err
                : new BackendError('Unavailable', 'check cancelled', { backend: name }),
            ];
          }
        }),
      );
      return new Map(entries);
    },
    async close() {
      await Promise.allSettled([...backends.values()].map((b) => b.close()));
    },
  };
}

function createAdapter(cfg: BackendConfig, config: Config, deps: BackendDeps, clock: Clock): BackendAdapter {
  switch (cfg.type) {
    case 'memory':
      return new MemoryBackend({ name: cfg.name, data: cfg.data, tags: cfg.tags });
    case 'kubernetes': {
      if (!deps.secrets) throw new Error(`backend "${cfg.name}" (kubernetes) needs deps.secrets`);
      return new KubernetesBackend({
        name: cfg.name,
        namespace: cfg.namespace,
        operatorNamespace: config.operator.namespace,
        secrets: deps.secrets,
      });
    }
    case 'vault': {
      const api = deps.vaultApi?.(cfg.name);
      const onAuthEvent = deps.onAuthEvent;
      return new VaultBackend(cfg, {
        clock,
        operator: {
          namespace: config.operator.namespace,
          serviceAccountName: config.operator.serviceAccountName,
        },
        ...(deps.tokenSource ? { tokenSource: deps.tokenSource } : {}),
        ...(deps.secrets ? { secrets: deps.secrets } : {}),
        ...(deps.readSecretFile ? { readSecretFile: deps.readSecretFile } : {}),
        ...(api ? { api } : {}),
        ...(onAuthEvent ? { onAuthEvent: (e, id) => onAuthEvent(cfg.name, e, id) } : {}),
      });
    }
    case 'aws-secrets-manager': {
      const client = deps.awsClient?.(cfg.name);
      const credentials = deps.awsCredentials?.(cfg.name);
      return new AwsSecretsManagerBackend(cfg, {
        operatorNamespace: config.operator.namespace,
        ...(deps.secrets ? { secrets: deps.secrets } : {}),
        ...(credentials ? { credentials } : {}),
        ...(client ? { client } : {}),
      });
    }
    case 'gcp-secret-manager': {
      const client = deps.gcpClient?.(cfg.name);
      return new GcpSecretManagerBackend(cfg, {
        operatorNamespace: config.operator.namespace,
        ...(deps.secrets ? { secrets: deps.secrets } : {}),
        ...(client ? { client } : {}),
      });
    }
    case 'azure-key-vault': {
      const client = deps.azureClient?.(cfg.name);
      return new AzureKeyVaultBackend(cfg, {
        operatorNamespace: config.operator.namespace,
        ...(deps.secrets ? { secrets: deps.secrets } : {}),
        ...(client ? { client } : {}),
      });
    }
    default: {
      const never: never = cfg;
      throw new Error(`unsupported backend type ${(never as { type: string }).type}`);
    }
  }
}
