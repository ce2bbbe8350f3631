/**
 * Builds the configured certificate issuers (config.issuers), each wrapped by guard.ts. The one
 * place that knows the concrete issuer types; operator.ts calls it.
 */
import { systemClock, type Clock } from '../kube/clock.ts';
import type { SecretsApi, TokenSource } from '../backends/kube-client.ts';
import { noopBackendMetrics, type BackendMetrics } from '../resilience/metrics.ts';
import type { VaultApi, VaultRawApi } from '../backends/vault/api.ts';
import type { SecretFileReader } from '../config/files.ts';
import type { Config, IssuerConfig } from '../config/schema.ts';
import type { KubeClient } from '../kube/client.ts';
import type { RsaKeyGenerator } from '../pki/index.ts';
import { GuardedIssuer } from './guard.ts';
import { LocalCaIssuer } from './local-ca.ts';
import { NamePolicy } from './name-policy.ts';
import type { Issuer, IssuerRegistry } from './types.ts';
import { VaultPkiIssuer } from './vault-pki.ts';

export interface IssuerDeps {
  readonly client: KubeClient;
  readonly rsa: RsaKeyGenerator;
  readonly clock?: Clock;
  readonly metrics?: BackendMetrics;
  readonly tokenSource?: TokenSource;
  readonly secrets?: SecretsApi;
  readonly readSecretFile?: SecretFileReader;
  readonly onAuthEvent?: (
    issuer: string,
    event: 'login' | 'renew' | 'renew-failed',
    identity: string,
  ) => void;
  /** Test seam: Vault APIs per issuer name. */
  readonly vaultApis?: (name: string) => { api?: VaultApi; raw?: VaultRawApi } | undefined;
}

export function createIssuers(config: Config, deps: IssuerDeps): IssuerRegistry {
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? noopBackendMetrics;
  const issuers = new Map<string, Issuer>();
  try {
    for (const cfg of config.issuers ?? []) {
      issuers.set(cfg.name, guard(create(cfg, config, deps, clock), cfg, clock, metrics));
    }
  } catch (err) {
    for (const i of issuers.values()) void i.close();
    throw err;
  }
  return {
    get: (name) => issuers.get(name),
    names: () => [...issuers.keys()],
    async close() {
      await Promise.allSettled([...issuers.values()].map((i) => i.close()));
    },
  };
}

function create(cfg: IssuerConfig, config: Config, deps: IssuerDeps, clock: Clock): Issuer {
  switch (cfg.type) {
    case 'vault-pki': {
      const seams = deps.vaultApis?.(cfg.name);
      const onAuthEvent = deps.onAuthEvent;
      return new VaultPkiIssuer(cfg, {
        clock,
        operator: {
          namespace: config.operator.namespace,
          serviceAccountName: config.operator.serviceAccountName,
        },
        ...(deps.tokenSource ? { tokenSource: deps.tokenSource } : {}),
        ...(deps.secrets ? { secrets: deps.secrets } : {}),
        ...(deps.readSecretFile ? { readSecretFile: deps.readSecretFile } : {}),
        ...(onAuthEvent ? { onAuthEvent: (e, id) => onAuthEvent(cfg.name, e, id) } : {}),
        ...(seams?.api ? { api: seams.api } : {}),
        ...(seams?.raw ? { raw: seams.raw } : {}),
      });
    }
    case 'local-ca':
      return new LocalCaIssuer(cfg, {
        client: deps.client,
        operatorNamespace: config.operator.namespace,
        rsa: deps.rsa,
        now: () => clock.now(),
      });
  }
}

function guard(issuer: Issuer, cfg: IssuerConfig, clock: Clock, metrics: BackendMetrics): Issuer {
  const namePolicy = new NamePolicy({
    allowedDomains: cfg.allowedDomains,
    allowedUriSans: cfg.allowedUriSans,
    allowedIpRanges: cfg.allowedIpRanges,
    // vault-pki's sign/<role> and issue/<role> make leaf certificates only.
    allowCA: cfg.type === 'local-ca' ? cfg.allowCA : undefined,
  });
  if (cfg.type === 'local-ca') {
    return new GuardedIssuer(
      issuer,
      { allowedNamespaces: cfg.allowedNamespaces, namePolicy },
      { clock, metrics },
    );
  }
  return new GuardedIssuer(
    issuer,
    {
      allowedNamespaces: cfg.allowedNamespaces,
      allowedRoles: cfg.allowedRoles,
      rateLimit: cfg.rateLimit,
      circuitBreaker: cfg.circuitBreaker,
      timeout: cfg.timeout,
      namePolicy,
    },
    { clock, metrics },
  );
}
