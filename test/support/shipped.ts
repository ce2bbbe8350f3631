// vaultsync as shipped: the chart rendered by helm, its ServiceAccount and RBAC applied by the
// platform admin, its rendered config, and a kubeconfig that holds nothing but a token of that
// ServiceAccount. The hostile-tenant suite (test/security) and `make dev` run the operator this way.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { createKubeClient, createObject } from '../../src/kube/index.ts';
import { installCrds } from './crds.ts';
import type { Testbed } from './testbed/index.ts';
import { baoApi, kubernetesAuth } from './testbed/openbao.ts';
import { binary, repoRoot } from './testbed/paths.ts';

export const CHART = join(repoRoot, 'charts/vaultsync');
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

/** A cluster to install into as its admin: the bed, or any cluster a kubeconfig file names (e2e). */
export type Cluster = Pick<Testbed, 'kubeconfig' | 'kubeConfig'>;

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export interface ShippedIdentity {
  /** The rendered chart's objects (for assertions on what ships). */
  manifests: Manifest[];
  serviceAccount: string;
  /** A kubeconfig that holds nothing but a token of the operator's ServiceAccount. */
  kubeConfig: k8s.KubeConfig;
  /** The operator config the chart rendered (config.yaml of its config Secret), parsed. */
  config: Record<string, Record<string, unknown>>;
}

/**
 * Renders the chart for `release` in `namespace` with `values`, installs the CRDs, and applies
 * the ServiceAccount, RBAC and admission policies as the bed's admin: what `helm install` would
 * create, less the Deployment (the operator runs in the calling process instead).
 */
export async function installShippedIdentity(
  bed: Cluster,
  release: string,
  namespace: string,
  values: Record<string, unknown>,
): Promise<ShippedIdentity> {
  await installCrds(bed.kubeConfig());
  await ensureNamespace(bed, namespace);
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
  const config = parse(configText(configSecret)) as ShippedIdentity['config'];
  const token = await serviceAccountToken(bed, namespace, serviceAccount);
  return { manifests, serviceAccount, kubeConfig: tokenKubeConfig(bed, serviceAccount, token), config };
}

/** `helm template` of the chart for a release (CRDs are left to installCrds). */
export async function renderChart(
  release: string,
  namespace: string,
  values: Record<string, unknown>,
): Promise<Manifest[]> {
  const work = mkdtempSync(join(tmpdir(), 'vaultsync-helm-'));
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
export async function adminApply(bed: Cluster, objects: readonly object[]): Promise<void> {
  if (objects.length === 0) return;
  const input = objects.map((o) => `---\n${stringify(o)}`).join('');
  await run(
    binary('kubernetes', 'kubectl'),
    ['apply', '--server-side', '--force-conflicts', '--field-manager=vaultsync-setup', '-f', '-'],
    { ...process.env, KUBECONFIG: bed.kubeconfig },
    input,
  );
}

export async function ensureNamespace(bed: Cluster, name: string): Promise<void> {
  await createObject(createKubeClient(bed.kubeConfig()), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409 && !/already ?exists/i.test(String(err))) throw err;
  });
}

