// The hostile-tenant suite's harness: the operator as shipped (the chart's ServiceAccount, RBAC
// and rendered config; least-privilege OpenBao credentials) and tenants that hold only the
// built-in `edit` role in their namespace. Cluster-admin and OpenBao's root token set things up,
// nothing else.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import winston from 'winston';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { loadConfig } from '../../src/config/index.ts';
import { createKubeClient, createObject, type KubeClient } from '../../src/kube/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { type RunningOperator, startOperator } from '../../src/operator.ts';
import { installCrds } from '../support/crds.ts';
import type { Testbed } from '../support/testbed.ts';
import { baoApi, kubernetesAuth } from '../support/testbed/openbao.ts';
import { binary, repoRoot } from '../support/testbed/paths.ts';
import { eventually } from '../support/wait.ts';

const CHART = join(repoRoot, 'charts/vaultsync');
/** The kinds of the rendered chart that make up the operator's identity and its powers. */
const IDENTITY_KINDS = new Set([
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
]);
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

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
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

/** `helm template` of the chart for a release; `--include-crds` is left to installCrds. */
export async function renderChart(
  release: string,
  namespace: string,
  values: Record<string, unknown>,
): Promise<Manifest[]> {
  const work = mkdtempSync(join(tmpdir(), 'vaultsync-security-helm-'));
  try {
    const file = join(work, 'values.yaml');
    // Helm reads YAML 1.1, where a bare off / yes is a boolean: write 1.1 so such strings are quoted.
    writeFileSync(file, stringify(values, { version: '1.1' }));
    const env = {
      ...process.env,
      HELM_CACHE_HOME: join(work, 'cache'),
      HELM_CONFIG_HOME: join(work, 'config'),
      HELM_DATA_HOME: join(work, 'data'),
    };
    const out = await run(
      binary('helm', 'helm'),
      ['template', release, CHART, '-n', namespace, '-f', file],
      env,
    );
    return parseAllDocuments(out)
      .map((d) => d.toJS() as Manifest | null)
      .filter((o): o is Manifest => !!o?.kind);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Server-side apply as the platform admin (the bed's kubeconfig), with the pinned kubectl. */
export async function adminApply(bed: Testbed, objects: readonly object[]): Promise<void> {
  if (objects.length === 0) return;
  const input = objects.map((o) => `---\n${stringify(o)}`).join('');
  await run(
    binary('kubernetes', 'kubectl'),
    ['apply', '--server-side', '--force-conflicts', '--field-manager=vaultsync-security-setup', '-f', '-'],
    { ...process.env, KUBECONFIG: bed.kubeconfig },
    input,
  );
}

export async function ensureNamespace(bed: Testbed, name: string): Promise<void> {
  await createObject(createKubeClient(bed.kubeConfig()), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409 && !/already ?exists/i.test(String(err))) throw err;
  });
}

/** A kubeconfig for the bed's apiserver that holds only this bearer token. */
export function tokenKubeConfig(bed: Testbed, user: string, token: string): k8s.KubeConfig {
  const cluster = bed.kubeConfig().getCurrentCluster()!;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'bed', server: cluster.server, caData: cluster.caData, caFile: cluster.caFile }],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: 'bed', user }],
    currentContext: user,
  });
  return kc;
}

