// The hostile-tenant suite's harness: the operator as shipped (the chart's ServiceAccount, RBAC
// and rendered config; least-privilege OpenBao credentials) and tenants that hold only the
// built-in `edit` role in their namespace. Cluster-admin and OpenBao's root token set things up,
// nothing else.
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import winston from 'winston';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/index.ts';
import { createKubeClient, type KubeClient } from '../../src/kube/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { type RunningOperator, startOperator } from '../../src/operator.ts';
import {
  type Manifest,
  adminApply,
  ensureNamespace,
  installShippedIdentity,
  mergeDeep,
  operatorVaultAuth as vaultAuthFor,
  serviceAccountToken,
  tokenKubeConfig,
} from '../support/shipped.ts';
import type { Testbed } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

export {
  adminApply,
  forbiddenLines,
  ensureNamespace,
  mergeDeep,
  renderChart,
  serviceAccountToken,
  tokenKubeConfig,
} from '../support/shipped.ts';
export type { Manifest } from '../support/shipped.ts';

/** Sections of a test's config that the operator takes as they are (the chart renders the rest). */
const PASSED_SECTIONS = ['api', 'audit', 'webhooks'] as const;

export interface ShippedOperatorOptions {
  /** Release `vaultsync-<name>` in namespace `vaultsync-<name>`. */
  name: string;
  /** Operator-config YAML: `backends`, `issuers` (rendered through the chart), `api`, `audit`, `webhooks`. */
  config: string;
  /** Chart values merged over the harness's (e.g. `{rbac: {scope: 'namespaced', watchNamespaces: [...]}}`). */
  chartValues?: Record<string, unknown>;
  identity?: string;
  leaderElection?: boolean;
  /** Where log lines go (default: a new array, `op.logs`). */
  logs?: string[];
}

export interface ShippedOperator extends RunningOperator {
  logs: string[];
  release: string;
  namespace: string;
  serviceAccount: string;
  /** A kubeconfig that holds nothing but a token of the operator's ServiceAccount. */
  kubeConfig: k8s.KubeConfig;
  /** The rendered chart's objects (for assertions on what ships). */
  manifests: Manifest[];
}

export interface Tenant {
  namespace: string;
  serviceAccount: string;
  /** A token of the tenant's ServiceAccount for the kube-apiserver (default audience). */
  token: string;
  kubeConfig: k8s.KubeConfig;
  client: KubeClient;
  /** A fresh token of the tenant's ServiceAccount for other audiences (e.g. `vaultsync`). */
  tokenFor(audience: string, expirationSeconds?: number): Promise<string>;
}

export const releaseName = (name: string) => `vaultsync-${name}`;

/**
 * Renders the chart for release `vaultsync-<name>` with the test's backends and issuers, applies
 * its ServiceAccount and RBAC, and runs the operator in this process with the rendered config
 * and a kubeconfig that holds only that ServiceAccount's token.
 */
export async function startShippedOperator(
  bed: Testbed,
  opts: ShippedOperatorOptions,
): Promise<ShippedOperator> {
  const release = releaseName(opts.name);
  const namespace = release;
  const testConfig = (parse(opts.config) ?? {}) as Record<string, unknown>;
  const values = mergeDeep(
    {
      config: {
        operator: {
          logLevel: 'debug',
          leaderElection: { leaseDuration: '4s', renewDeadline: '3s', retryPeriod: '500ms' },
        },
        backends: testConfig.backends ?? [{ name: 'memory', type: 'memory', allowedNamespaces: ['*'] }],
        ...(testConfig.issuers ? { issuers: testConfig.issuers } : {}),
      },
      audit: { sink: 'off' },
    },
    opts.chartValues ?? {},
  );
  const shipped = await installShippedIdentity(bed, release, namespace, values);
  const doc = shipped.config;
  doc.operator = {
    ...doc.operator,
    healthAddress: '127.0.0.1:0',
    metricsAddress: '0',
    leaderElection: { ...(doc.operator?.leaderElection as object), enabled: opts.leaderElection ?? false },
  };
  for (const section of PASSED_SECTIONS) {
    if (testConfig[section]) doc[section] = mergeDeep(doc[section] ?? {}, testConfig[section] as object);
  }
  if (doc.api && doc.api.address !== '0') doc.api.address = '127.0.0.1:0';
  const config = await loadConfig({ text: stringify(doc) }, { env: { POD_NAMESPACE: namespace } });

  const logs = opts.logs ?? [];
  const logger = createLogger({
    level: 'debug',
    transports: [
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk, _enc, done) {
            logs.push(String(chunk));
            done();
          },
        }),
      }),
    ],
  });
  const operator = await startOperator({
    config,
    kubeConfig: shipped.kubeConfig,
    logger,
    identity: opts.identity ?? `${release}-${process.pid}`,
  });
  return Object.assign(operator, {
    logs,
    release,
    namespace,
    serviceAccount: shipped.serviceAccount,
    kubeConfig: shipped.kubeConfig,
    manifests: shipped.manifests,
  });
}

/**
 * A least-privilege OpenBao identity for the shipped operator `vaultsync-<name>`: an ACL policy
 * (HCL) and a Kubernetes-auth role bound to the release's ServiceAccount (audience `vault`).
 * Returns the flow-YAML value of `auth:` for a vault backend or vault-pki issuer.
 */
export function operatorVaultAuth(bed: Testbed, name: string, policyHcl: string): Promise<string> {
  const release = releaseName(name);
  return vaultAuthFor(bed, { namespace: release, serviceAccount: release }, policyHcl);
}

/**
 * A tenant: namespace, ServiceAccount `tenant` bound to the built-in ClusterRole `edit` there,
 * and nothing else. Waits until `edit` (with the chart's aggregated rules, when a shipped
 * operator's chart was applied) lets it create VaultSecrets.
 */
export async function createTenant(bed: Testbed, namespace: string): Promise<Tenant> {
  const serviceAccount = 'tenant';
  await ensureNamespace(bed, namespace);
  await adminApply(bed, [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: serviceAccount, namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'tenant-edit', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
    },
  ]);
  const token = await serviceAccountToken(bed, namespace, serviceAccount);
  const kubeConfig = tokenKubeConfig(bed, `${namespace}-${serviceAccount}`, token);
  const authz = kubeConfig.makeApiClient(k8s.AuthorizationV1Api);
  await eventually(
    `edit in ${namespace} to cover vaultsecrets (role aggregation)`,
    async () => {
      const review = await authz.createSelfSubjectAccessReview({
        body: {
          spec: {
            resourceAttributes: {
              namespace,
              group: 'vaultsync.io',
              resource: 'vaultsecrets',
              verb: 'create',
            },
          },
        },
      });
      return review.status?.allowed ? true : undefined;
    },
    20_000,
    250,
  ).catch(() => undefined); // without a shipped chart there is nothing to aggregate; creates then fail loudly
  return {
    namespace,
    serviceAccount,
    token,
    kubeConfig,
    client: createKubeClient(kubeConfig),
    tokenFor: (audience, expirationSeconds = 3600) =>
      serviceAccountToken(bed, namespace, serviceAccount, [audience], expirationSeconds),
  };
}