/** A kubeconfig for the bed's apiserver that holds only this bearer token. */
export function tokenKubeConfig(bed: Cluster, user: string, token: string): k8s.KubeConfig {
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
  bed: Cluster,
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
 * A least-privilege OpenBao identity for an operator's ServiceAccount: an ACL policy (HCL) and a
 * Kubernetes-auth role bound to it (audience `vault`), as docs/backends/vault.md teaches. Returns
 * the flow-YAML value of `auth:` for a vault backend or vault-pki issuer that logs in as the operator.
 */
export async function operatorVaultAuth(
  bed: Testbed,
  operator: { namespace: string; serviceAccount: string },
  policyHcl: string,
): Promise<string> {
  const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
  const role = `op-${operator.namespace}-${operator.serviceAccount}`;
  await bao('PUT', `sys/policies/acl/${role}`, { policy: policyHcl });
  await bao('POST', `auth/${kubernetesAuth.mountPath}/role/${role}`, {
    bound_service_account_names: [operator.serviceAccount],
    bound_service_account_namespaces: [operator.namespace],
    audience: 'vault',
    token_policies: [role],
    token_ttl: '1h',
  });
  return `{kubernetes: {role: ${role}, mountPath: ${kubernetesAuth.mountPath}, serviceAccount: operator, audiences: [vault]}}`;
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

/** Log lines that report a refusal (HTTP 403, Forbidden, PermissionDenied): a test fails on one it did not ask for. */
export function forbiddenLines(logs: readonly string[]): string[] {
  return logs
    .filter((l) => /HTTP 403|"code":"Forbidden"|\bis forbidden\b|PermissionDenied|permission denied/i.test(l))
    .filter((l) => !NAMESPACE_TERMINATING.test(l))
    .map((l) => l.slice(0, 400));
}

/**
 * The apiserver's 403 for new objects (events) in a namespace being deleted: admission, not
 * authorization; earlier test files delete their namespaces while later operators still see them.
 */
const NAMESPACE_TERMINATING = /unable to create new content in namespace \S+ because it is being terminated/;

type ConfigEntry = Record<string, unknown> & {
  type?: string;
  auth?: { token?: { value?: string } };
  kv?: { mount?: string };
  pki?: { mount?: string };
  allowedPaths?: string[];
  allowedWritePaths?: string[];
};

/**
 * Replaces OpenBao's root token in the config's vault backends and vault-pki issuers by what
 * the docs teach: KV through Kubernetes auth as the operator's ServiceAccount, the PKI through
 * an AppRole whose secret_id sits in a Secret of the operator's namespace; each with a policy for
 * exactly what the tenancy rules allow (KV reads where allowedPaths match, writes where
 * allowedWritePaths match; PKI sign, issue and revoke). Returns the entries, changed in place.
 */
export async function withLeastPrivilegeVault(
  bed: Testbed,
  operator: { namespace: string; serviceAccount: string },
  entries: ConfigEntry[],
): Promise<ConfigEntry[]> {
  const rooted = entries.filter(
    (e) => (e.type === 'vault' || e.type === 'vault-pki') && e.auth?.token?.value === bed.baoToken,
  );
  const kv = rooted.filter((e) => e.type === 'vault');
  const pki = rooted.filter((e) => e.type === 'vault-pki');
  if (kv.length > 0) {
    const auth = parse(await operatorVaultAuth(bed, operator, vaultPolicy(kv))) as ConfigEntry['auth'];
    for (const e of kv) e.auth = auth;
  }
  if (pki.length > 0) {
    const auth = await operatorAppRole(bed, operator, vaultPolicy(pki));
    for (const e of pki) e.auth = auth;
  }
  return entries;
}

/** An AppRole with this policy; its secret_id in Secret `<serviceAccount>-pki-approle` beside the operator. */
async function operatorAppRole(
  bed: Testbed,
  operator: { namespace: string; serviceAccount: string },
  policyHcl: string,
): Promise<ConfigEntry['auth']> {
  const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
  const role = `pki-${operator.namespace}-${operator.serviceAccount}`;
  const secretName = `${operator.serviceAccount}-pki-approle`;
  await bao('POST', 'sys/auth/approle', { type: 'approle' }).catch((err: unknown) => {
    if (!/already in use/.test(String(err))) throw err;
  });
  await bao('PUT', `sys/policies/acl/${role}`, { policy: policyHcl });
  await bao('POST', `auth/approle/role/${role}`, { token_policies: [role], token_ttl: '1h' });
  const roleId = ((await bao('GET', `auth/approle/role/${role}/role-id`)) as { data: { role_id: string } })
    .data.role_id;
  const secretId = (
    (await bao('POST', `auth/approle/role/${role}/secret-id`, {})) as { data: { secret_id: string } }
  ).data.secret_id;
  await adminApply(bed, [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secretName, namespace: operator.namespace },
      type: 'Opaque',
      stringData: { 'secret-id': secretId },
    },
  ]);
  return { appRole: { roleId, secretIdRef: { name: secretName, key: 'secret-id' } } } as ConfigEntry['auth'];
}

/** An OpenBao ACL policy (HCL) granting the vault entries what their rules allow, nothing else. */
export function vaultPolicy(entries: readonly ConfigEntry[]): string {
  const caps = new Map<string, Set<string>>();
  const grant = (path: string, ...c: string[]) => {
    const set = caps.get(path) ?? new Set<string>();
    for (const x of c) set.add(x);
    caps.set(path, set);
  };
  for (const e of entries) {
    if (e.type === 'vault-pki') {
      const mount = e.pki?.mount ?? 'pki';
      for (const op of ['sign', 'issue']) grant(`${mount}/${op}/+`, 'update');
      grant(`${mount}/revoke`, 'update');
      continue;
    }
    const mount = e.kv?.mount ?? 'secret';
    for (const g of e.allowedPaths ?? ['**']) {
      grant(`${mount}/data/${policyGlob(g)}`, 'read');
      // A find lists folders and reads custom_metadata (tags); metadata holds no values.
      grant(`${mount}/metadata/${policyGlob(g)}`, 'read', 'list');
    }
    // OpenBao applies the most specific matching path alone (no union across paths), so a write
    // path keeps the read its writer needs to check what it wrote. Delete: the newest version
    // (recoverable), after a metadata read; `delete` on metadata/ (every version) is not taught.
    for (const g of e.allowedWritePaths ?? []) {
      grant(`${mount}/data/${policyGlob(g)}`, 'read', 'create', 'update', 'delete');
      grant(`${mount}/metadata/${policyGlob(g)}`, 'read', 'list');
    }
  }
  return [...caps]
    .map(([path, c]) => `path "${path}" { capabilities = [${[...c].map((x) => `"${x}"`).join(', ')}] }`)
    .join('\n');
}

/** A tenancy path glob as an OpenBao policy path: `+` for one segment, a trailing `*` for the rest. */
export function policyGlob(glob: string): string {
  const out: string[] = [];
  for (const seg of glob.split('/')) {
    if (seg === '**') {
      out.push('*');
      break; // OpenBao globs only at the end: everything below
    }
    out.push(seg.includes('*') || seg.includes('{namespace}') ? '+' : seg);
  }
  return out.join('/');
}