export async function serviceAccountToken(
  bed: Testbed,
  namespace: string,
  name: string,
  audiences: string[] = [],
  expirationSeconds = 3600,
): Promise<string> {
  const core = bed.kubeConfig().makeApiClient(k8s.CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences, expirationSeconds } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error(`no token for ServiceAccount ${namespace}/${name}`);
  return token;
}

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
  const admin = bed.kubeConfig();
  await installCrds(admin);
  await ensureNamespace(bed, namespace);
  const testConfig = (parse(opts.config) ?? {}) as Record<string, unknown>;
  const values = mergeDeep(
    {
      config: {
        operator: {
          logLevel: 'debug',
          leaderElection: { leaseDuration: '4s', renewDeadline: '3s', retryPeriod: '500ms' },
        },
        backends: testConfig.backends ?? [{ name: 'memory', type: 'memory', allowedNamespaces: ['*'] }],
        ...(testConfig.issuers && chartRendersIssuers() ? { issuers: testConfig.issuers } : {}),
      },
      audit: { sink: 'off' },
    },
    opts.chartValues ?? {},
  );
  const manifests = await renderChart(release, namespace, values);
  for (const ns of new Set(manifests.map((m) => m.metadata.namespace).filter((n): n is string => !!n))) {
    await ensureNamespace(bed, ns);
  }
  await adminApply(
    bed,
    manifests.filter((m) => IDENTITY_KINDS.has(m.kind)),
  );
  const serviceAccount = manifests.find((m) => m.kind === 'ServiceAccount')?.metadata.name ?? release;

  const configSecret = manifests.find((m) => m.kind === 'Secret' && m.metadata.name === `${release}-config`);
  const rendered = configText(configSecret);
  const doc = parse(rendered) as Record<string, Record<string, unknown>>;
  doc.operator = {
    ...doc.operator,
    healthAddress: '127.0.0.1:0',
    metricsAddress: '0',
    leaderElection: { ...(doc.operator?.leaderElection as object), enabled: opts.leaderElection ?? false },
  };
  // Until the chart's schema takes issuers (issue 13), they go straight into the config.
  if (testConfig.issuers && !chartRendersIssuers())
    doc.issuers = testConfig.issuers as Record<string, unknown>;
  for (const section of PASSED_SECTIONS) {
    if (testConfig[section]) doc[section] = mergeDeep(doc[section] ?? {}, testConfig[section] as object);
  }
  if (doc.api && doc.api.address !== '0') doc.api.address = '127.0.0.1:0';
  const config = await loadConfig({ text: stringify(doc) }, { env: { POD_NAMESPACE: namespace } });

  const token = await serviceAccountToken(bed, namespace, serviceAccount);
  const kubeConfig = tokenKubeConfig(bed, serviceAccount, token);
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
    kubeConfig,
    logger,
    identity: opts.identity ?? `${release}-${process.pid}`,
  });
  return Object.assign(operator, { logs, release, namespace, serviceAccount, kubeConfig, manifests });
}

/**
 * A least-privilege OpenBao identity for a shipped operator: an ACL policy (HCL) and a
 * Kubernetes-auth role bound to the release's ServiceAccount (audience `vault`). Returns the
 * flow-YAML value of `auth:` for a vault backend or vault-pki issuer that logs in as the operator.
 */
export async function operatorVaultAuth(bed: Testbed, name: string, policyHcl: string): Promise<string> {
  const release = releaseName(name);
  const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
  const role = `op-${release}`;
  await bao('PUT', `sys/policies/acl/${role}`, { policy: policyHcl });
  await bao('POST', `auth/${kubernetesAuth.mountPath}/role/${role}`, {
    bound_service_account_names: [release],
    bound_service_account_namespaces: [release],
    audience: 'vault',
    token_policies: [role],
    token_ttl: '1h',
  });
  return `{kubernetes: {role: ${role}, mountPath: ${kubernetesAuth.mountPath}, serviceAccount: operator, audiences: [vault]}}`;
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

/** Log lines that report a refusal (HTTP 403, Forbidden, PermissionDenied): a test fails on one it did not ask for. */
export function forbiddenLines(logs: readonly string[]): string[] {
  return logs
    .filter((l) => /forbidden|HTTP 403|PermissionDenied|permission denied/i.test(l))
    .map((l) => l.slice(0, 400));
}

function chartRendersIssuers(): boolean {
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as {
    properties?: { config?: { properties?: Record<string, unknown> } };
  };
  return !!schema.properties?.config?.properties?.issuers;
}

function configText(secret: Manifest | undefined): string {
  const fields = secret as { stringData?: Record<string, string>; data?: Record<string, string> } | undefined;
  const text =
    fields?.stringData?.['config.yaml'] ??
    (fields?.data?.['config.yaml']
      ? Buffer.from(fields.data['config.yaml'], 'base64').toString('utf8')
      : undefined);
  if (!text) throw new Error('the rendered chart has no config Secret with config.yaml');
  return text;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; arrays and scalars from `over` replace. */
export function mergeDeep<T extends object>(base: T, over: object): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeDeep(out[k], v) : v;
  }
  return out as T;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err)
        reject(new Error(`${cmd.split('/').pop()} ${args.slice(0, 2).join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
