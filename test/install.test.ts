// Installing vaultsync the way users do, against the real local control plane: the Helm chart
// (lint, render, server dry-run, install under the restricted Pod Security Standard, values
// rejected with a clear message), the kustomize manifests (the same objects as the chart), the
// chart's RBAC (the operator does its work with a token of the chart's ServiceAccount and is
// refused the rest), the image's production layout (started from a prod-only install), and the
// YAML samples in the install docs.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  copyFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import winston from 'winston';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { FieldManager, type VaultCertificate, type VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { type ConfigError, loadConfig } from '../src/config/index.ts';
import {
  type KubeClient,
  PatchType,
  createKubeClient,
  createObject,
  deleteObject,
  getObject,
  serverSideApply,
} from '../src/kube/index.ts';
import { createLogger } from '../src/observability/logger.ts';
import { type RunningOperator, startOperator } from '../src/operator.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { binary, repoRoot } from './support/testbed/paths.ts';
import { freePort } from './support/testbed/ports.ts';
import { eventually } from './support/wait.ts';
import { isTestSupportName } from '../hack/dist-rules.ts';

/** The API's listen address in a rendered config (`address: ":8443"`): tests bind loopback only. */
const LISTEN_ADDRESS = /(\n\s+address: )["']?:\d+["']?/g;
const CHART = join(repoRoot, 'charts/vaultsync');
const API = 'vaultsync.io/v1alpha1';
/** VaultCertificates of the RBAC test, in TENANT_NS (their Secrets: `<name>-tls`). */
const CERTIFICATES = ['install-cert', 'install-typed'];
/**
 * The release installed into the bed, in a namespace enforcing Pod Security "restricted". Not
 * `vaultsync`: the other integration tests apply that release's ServiceAccount and RBAC
 * (test/support/operator.ts), whose cluster-scoped objects a Helm release of that name could not
 * adopt.
 */
const RELEASE = 'vaultsync-install';
const OPERATOR_NS = 'vaultsync-install';
const TENANT_NS = 'team-a'; // OpenBao's Kubernetes auth role binds team-a/vaultsync
const DRYRUN_NS = 'vaultsync';
const WATCHED_NS = ['team-a', 'install-b'];
/** A second release with rbac.scope namespaced (RBAC only in WATCHED_NS), in its own namespace. */
const NS_RELEASE = 'vs-ns';
const NS_OPERATOR_NS = 'vaultsync-ns';
/** Its full name: ServiceAccount, config Secret, Roles. */
const NS_FULLNAME = 'vs-ns-vaultsync';
/** Not watched by the namespaced release. */
const UNWATCHED_NS = 'install-c';

/** One entry of each backend and issuer type, as a user would put it in the chart's values. */
const TYPE_EXAMPLES = {
  vault: {
    type: 'vault',
    address: 'https://vault.vault.svc:8200',
    auth: { kubernetes: { role: 'vaultsync-{namespace}' } },
    allowedPaths: ['{namespace}/**'],
  },
  kubernetes: { type: 'kubernetes', namespace: 'vaultsync-sources' },
  memory: { type: 'memory', data: { 'team-a/app': { greeting: 'hello' } } },
  'aws-secrets-manager': {
    type: 'aws-secrets-manager',
    region: 'eu-west-1',
    auth: {
      static: {
        accessKeyIdRef: { name: 'aws-creds', key: 'id' },
        secretAccessKeyRef: { name: 'aws-creds', key: 'secret' },
      },
    },
  },
  'gcp-secret-manager': {
    type: 'gcp-secret-manager',
    project: 'my-project-123',
    auth: { serviceAccountKeyRef: { name: 'gcp-key', key: 'key.json' } },
  },
  'azure-key-vault': {
    type: 'azure-key-vault',
    vaultUrl: 'https://my-vault.vault.azure.net',
    auth: { workloadIdentity: {} },
  },
  'vault-pki': {
    type: 'vault-pki',
    address: 'https://vault.vault.svc:8200',
    auth: { appRole: { roleId: 'vaultsync', secretIdRef: { name: 'approle', key: 'secret-id' } } },
    allowedRoles: ['svc'],
  },
  'local-ca': { type: 'local-ca', ca: { namespace: 'vaultsync-ca', keyAlgorithm: 'Ed25519' } },
} as const;
const EIGHT_TYPES = Object.keys(TYPE_EXAMPLES);
const ISSUER_TYPES: readonly string[] = ['vault-pki', 'local-ca'];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
) {
  return new Promise<Result>((resolve) => {
    const child = execFile(
      cmd,
      args,
      { env: opts.env ?? process.env, cwd: opts.cwd ?? repoRoot, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

function ok(r: Result, what: string): string {
  assert.equal(r.code, 0, `${what} failed (exit ${r.code}):\n${r.stderr}\n${r.stdout.slice(0, 4000)}`);
  return r.stdout;
}

type Obj = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

const objects = (text: string): Obj[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => !!o && typeof o === 'object' && 'kind' in o);

const idOf = (o: Obj) => `${o.kind} ${o.metadata.namespace ?? '-'}/${o.metadata.name}`;

/** What differs only by who rendered it: Helm's own labels, the config checksum, encoding. */
function normalise(o: Obj): Obj {
  const copy = structuredClone(o) as Obj & {
    spec?: {
      template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } };
    };
    data?: Record<string, string>;
  };
  for (const labels of [copy.metadata.labels, copy.spec?.template?.metadata?.labels]) {
    if (!labels) continue;
    delete labels['helm.sh/chart'];
    delete labels['app.kubernetes.io/managed-by'];
  }
  const annotations = copy.spec?.template?.metadata?.annotations;
  if (annotations) {
    delete annotations['checksum/config'];
    if (Object.keys(annotations).length === 0) delete copy.spec!.template!.metadata!.annotations;
  }
  if (copy.kind === 'Secret' && copy.data?.['config.yaml']) {
    copy.data['config.yaml'] = parse(Buffer.from(copy.data['config.yaml'], 'base64').toString('utf8'));
  }
  return copy;
}

/** Paths where two values differ, for a readable assertion message. */
function differences(a: unknown, b: unknown, path = ''): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`),
    );
  }
  return [`${path || '(root)'}: ${JSON.stringify(a)?.slice(0, 200)} != ${JSON.stringify(b)?.slice(0, 200)}`];
}

const statusCode = (err: unknown) =>
  (err as { status?: number; code?: number }).status ?? (err as { code?: number }).code;

describe('install: Helm chart, kustomize, RBAC, image', function () {
  this.timeout(180_000);
  let bed: Testbed;
  let admin: KubeClient;
  let helm: string;
  let kubectl: string;
  let env: NodeJS.ProcessEnv;
  let work: string;
  let saKubeConfig: k8s.KubeConfig;
  let saKubeconfigFile: string;
  /** The image's production layout, prepared in the background from the start. */
  let imageLayout: Promise<{ dir: string; log: string }>;

  const helmRun = (args: string[]) => run(helm, args, { env });
  const kubectlRun = (args: string[], input?: string) => run(kubectl, args, { env, input });
  const template = async (name: string, namespace: string, values: object = {}) => {
    const file = join(work, `values-${name}-${namespace}.yaml`);
    writeFileSync(file, stringify(values));
    return ok(
      await helmRun(['template', name, CHART, '--namespace', namespace, '--include-crds', '-f', file]),
      `helm template (${name})`,
    );
  };
  const ensureNamespace = async (name: string, labels: Record<string, string> = {}) => {
    await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }).catch(
      (err: unknown) => {
        if (statusCode(err) !== 409) throw err;
      },
    );
  };

  /** A kubeconfig holding nothing but a token of this ServiceAccount (also written to a file). */
  const serviceAccountKubeConfig = async (namespace: string, name: string) => {
    const core = bed.kubeConfig().makeApiClient(k8s.CoreV1Api);
    const tr = await core.createNamespacedServiceAccountToken({
      namespace,
      name,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const cluster = bed.kubeConfig().getCurrentCluster()!;
    const caData =
      cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'bed', cluster: { server: cluster.server, 'certificate-authority-data': caData } }],
      users: [{ name, user: { token: tr.status!.token } }],
      contexts: [{ name, context: { cluster: 'bed', user: name } }],
      'current-context': name,
    };
    const file = join(work, `${namespace}-${name}.kubeconfig`);
    writeFileSync(file, stringify(kubeconfig), { mode: 0o600 });
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(file);
    return { file, kubeConfig };
  };
  /** The config file exactly as a release installed it, health on a free loopback port. */
  const installedConfigText = async (namespace: string, fullname: string) => {
    const installed = await getObject<k8s.V1Secret>(admin, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace,
      name: `${fullname}-config`,
    });
    return Buffer.from(installed!.data!['config.yaml']!, 'base64')
      .toString('utf8')
      .replace(/healthAddress: .*/, 'healthAddress: 127.0.0.1:0')
      .replace(LISTEN_ADDRESS, '$1"127.0.0.1:0"');
  };
  const readyVaultSecret = async (namespace: string, name: string) => {
    const vs = await getObject<VaultSecret>(admin, { apiVersion: API, kind: 'VaultSecret', namespace, name });
    const c = vs?.status?.conditions?.find((x) => x.type === 'Ready');
    return c?.status === 'True' ? vs : undefined;
  };
  const secretValue = async (namespace: string, name: string, key: string) => {
    const secret = await getObject<k8s.V1Secret>(admin, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace,
      name,
    });
    const value = secret?.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString();
  };
  /** A debug logger that keeps its lines. */
  const captureLogs = () => {
    const logs: string[] = [];
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
    return { logs, logger };
  };
  const refusedRequests = (logs: readonly string[]) =>
    logs.filter((l) => /forbidden|HTTP 403/i.test(l)).map((l) => l.slice(0, 400));

  /** The operator config for the installed release: memory and OpenBao (Kubernetes auth). */
  const installValues = () => ({
    config: {
      operator: {
        logLevel: 'debug',
        leaderElection: { leaseDuration: '4s', renewDeadline: '3s', retryPeriod: '500ms' },
      },
      backends: [
        {
          name: 'memory',
          type: 'memory',
          allowedNamespaces: [TENANT_NS],
          allowedPaths: ['{namespace}/**'],
          data: { [`${TENANT_NS}/app`]: { greeting: 'hello from memory' } },
        },
        {
          name: 'vault',
          type: 'vault',
          address: bed.baoAddr,
          tls: { insecure: true },
          auth: {
            kubernetes: { role: bed.baoKubernetesAuth.role, mountPath: bed.baoKubernetesAuth.mountPath },
          },
          allowedNamespaces: [TENANT_NS],
          allowedPaths: ['{namespace}/**'],
        },
      ],
      // For the VaultCertificates: OpenBao PKI, rendered into the config's backends.
      issuers: [
        {
          name: 'pki',
          type: 'vault-pki',
          address: bed.baoAddr,
          tls: { insecure: true },
          auth: { token: { value: bed.baoToken } },
          allowedNamespaces: [TENANT_NS],
        },
      ],
    },
  });

  before(async function () {
    bed = await testbed();
    admin = createKubeClient(bed.kubeConfig());
    helm = binary('helm', 'helm');
    kubectl = binary('kubernetes', 'kubectl');
    work = mkdtempSync(join(tmpdir(), 'vaultsync-install-'));
    env = {
      ...process.env,
      KUBECONFIG: bed.kubeconfig,
      HELM_CACHE_HOME: join(work, 'helm/cache'),
      HELM_CONFIG_HOME: join(work, 'helm/config'),
      HELM_DATA_HOME: join(work, 'helm/data'),
    };
    imageLayout = prepareImageLayout(join(work, 'image'));
    imageLayout.catch(() => undefined); // awaited (and reported) by its own test
    await ensureNamespace(DRYRUN_NS);
    for (const ns of [...WATCHED_NS, TENANT_NS, UNWATCHED_NS, NS_OPERATOR_NS]) await ensureNamespace(ns);
    await ensureNamespace(OPERATOR_NS, {
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    });
    // Stand-ins for the Prometheus Operator CRDs, so ServiceMonitor and PrometheusRule reach
    // the apiserver in the dry runs (their content is not validated by these).
    ok(
      await kubectlRun(['apply', '--server-side', '-f', '-'], JSON.stringify(monitoringStandIns())),
      'stand-in CRDs',
    );
    ok(
      await kubectlRun([
        'wait',
        '--for=condition=Established',
        'crd/servicemonitors.monitoring.coreos.com',
        'crd/prometheusrules.monitoring.coreos.com',
      ]),
      'stand-in CRDs established',
    );
  });

  after(async function () {
    this.timeout(60_000);
    if (!helm) return;
    for (const name of ['from-memory', 'from-openbao', 'ns-sync']) {
      await deleteObject(admin, { apiVersion: API, kind: 'VaultSecret', namespace: TENANT_NS, name });
    }
    for (const name of CERTIFICATES) {
      await deleteObject(admin, { apiVersion: API, kind: 'VaultCertificate', namespace: TENANT_NS, name });
      await deleteObject(admin, {
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: TENANT_NS,
        name: `${name}-tls`,
      });
    }
    await helmRun(['uninstall', RELEASE, '--namespace', OPERATOR_NS, '--wait', '--timeout', '30s']);
    await helmRun(['uninstall', NS_RELEASE, '--namespace', NS_OPERATOR_NS, '--wait', '--timeout', '30s']);
    const bedNamespaces = new Set([TENANT_NS, 'default', 'kube-system']);
    const docs = [...docNamespaces].filter((ns) => !bedNamespaces.has(ns));
    for (const ns of [
      OPERATOR_NS,
      NS_OPERATOR_NS,
      'install-b',
      UNWATCHED_NS,
      DRYRUN_NS,
      'vaultsync-docs',
      ...docs,
    ]) {
      await kubectlRun(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    }
    await kubectlRun([
      'delete',
      'crd',
      'servicemonitors.monitoring.coreos.com',
      'prometheusrules.monitoring.coreos.com',
      '--ignore-not-found',
    ]);
    await imageLayout?.catch(() => undefined); // still writing into work/ when its test was skipped
    rmSync(work, { recursive: true, force: true });
  });

  it('charts/vaultsync/crds holds exactly the generated crds/ (make chart-crds)', () => {
    const source = readdirSync(join(repoRoot, 'crds')).filter((f) => f.endsWith('.yaml'));
    const chart = readdirSync(join(CHART, 'crds')).filter(
      (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml',
    );
    assert.deepEqual(chart.sort(), source.sort(), 'run `make chart-crds`');
    for (const f of source) {
      assert.ok(
        readFileSync(join(CHART, 'crds', f)).equals(readFileSync(join(repoRoot, 'crds', f))),
        `charts/vaultsync/crds/${f} differs from crds/${f}: run \`make chart-crds\``,
      );
    }
    const listed = parse(readFileSync(join(CHART, 'crds/kustomization.yaml'), 'utf8')) as {
      resources: string[];
    };
    assert.deepEqual([...listed.resources].sort(), source.sort(), 'charts/vaultsync/crds/kustomization.yaml');
  });

  it('helm lint --strict is clean', async () => {
    const out = ok(await helmRun(['lint', '--strict', CHART]), 'helm lint');
    assert.doesNotMatch(out, /\[(WARNING|ERROR)\]/, out);
  });

  it('helm template renders the defaults, a namespaced install and every option; all pass kubectl apply --dry-run=server', async () => {
    const renders: [string, string][] = [
      ['defaults', await template(RELEASE, DRYRUN_NS)],
      [
        'namespaced',
        await template(RELEASE, DRYRUN_NS, {
          rbac: { scope: 'namespaced', watchNamespaces: WATCHED_NS },
          config: {
            backends: [
              {
                name: 'vault',
                type: 'vault',
                address: 'https://vault.vault.svc:8200',
                auth: {
                  appRole: { roleId: 'vaultsync', secretIdRef: { name: 'approle', key: 'secret-id' } },
                },
                allowedNamespaces: WATCHED_NS,
              },
              { name: 'dev', type: 'kubernetes', namespace: 'install-b', allowedNamespaces: ['team-a'] },
            ],
          },
        }),
      ],
      [
        'everything on',
        await template('vs-all', DRYRUN_NS, {
          image: { digest: `sha256:${'a'.repeat(64)}` },
          networkPolicy: {
            metricsFrom: [
              { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
            ],
            egress: {
              enabled: true,
              apiServerCidrs: ['10.0.0.1/32'],
              extra: [
                { to: [{ ipBlock: { cidr: '10.1.0.0/16' } }], ports: [{ port: 8200, protocol: 'TCP' }] },
              ],
            },
          },
          metrics: {
            serviceMonitor: { enabled: true },
            prometheusRule: { enabled: true },
            dashboard: { enabled: true },
          },
          extraVolumes: [{ name: 'vault-ca', configMap: { name: 'vault-ca' } }],
          extraVolumeMounts: [{ name: 'vault-ca', mountPath: '/etc/vault-ca', readOnly: true }],
          api: {
            port: 9443,
            tls: { secretName: 'vaultsync-api-tls', dnsNames: ['vaultsync.example.com'] },
            secretReads: true,
            secretWrites: true,
            service: { type: 'NodePort' },
          },
          audit: { sink: 'file', path: '/tmp/audit.log' },
          webhooks: {
            receivers: [
              {
                name: 'ops',
                url: 'https://hooks.example.com/vaultsync',
                events: ['sync_failed', 'certificate_expiring'],
                signingKeySecret: { name: 'vaultsync-webhooks', key: 'ops' },
              },
              {
                name: 'dev',
                url: 'http://hooks.dev:8080/',
                insecure: true,
                signingKey: 'dev-only-0123456789abcdef0123456789',
              },
            ],
          },
          config: {
            backends: [
              {
                name: 'vault',
                type: 'vault',
                address: 'https://vault.vault.svc:8200',
                tls: { caFile: '/etc/vault-ca/ca.crt' },
                auth: { kubernetes: { role: 'vaultsync', serviceAccount: 'operator' } },
                allowedNamespaces: ['*'],
              },
            ],
          },
        }),
      ],
    ];
    const kinds = (text: string) => new Set(objects(text).map((o) => o.kind));
    const defaults = kinds(renders[0]![1]);
    for (const k of [
      'CustomResourceDefinition',
      'ClusterRole',
      'Role',
      'Deployment',
      'Service',
      'PodDisruptionBudget',
      'NetworkPolicy',
      'Secret',
    ]) {
      assert.ok(defaults.has(k), `default render has a ${k}`);
    }
    /** The fields of rendered objects looked at below. */
    type Rendered = Obj & {
      spec: { ports?: k8s.V1ServicePort[]; template: { spec: k8s.V1PodSpec } };
      rules: k8s.V1PolicyRule[];
    };
    const byName = (list: Obj[], kind: string, name: string) =>
      list.find((o) => o.kind === kind && o.metadata.name === name) as Rendered;
    const configOf = (list: Obj[]) =>
      parse(
        Buffer.from(
          (list.find((o) => o.kind === 'Secret') as Obj & { data: Record<string, string> }).data[
            'config.yaml'
          ]!,
          'base64',
        ).toString(),
      ) as {
        operator: { watchNamespaces?: string[] };
        api: { address: string; tls?: object };
        audit: object;
        webhooks: { receivers: { signingKeyFile?: string; signingKeySecret?: object }[] };
      };
    const defaultObjects = objects(renders[0]![1]);
    const apiService = byName(defaultObjects, 'Service', RELEASE);
    assert.deepEqual(
      apiService?.spec.ports,
      [{ name: 'api', port: 8443, targetPort: 'api', protocol: 'TCP' }],
      'the API Service',
    );
    const container = byName(defaultObjects, 'Deployment', RELEASE).spec.template.spec.containers[0]!;
    assert.deepEqual(
      container.ports?.map((p) => [p.name, p.containerPort]),
      [
        ['http-metrics', 8081],
        ['api', 8443],
      ],
    );
    assert.equal(configOf(defaultObjects).api.address, ':8443');
    // Pending restarts and the API's CA: ConfigMaps and the Secret by name where the verb allows it
    // (a create carries no name).
    const operatorRules = byName(defaultObjects, 'Role', `${RELEASE}-operator`).rules;
    const rulesFor = (resource: string) =>
      operatorRules
        .filter((r) => r.resources?.includes(resource))
        .map((r) => [r.verbs.join(','), r.resourceNames?.join(',') ?? '*']);
    assert.deepEqual(rulesFor('configmaps'), [
      ['create', '*'],
      ['get,patch', 'vaultsync-pending-restarts'],
      ['get,patch', 'vaultsync-api-ca'],
    ]);
    assert.ok(
      rulesFor('secrets').some(([verbs, names]) => verbs === 'get' && names === 'vaultsync-api-ca'),
      'the API CA Secret: get by name',
    );
    assert.deepEqual(byName(defaultObjects, 'Role', `${RELEASE}-api-ca-reader`).rules, [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['vaultsync-api-ca'] },
    ]);
    assert.deepEqual(
      (byName(defaultObjects, 'RoleBinding', `${RELEASE}-api-ca-reader`) as Rendered & { subjects: object[] })
        .subjects,
      [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }],
      'every authenticated identity may read the CA certificate (and nothing else)',
    );
    assert.equal(
      configOf(defaultObjects).operator.watchNamespaces,
      undefined,
      'cluster scope: all namespaces',
    );

    const namespaced = objects(renders[1]![1]);
    // The only cluster-wide grant of a namespaced install: TokenReview and SubjectAccessReview
    // for the HTTP API (cluster-scoped resources).
    assert.deepEqual(
      namespaced.filter((o) => o.kind === 'ClusterRoleBinding').map((o) => o.metadata.name),
      [`${RELEASE}-auth-delegator`],
      'namespaced: the API auth delegation is the only ClusterRoleBinding',
    );
    assert.deepEqual(
      byName(namespaced, 'ClusterRole', `${RELEASE}-auth-delegator`).rules.flatMap((r) => r.resources),
      ['tokenreviews', 'subjectaccessreviews'],
    );
    const roleNamespaces = namespaced.filter((o) => o.kind === 'Role').map((o) => o.metadata.namespace);
    for (const ns of [...WATCHED_NS, DRYRUN_NS])
      assert.ok(roleNamespaces.includes(ns), `namespaced: a Role in ${ns}`);
    assert.deepEqual(
      configOf(namespaced).operator.watchNamespaces,
      WATCHED_NS,
      'namespaced: the operator watches the namespaces the Roles are in',
    );
    const everything = objects(renders[2]![1]);
    const all = kinds(renders[2]![1]);
    for (const k of ['ServiceMonitor', 'PrometheusRule', 'ConfigMap'])
      assert.ok(all.has(k), `everything-on render has a ${k}`);
    const config = configOf(everything);
    assert.deepEqual(config.api.tls, {
      certFile: '/var/run/secrets/vaultsync/api-tls/tls.crt',
      keyFile: '/var/run/secrets/vaultsync/api-tls/tls.key',
      // Release vs-all: the Service is vs-all-vaultsync, whose names the chart adds.
      dnsNames: [
        'vs-all-vaultsync',
        `vs-all-vaultsync.${DRYRUN_NS}`,
        `vs-all-vaultsync.${DRYRUN_NS}.svc`,
        `vs-all-vaultsync.${DRYRUN_NS}.svc.cluster.local`,
        'vaultsync.example.com',
      ],
    });
    assert.equal(config.api.address, ':9443');
    assert.deepEqual(config.audit, {
      sink: 'file',
      path: '/tmp/audit.log',
      maxSize: 10 * 1024 * 1024,
      maxFiles: 5,
      failClosed: false,
    });
    assert.equal(
      config.webhooks.receivers[0]?.signingKeyFile,
      '/var/run/secrets/vaultsync/webhooks/ops/signing-key',
    );
    assert.equal(config.webhooks.receivers[0]?.signingKeySecret, undefined);
    const pod = byName(everything, 'Deployment', 'vs-all-vaultsync').spec.template.spec;
    const mounts = Object.fromEntries(
      (pod.containers[0]!.volumeMounts ?? []).map((m) => [m.name, m.mountPath]),
    );
    assert.equal(mounts['api-tls'], '/var/run/secrets/vaultsync/api-tls');
    assert.equal(mounts['webhook-key-0'], '/var/run/secrets/vaultsync/webhooks/ops');
    assert.deepEqual(
      pod.volumes?.find((v) => v.name === 'webhook-key-0')?.secret,
      { secretName: 'vaultsync-webhooks', items: [{ key: 'ops', path: 'signing-key' }] },
      'only the one key of the Secret is mounted',
    );
    assert.equal(pod.containers[0]!.ports?.find((p) => p.name === 'api')?.containerPort, 9443);
    // The config the chart renders is one the operator loads.
    for (const [what, list] of [
      ['defaults', defaultObjects],
      ['namespaced', namespaced],
      ['everything on', everything],
    ] as const) {
      const text = stringify(configOf(list));
      await loadConfig({ text, name: what }, CONFIG_OPTIONS);
    }

    for (const [what, text] of renders) {
      const out = ok(await kubectlRun(['apply', '--dry-run=server', '-f', '-'], text), `dry run (${what})`);
      assert.equal(
        out.trim().split('\n').length,
        objects(text).length,
        `${what}: every object answered\n${out}`,
      );
    }
  });

  it('kubectl kustomize config/default gives the objects of the default chart render (plus the Namespace)', async () => {
    const chart = objects(await template('vaultsync', 'vaultsync')).map(normalise);
    const kustomized = objects(
      ok(await kubectlRun(['kustomize', join(repoRoot, 'config/default')]), 'kustomize'),
    ).map(normalise);
    const byId = (list: Obj[]) => new Map(list.map((o) => [idOf(o), o]));
    const a = byId(chart);
    const b = byId(kustomized);
    assert.deepEqual(
      [...b.keys()].filter((id) => !a.has(id)),
      ['Namespace -/vaultsync'],
      'objects only in config/default',
    );
    assert.deepEqual(
      [...a.keys()].filter((id) => !b.has(id)),
      [],
      'objects only in the chart',
    );
    const diffs = [...a].flatMap(([id, o]) => differences(o, b.get(id)).map((d) => `${id} ${d}`));
    assert.deepEqual(diffs, [], 'chart vs config/default');
    const ns = b.get('Namespace -/vaultsync')!;
    assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it('invalid values fail at helm install with a message naming the value', async () => {
    const backend = {
      name: 'main',
      type: 'vault',
      address: 'https://vault:8200',
      auth: { kubernetes: { role: 'x' } },
      allowedNamespaces: ['*'],
    };
    const cases: [string, object, RegExp[]][] = [
      [
        'unknown backend type',
        { config: { backends: [{ ...backend, type: 'dropbox' }] } },
        [
          /at '\/config\/backends\/0\/type': value must be one of /,
          ...EIGHT_TYPES.map((t) => new RegExp(`'${t}'`)),
        ],
      ],
      [
        'an issuer type under issuers only',
        { config: { issuers: [{ ...backend, type: 'vault' }] } },
        [/at '\/config\/issuers\/0\/type': value must be one of 'vault-pki', 'local-ca'/],
      ],
      [
        'bad URL',
        { config: { backends: [{ ...backend, address: 'htp:/vault' }] } },
        [/at '\/config\/backends\/0\/address': value must be 'a URL such as https:\/\/vault:8200'/],
      ],
      [
        'http without tls.insecure',
        { config: { backends: [{ ...backend, address: 'http://vault:8200' }] } },
        [
          /at '\/config\/backends\/0\/address': value must be 'an https:\/\/ URL \(or set tls.insecure: true to allow http:\/\/\)'/,
        ],
      ],
      [
        'two vault login methods',
        {
          config: {
            backends: [{ ...backend, auth: { kubernetes: { role: 'x' }, token: { tokenFile: '/t' } } }],
          },
        },
        [/at '\/config\/backends\/0\/auth': value must be 'exactly one of token, appRole or kubernetes'/],
      ],
      [
        'a field of another backend type',
        { config: { backends: [{ ...backend, region: 'eu-west-1' }] } },
        [/at '\/config\/backends\/0': additional properties 'region' not allowed/],
      ],
      [
        'a backend and an issuer of one name',
        {
          config: {
            issuers: [{ name: 'main', type: 'local-ca', allowedNamespaces: ['*'] }],
            backends: [backend],
          },
        },
        [/"main" is listed twice; backend and issuer names must be unique/],
      ],
      ['negative replicas', { replicaCount: -1 }, [/\/replicaCount/, /got -1/]],
      [
        'no backends',
        { config: { backends: [] } },
        [/at '\/config': value must be 'a mapping with at least one entry in backends or issuers'/],
      ],
      ['namespaced without namespaces', { rbac: { scope: 'namespaced' } }, [/\/rbac\/watchNamespaces/]],
      [
        'a field the chart sets',
        { config: { operator: { namespace: 'x' } } },
        [/\/config\/operator/, /'namespace' not allowed/],
      ],
      [
        'watchNamespaces outside rbac',
        { config: { operator: { watchNamespaces: ['a'] } } },
        [/\/config\/operator/, /'watchNamespaces' not allowed/],
      ],
      ['API port out of range', { api: { port: 70000 } }, [/\/api\/port/, /got 70,000/]],
      [
        'API port taken by the health port',
        { api: { port: 8081 } },
        [/api\.port: 8081 is already healthPort/],
      ],
      ['unknown audit sink', { audit: { sink: 'syslog' } }, [/\/audit\/sink/, /'stdout', 'file', 'off'/]],
      [
        'audit file without a path',
        { audit: { sink: 'file' } },
        [/at '\/audit\/path': value must be 'set \(required when sink is "file"\)'/],
      ],
      [
        'webhook receiver without a signing key',
        { webhooks: { receivers: [{ name: 'ops', url: 'https://hooks.example.com/' }] } },
        [
          /at '\/webhooks\/receivers\/0': value must be 'exactly one of signingKeySecret, signingKeyFile or signingKey'/,
        ],
      ],
      [
        'webhook receiver URL',
        { webhooks: { receivers: [{ name: 'ops', url: 'hooks.example.com', signingKeyFile: '/k' }] } },
        [/at '\/webhooks\/receivers\/0\/url': value must be 'an http:\/\/ or https:\/\/ URL/],
      ],
      [
        'webhook receiver over http without insecure',
        {
          webhooks: {
            receivers: [{ name: 'ops', url: 'http://hooks.example.com/', signingKey: 'k'.repeat(32) }],
          },
        },
        [
          /\/webhooks\/receivers\/0\/url/,
          /an https:\/\/ URL \(or set insecure: true on this receiver to allow http:\/\/\)/,
        ],
      ],
      [
        'webhook signing key shorter than 32 characters',
        {
          webhooks: { receivers: [{ name: 'ops', url: 'https://hooks.example.com/', signingKey: 'short' }] },
        },
        [/\/webhooks\/receivers\/0\/signingKey/],
      ],
      [
        'two webhook receivers of one name',
        {
          webhooks: {
            receivers: [
              { name: 'ops', url: 'https://a.example.com/', signingKey: 'k'.repeat(32) },
              { name: 'ops', url: 'https://b.example.com/', signingKey: 'k'.repeat(32) },
            ],
          },
        },
        [/webhooks\.receivers\[1\]\.name: "ops" is already the name of receivers\[0\]/],
      ],
    ];
    for (const [what, values, patterns] of cases) {
      const file = join(work, `invalid-${what.replaceAll(' ', '-')}.yaml`);
      writeFileSync(file, stringify(values));
      const r = await helmRun(['install', 'vs-invalid', CHART, '--namespace', DRYRUN_NS, '-f', file]);
      assert.notEqual(r.code, 0, `${what}: helm install must fail`);
      for (const p of patterns) assert.match(r.stderr, p, `${what}: message\n${r.stderr}`);
    }
    const status = await helmRun(['status', 'vs-invalid', '--namespace', DRYRUN_NS]);
    assert.notEqual(status.code, 0, 'no release was created');
  });

  it('each of the eight backend and issuer types passes the values schema, and the operator loads the config the chart renders', async () => {
    const renderedConfig = async (values: object) => {
      const secret = objects(await template(RELEASE, DRYRUN_NS, values)).find(
        (o) => o.kind === 'Secret' && o.metadata.name === `${RELEASE}-config`,
      ) as Obj & { data: Record<string, string> };
      return loadConfig(
        { text: Buffer.from(secret.data['config.yaml']!, 'base64').toString() },
        CONFIG_OPTIONS,
      );
    };
    const entries = Object.entries(TYPE_EXAMPLES).map(([type, e]) => ({
      name: type,
      allowedNamespaces: ['*'],
      ...e,
    }));
    for (const entry of entries) {
      // Issuers through config.issuers alone (backends empty), the others through config.backends.
      const issuer = ISSUER_TYPES.includes(entry.type);
      const config = await renderedConfig({
        config: issuer ? { backends: [], issuers: [entry] } : { backends: [entry] },
      });
      const loaded = issuer ? config.issuers : config.backends;
      assert.deepEqual(
        loaded?.map((b) => [b.name, b.type]),
        [[entry.name, entry.type]],
        `${entry.type}: rendered and loaded`,
      );
    }
    // All eight at once, issuers listed under backends as the operator's own config allows.
    const config = await renderedConfig({ config: { backends: entries } });
    assert.deepEqual(
      [...config.backends, ...(config.issuers ?? [])].map((b) => b.type).sort(),
      [...EIGHT_TYPES].sort(),
    );
  });

  it("a value the operator would refuse fails at helm install with the operator's own message", async () => {
    // Each case: a backend entry with one bad field, as chart values and as the operator config.
    const base = { name: 'main', allowedNamespaces: ['*'] };
    const cases: [list: 'backends' | 'issuers', entry: object, field: string][] = [
      ['backends', { ...base, ...TYPE_EXAMPLES['aws-secrets-manager'], region: 'Europe' }, 'region'],
      ['backends', { ...base, ...TYPE_EXAMPLES.kubernetes, namespace: 'Team_A' }, 'namespace'],
      ['backends', { ...base, ...TYPE_EXAMPLES['gcp-secret-manager'], project: 'P' }, 'project'],
      [
        'backends',
        { ...base, ...TYPE_EXAMPLES['azure-key-vault'], auth: { managedIdentity: { clientId: 'me' } } },
        'auth/managedIdentity/clientId',
      ],
      ['backends', { ...base, ...TYPE_EXAMPLES.vault, timeout: '10 seconds' }, 'timeout'],
      ['issuers', { ...base, ...TYPE_EXAMPLES['local-ca'], maxDuration: '1 year' }, 'maxDuration'],
      ['issuers', { ...base, ...TYPE_EXAMPLES['vault-pki'], pki: { mount: '/pki/' } }, 'pki/mount'],
    ];
    for (const [list, entry, field] of cases) {
      const refused = await loadConfig({ text: stringify({ backends: [entry] }) }, CONFIG_OPTIONS).then(
        () => assert.fail(`${field}: the operator must refuse it`),
        (err: unknown) => (err as ConfigError).problems,
      );
      const path = `backends[0].${field.replaceAll('/', '.')}`;
      const message = refused.find((p) => p.path === path)?.message ?? '';
      assert.ok(message?.startsWith('must be '), `${path}: ${JSON.stringify(refused)}`);
      const file = join(work, `refused-${field.replaceAll('/', '-')}.yaml`);
      writeFileSync(
        file,
        stringify({ config: { backends: list === 'backends' ? [entry] : [], [list]: [entry] } }),
      );
      const r = await helmRun(['template', 'vs-invalid', CHART, '--namespace', DRYRUN_NS, '-f', file]);
      assert.notEqual(r.code, 0, `${field}: helm must refuse it`);
      assert.ok(
        r.stderr.includes(
          `at '/config/${list}/0/${field}': value must be '${message.slice('must be '.length)}'`,
        ),
        `${field}: helm prints the operator's "${message}"\n${r.stderr}`,
      );
    }
  });

  it('helm install into the control plane; the pod template is admitted under Pod Security "restricted"', async () => {
    const file = join(work, 'install-values.yaml');
    writeFileSync(file, stringify(installValues()));
    ok(await helmRun(['install', RELEASE, CHART, '--namespace', OPERATOR_NS, '-f', file]), 'helm install');

    const pods = await eventually(
      'the Deployment to create its 2 pods',
      async () => {
        const list = await admin.rest.request<{ items: k8s.V1Pod[] }>({
          method: 'GET',
          path: `/api/v1/namespaces/${OPERATOR_NS}/pods`,
          query: { labelSelector: `app.kubernetes.io/instance=${RELEASE}` },
        });
        return list.items.length === 2 ? list.items : undefined;
      },
      30_000,
      250,
    );
    const spec = pods[0]!.spec!;
    assert.equal(spec.securityContext?.runAsNonRoot, true);
    assert.equal(spec.containers[0]?.securityContext?.readOnlyRootFilesystem, true);
    const events = await admin.rest.request<{ items: k8s.CoreV1Event[] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${OPERATOR_NS}/events`,
    });
    assert.deepEqual(
      events.items.filter((e) => e.reason === 'FailedCreate').map((e) => e.message),
      [],
      'no pod was refused',
    );

    // The namespace really enforces "restricted": the same pod without its security context is refused.
    const deployment = await getObject<k8s.V1Deployment>(admin, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: OPERATOR_NS,
      name: RELEASE,
    });
    const podSpec = deployment!.spec!.template.spec!;
    const pod = (spec: k8s.V1PodSpec) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'admission-probe', namespace: OPERATOR_NS },
      spec,
    });
    ok(
      await kubectlRun(['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod(podSpec))),
      'pod dry run',
    );
    const loose = structuredClone(podSpec);
    delete loose.securityContext;
    delete loose.containers[0]!.securityContext;
    const refused = await kubectlRun(['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod(loose)));
    assert.notEqual(refused.code, 0, 'a pod without the security context is refused');
    assert.match(refused.stderr, /violates PodSecurity "restricted/);
  });

  it('run out of cluster with a token of the chart ServiceAccount, the operator does its work with the chart RBAC only', async () => {
    // A token for the chart's ServiceAccount, and a kubeconfig that holds nothing else.
    ({ file: saKubeconfigFile, kubeConfig: saKubeConfig } = await serviceAccountKubeConfig(
      OPERATOR_NS,
      RELEASE,
    ));
    const sa = createKubeClient(saKubeConfig);

    // The config file exactly as the chart installed it, listening on a free loopback port.
    const config = await loadConfig(
      { text: await installedConfigText(OPERATOR_NS, RELEASE) },
      { env: { POD_NAMESPACE: OPERATOR_NS } },
    );
    assert.deepEqual(
      config.issuers?.map((i) => i.name),
      ['pki'],
      'config.issuers rendered into the config',
    );
    assert.equal(config.operator.namespace, OPERATOR_NS);
    assert.equal(config.operator.serviceAccountName, RELEASE);

    await baoApi({ addr: bed.baoAddr, token: bed.baoToken })('POST', `secret/data/${TENANT_NS}/install`, {
      data: { password: 'from-openbao' },
    });
    const { logs, logger } = captureLogs();
    let operator: RunningOperator | undefined;
    try {
      operator = await startOperator({ config, kubeConfig: saKubeConfig, logger, identity: 'install-test' });
      const spec = (backend: string, path: string, key: string, property: string) => ({
        backend,
        data: [{ secretKey: key, remoteRef: { path, property } }],
        target: { deletionPolicy: 'Delete' as const },
      });
      for (const [name, s] of [
        ['from-memory', spec('memory', `${TENANT_NS}/app`, 'greeting', 'greeting')],
        ['from-openbao', spec('vault', `${TENANT_NS}/install`, 'password', 'password')],
      ] as const) {
        await deleteObject(admin, { apiVersion: API, kind: 'VaultSecret', namespace: TENANT_NS, name }); // a rerun
        await createObject<VaultSecret>(admin, {
          apiVersion: API,
          kind: 'VaultSecret',
          metadata: { name, namespace: TENANT_NS },
          spec: s,
        });
      }
      const describeState = async (name: string) =>
        JSON.stringify(
          (
            await getObject<VaultSecret>(admin, {
              apiVersion: API,
              kind: 'VaultSecret',
              namespace: TENANT_NS,
              name,
            })
          )?.status,
        );
      for (const [name, key, value] of [
        ['from-memory', 'greeting', 'hello from memory'],
        ['from-openbao', 'password', 'from-openbao'],
      ] as const) {
        await eventually(`${name} Ready`, () => readyVaultSecret(TENANT_NS, name), 30_000, 200).catch(
          async (err: Error) => {
            throw new Error(`${err.message}: ${await describeState(name)}\n${logs.slice(-20).join('')}`);
          },
        );
        assert.equal(await secretValue(TENANT_NS, name, key), value);
      }

      // VaultCertificate: a certificate from OpenBao PKI in a kubernetes.io/tls Secret; and a
      // Secret of its own with another type (which cannot change) is left for a person to delete
      // (the chart grants no delete on Secrets), then replaced once it is gone.
      const vcRef = (name: string) => ({
        apiVersion: API,
        kind: 'VaultCertificate',
        namespace: TENANT_NS,
        name,
      });
      const secretRef = (name: string) => ({ apiVersion: 'v1', kind: 'Secret', namespace: TENANT_NS, name });
      for (const name of CERTIFICATES) {
        await deleteObject(admin, vcRef(name)); // a rerun
        await deleteObject(admin, secretRef(`${name}-tls`));
      }
      // A Secret the certificate controller itself wrote (its field manager, its labels) but of
      // another type: a label alone would not make it its own (SecretNotOwned).
      await serverSideApply<k8s.V1Secret>(
        admin,
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: {
            name: 'install-typed-tls',
            namespace: TENANT_NS,
            labels: {
              'app.kubernetes.io/managed-by': 'vaultsync',
              'vaultsync.io/vaultcertificate': 'install-typed',
            },
          },
          type: 'Opaque',
          stringData: { note: 'not a certificate' },
        },
        { fieldManager: FieldManager.VaultCertificate },
      );
      for (const name of CERTIFICATES) {
        await createObject<VaultCertificate>(admin, {
          apiVersion: API,
          kind: 'VaultCertificate',
          metadata: { name, namespace: TENANT_NS },
          spec: {
            issuer: { backend: 'pki', role: 'svc' },
            dnsNames: [`${name}.${TENANT_NS}.svc.cluster.local`],
            duration: '1h',
            secretName: `${name}-tls`,
          },
        });
      }
      const vcReady = (name: string, reason = 'Issued') =>
        eventually(
          `VaultCertificate ${name} Ready reason ${reason}`,
          async () => {
            const vc = await getObject<VaultCertificate>(admin, vcRef(name));
            const c = vc?.status?.conditions?.find((x) => x.type === 'Ready');
            return c?.reason === reason ? c : undefined;
          },
          30_000,
          200,
        ).catch(async (err: Error) => {
          const vc = await getObject<VaultCertificate>(admin, vcRef(name));
          throw new Error(`${err.message}: ${JSON.stringify(vc?.status)}\n${logs.slice(-20).join('')}`);
        });
      await vcReady('install-cert');
      const tls = await getObject<k8s.V1Secret>(admin, secretRef('install-cert-tls'));
      assert.equal(tls?.type, 'kubernetes.io/tls');
      assert.ok(tls?.data?.['tls.crt'] && tls.data['tls.key']);
      const mismatch = await vcReady('install-typed', 'SecretTypeMismatch');
      assert.match(mismatch.message ?? '', /has type Opaque.*delete the Secret/);
      const kept = await getObject<k8s.V1Secret>(admin, secretRef('install-typed-tls'));
      assert.equal(kept?.type, 'Opaque', 'the Secret is neither deleted nor written');
      await deleteObject(admin, secretRef('install-typed-tls'));
      await vcReady('install-typed');
      assert.equal(
        (await getObject<k8s.V1Secret>(admin, secretRef('install-typed-tls')))?.type,
        'kubernetes.io/tls',
      );
      // Its own namespace: the Lease and the HMAC key; events in the tenant namespace.
      const lease = await getObject<k8s.V1Lease>(admin, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        namespace: OPERATOR_NS,
        name: 'vaultsync-leader',
      });
      assert.equal(lease?.spec?.holderIdentity, 'install-test');
      assert.ok(
        await getObject(admin, {
          apiVersion: 'v1',
          kind: 'Secret',
          namespace: OPERATOR_NS,
          name: 'vaultsync-hmac-key',
        }),
      );
      // The API's CA, kept in a Secret and its certificate published in a ConfigMap, with the chart's RBAC.
      assert.ok(
        await getObject(admin, {
          apiVersion: 'v1',
          kind: 'Secret',
          namespace: OPERATOR_NS,
          name: 'vaultsync-api-ca',
        }),
      );
      const caBundle = await getObject<k8s.V1ConfigMap>(admin, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: OPERATOR_NS,
        name: 'vaultsync-api-ca',
      });
      assert.equal(caBundle?.data?.['ca.crt'], operator.apiCaPem, 'the published CA is the one the API uses');
      const events = await admin.rest.request<{ items: k8s.CoreV1Event[] }>({
        method: 'GET',
        path: `/api/v1/namespaces/${TENANT_NS}/events`,
      });
      assert.ok(
        events.items.some((e) => e.reason === 'SecretCreated' && e.involvedObject.name === 'from-openbao'),
      );
      assert.deepEqual(refusedRequests(logs), [], 'no request was refused');

      // Health and metrics; every metric the alerts and the dashboard use is exported.
      const base = `http://${operator.healthAddress}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      const exposition = await (await fetch(`${base}/metrics`)).text();
      const exported = new Set([...exposition.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => m[1]!));
      const rules = objects(
        await template(RELEASE, OPERATOR_NS, {
          metrics: { prometheusRule: { enabled: true }, dashboard: { enabled: true } },
        }),
      );
      const used = new Set(
        [
          JSON.stringify(rules.find((o) => o.kind === 'PrometheusRule')),
          readFileSync(join(CHART, 'dashboards/vaultsync.json'), 'utf8'),
        ].flatMap((t) =>
          [...t.matchAll(/\b((?:vaultsync|controller_runtime|workqueue)_[a-z0-9_]+)/g)].map((m) => m[1]!),
        ),
      );
      const missing = [...used].filter(
        (n) => !exported.has(n) && !exported.has(n.replace(/_(bucket|sum|count)$/, '')),
      );
      assert.deepEqual(missing, [], 'metrics used by the PrometheusRule / dashboard but not exported');
      assert.ok(used.has('vaultsync_resource_ready') && used.has('vaultsync_backend_circuit_state'));
      assert.match(
        exposition,
        /vaultsync_resource_ready\{kind="VaultSecret",namespace="team-a",name="from-memory"\} 1/,
      );
    } finally {
      await operator?.stop();
    }

    // ...and what the chart does not grant is refused.
    const refused = async (what: string, call: () => Promise<unknown>) => {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err, `${what}: must be refused`);
      assert.equal(statusCode(err), 403, `${what}: ${String(err)}`);
    };
    const post = (path: string, body: unknown) => sa.rest.request({ method: 'POST', path, body });
    await refused('a token for another ServiceAccount', () =>
      post(`/api/v1/namespaces/${TENANT_NS}/serviceaccounts/default/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: [] },
      }),
    );
    await refused('deleting a Secret', () =>
      sa.rest.request({ method: 'DELETE', path: `/api/v1/namespaces/${TENANT_NS}/secrets/from-memory` }),
    );
    await refused('replacing a Secret (PUT)', () =>
      sa.rest.request({
        method: 'PUT',
        path: `/api/v1/namespaces/${TENANT_NS}/secrets/from-memory`,
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'from-memory', namespace: TENANT_NS } },
      }),
    );
    await refused('listing ConfigMaps', () => sa.rest.request({ method: 'GET', path: '/api/v1/configmaps' }));
    // Pods only with config.operator.annotatePods (off by default).
    await refused('listing pods', () =>
      sa.rest.request({ method: 'GET', path: `/api/v1/namespaces/${TENANT_NS}/pods` }),
    );
    await refused('patching a pod', () =>
      sa.rest.request({
        method: 'PATCH',
        path: `/api/v1/namespaces/${TENANT_NS}/pods/any`,
        contentType: PatchType.merge,
        body: { metadata: { annotations: { a: 'b' } } },
      }),
    );
    await refused('another ConfigMap in its own namespace', () =>
      sa.rest.request({ method: 'GET', path: `/api/v1/namespaces/${OPERATOR_NS}/configmaps/other` }),
    );
    await refused('pods/exec', () => post(`/api/v1/namespaces/${OPERATOR_NS}/pods/x/exec`, {}));
    await refused('deleting a Deployment', () =>
      sa.rest.request({
        method: 'DELETE',
        path: `/apis/apps/v1/namespaces/${OPERATOR_NS}/deployments/${RELEASE}`,
      }),
    );
    await refused('listing nodes', () => sa.rest.request({ method: 'GET', path: '/api/v1/nodes' }));
    // patch on vaultsecrets is granted for the Merge + Delete finalizer only; creating or
    // deleting the kinds is not.
    await refused('deleting a VaultSecret', () =>
      sa.rest.request({
        method: 'DELETE',
        path: `/apis/${API}/namespaces/${TENANT_NS}/vaultsecrets/from-memory`,
      }),
    );
    await refused('creating a VaultSecret', () =>
      post(`/apis/${API}/namespaces/${TENANT_NS}/vaultsecrets`, {
        apiVersion: API,
        kind: 'VaultSecret',
        metadata: { name: 'not-allowed' },
        spec: { backend: 'memory', data: [{ secretKey: 'k', remoteRef: { path: 'p', property: 'k' } }] },
      }),
    );
    await refused('another Lease', () =>
      sa.rest.request({
        method: 'GET',
        path: `/apis/coordination.k8s.io/v1/namespaces/${OPERATOR_NS}/leases/other`,
      }),
    );

    // What the HTTP API needs is granted (authorization comes before the lookup, so a 404 for
    // an object that does not exist means allowed).
    const granted = async (what: string, call: () => Promise<unknown>) => {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (err) assert.equal(statusCode(err), 404, `${what}: ${String(err)}`);
    };
    await granted('a TokenReview', () =>
      post('/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token: 'not-a-token' },
      }),
    );
    await granted('a SubjectAccessReview', () =>
      post('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: 'someone',
          resourceAttributes: {
            group: 'vaultsync.io',
            verb: 'create',
            resource: 'vaultsecrets',
            subresource: 'sync',
            namespace: TENANT_NS,
          },
        },
      }),
    );
    for (const [resource, annotation] of [
      ['vaultsecrets', 'vaultsync.io/sync-now'],
      ['secretrotations', 'vaultsync.io/rotate-now'],
    ] as const) {
      await granted(`the ${annotation} annotation on ${resource}`, () =>
        sa.rest.request({
          method: 'PATCH',
          path: `/apis/${API}/namespaces/${TENANT_NS}/${resource}/absent`,
          contentType: PatchType.merge,
          body: { metadata: { annotations: { [annotation]: '1' } } },
        }),
      );
    }
  });

  it('a namespaced install: the operator watches only rbac.watchNamespaces, with the Roles there only', async () => {
    // The chart with rbac.scope namespaced; no pods (the operator runs out of cluster below).
    const values = {
      replicaCount: 0,
      rbac: { scope: 'namespaced', watchNamespaces: WATCHED_NS },
      config: {
        operator: { logLevel: 'debug' },
        backends: [
          {
            name: 'memory',
            type: 'memory',
            // The unwatched namespace is allowed too: what keeps it out is the watch scope.
            allowedNamespaces: [...WATCHED_NS, UNWATCHED_NS],
            allowedPaths: ['{namespace}/**'],
            data: Object.fromEntries(
              [...WATCHED_NS, UNWATCHED_NS].map((ns) => [`${ns}/ns-app`, { greeting: `hello ${ns}` }]),
            ),
          },
        ],
      },
    };
    const file = join(work, 'namespaced-values.yaml');
    writeFileSync(file, stringify(values));
    ok(
      await helmRun(['install', NS_RELEASE, CHART, '--namespace', NS_OPERATOR_NS, '-f', file]),
      'helm install (namespaced)',
    );
    const { kubeConfig } = await serviceAccountKubeConfig(NS_OPERATOR_NS, NS_FULLNAME);
    const sa = createKubeClient(kubeConfig);
    const config = await loadConfig(
      { text: await installedConfigText(NS_OPERATOR_NS, NS_FULLNAME) },
      { env: { POD_NAMESPACE: NS_OPERATOR_NS } },
    );
    assert.deepEqual(config.operator.watchNamespaces, WATCHED_NS, 'the chart wrote rbac.watchNamespaces');

    const { logs, logger } = captureLogs();
    const vsRef = (namespace: string) => ({
      apiVersion: API,
      kind: 'VaultSecret',
      namespace,
      name: 'ns-sync',
    });
    const spec = (namespace: string) => ({
      backend: 'memory',
      data: [{ secretKey: 'greeting', remoteRef: { path: `${namespace}/ns-app`, property: 'greeting' } }],
      target: { deletionPolicy: 'Delete' as const },
    });
    // The unwatched one first: had it been seen, it would be done before the watched ones.
    for (const ns of [UNWATCHED_NS, ...WATCHED_NS]) {
      await deleteObject(admin, vsRef(ns)); // a rerun
      await createObject<VaultSecret>(admin, {
        apiVersion: API,
        kind: 'VaultSecret',
        metadata: { name: 'ns-sync', namespace: ns },
        spec: spec(ns),
      });
    }
    let operator: RunningOperator | undefined;
    try {
      operator = await startOperator({ config, kubeConfig, logger, identity: 'install-namespaced' });
      for (const ns of WATCHED_NS) {
        await eventually(`ns-sync in ${ns} Ready`, () => readyVaultSecret(ns, 'ns-sync'), 30_000, 200).catch(
          (err: Error) => {
            throw new Error(`${err.message}\n${logs.slice(-20).join('')}`);
          },
        );
        assert.equal(await secretValue(ns, 'ns-sync', 'greeting'), `hello ${ns}`);
      }
      const base = `http://${operator.healthAddress}`;
      await eventually('/readyz', async () =>
        (await fetch(`${base}/readyz`)).status === 200 ? true : undefined,
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const ignored = await getObject<VaultSecret>(admin, vsRef(UNWATCHED_NS));
      assert.equal(ignored?.status, undefined, `${UNWATCHED_NS}: never reconciled (no status)`);
      assert.equal(
        await getObject(admin, {
          apiVersion: 'v1',
          kind: 'Secret',
          namespace: UNWATCHED_NS,
          name: 'ns-sync',
        }),
        undefined,
        `${UNWATCHED_NS}: no Secret`,
      );
      // Its own namespace still works: the Lease and the HMAC key.
      const lease = await getObject<k8s.V1Lease>(admin, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        namespace: NS_OPERATOR_NS,
        name: 'vaultsync-leader',
      });
      assert.equal(lease?.spec?.holderIdentity, 'install-namespaced');
      assert.ok(
        await getObject(admin, {
          apiVersion: 'v1',
          kind: 'Secret',
          namespace: NS_OPERATOR_NS,
          name: 'vaultsync-hmac-key',
        }),
      );
      assert.deepEqual(refusedRequests(logs), [], 'no request was refused');
      assert.ok(
        logs.some((l) => /Started vaultsync/.test(l) && l.includes(WATCHED_NS.join('","'))),
        'the start-up line names the watched namespaces',
      );
    } finally {
      await operator?.stop();
      for (const ns of [UNWATCHED_NS, ...WATCHED_NS]) await deleteObject(admin, vsRef(ns));
    }

    // The identity really is namespaced: nothing cluster-wide, nothing in the unwatched namespace.
    const refused = async (what: string, path: string) => {
      const err = await sa.rest.request({ method: 'GET', path }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.equal(err && statusCode(err), 403, `${what}: must be refused`);
    };
    await refused('VaultSecrets of all namespaces', `/apis/${API}/vaultsecrets`);
    await refused('Secrets of all namespaces', '/api/v1/secrets');
    await refused(`VaultSecrets in ${UNWATCHED_NS}`, `/apis/${API}/namespaces/${UNWATCHED_NS}/vaultsecrets`);
    await refused(`Secrets in ${UNWATCHED_NS}`, `/api/v1/namespaces/${UNWATCHED_NS}/secrets`);
    await refused(`Deployments in ${UNWATCHED_NS}`, `/apis/apps/v1/namespaces/${UNWATCHED_NS}/deployments`);
  });

  it('the image layout: a production-only install and dist/ start and answer /healthz and /readyz', async function () {
    const { dir, log } = await imageLayout.catch((err: Error) => {
      throw new Error(`preparing the image layout failed: ${err.message}`);
    });
    for (const dev of ['typescript', 'mocha', 'eslint', 'prettier', 'node']) {
      assert.ok(!existsSync(join(dir, 'node_modules', dev)), `devDependency ${dev} is not installed\n${log}`);
    }
    // No source maps in production: none compiled (tsconfig.build.json), none kept from the
    // dependencies (prod-deps deletes them), and no compiled file that points to one.
    const files = (sub: string) =>
      readdirSync(join(dir, sub), { recursive: true, encoding: 'utf8' }).map((f) => join(sub, f));
    const compiled = files('dist');
    assert.ok(compiled.includes(join('dist', 'main.js')), 'dist/main.js compiled');
    assert.deepEqual(
      [...compiled, ...files('node_modules')].filter((f) => f.endsWith('.map')),
      [],
      'no source map in the image',
    );
    assert.deepEqual(
      compiled.filter(
        (f) => /\.[cm]?js$/.test(f) && readFileSync(join(dir, f), 'utf8').includes('sourceMappingURL'),
      ),
      [],
      'no sourceMappingURL in dist/',
    );
    assert.deepEqual(compiled.filter(isTestSupportName), [], 'no test, fake or fixture in dist/');
    assert.ok(saKubeconfigFile, 'needs the ServiceAccount kubeconfig of the previous test');
    const installed = await getObject<k8s.V1Secret>(admin, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: OPERATOR_NS,
      name: `${RELEASE}-config`,
    });
    const port = await freePort();
    const configFile = join(dir, 'config.yaml');
    writeFileSync(
      configFile,
      Buffer.from(installed!.data!['config.yaml']!, 'base64')
        .toString('utf8')
        .replace(/healthAddress: .*/, `healthAddress: 127.0.0.1:${port}`)
        .replace(LISTEN_ADDRESS, '$1"127.0.0.1:0"'),
    );
    // The image's command line (Dockerfile ENTRYPOINT + CMD), with the config path and the
    // out-of-cluster credentials swapped in.
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    const entrypoint = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)![1]!) as string[];
    const cmd = JSON.parse(/^CMD (.*)$/m.exec(dockerfile)![1]!) as string[];
    assert.equal(entrypoint[0], 'node');
    assert.ok(
      !entrypoint.includes('--enable-source-maps'),
      `no source maps to enable: ${entrypoint.join(' ')}`,
    );
    const args = [...entrypoint.slice(1), ...cmd]
      .map((a) => (a === '/etc/vaultsync/config.yaml' ? configFile : a.replace(/^\/app\//, `${dir}/`)))
      .concat(['--kubeconfig', saKubeconfigFile, '--identity', 'image-layout-test']);
    const child = spawn(process.execPath, args, {
      cwd: dir,
      env: { PATH: process.env.PATH, NODE_ENV: 'production', POD_NAMESPACE: OPERATOR_NS, HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const status = (path: string) =>
        fetch(`http://127.0.0.1:${port}${path}`).then(
          (r) => (r.status === 200 ? r.status : undefined),
          () => undefined,
        );
      await eventually('/healthz', () => status('/healthz'), 30_000, 200).catch((err: Error) => {
        throw new Error(`${err.message}\n${output}`);
      });
      await eventually('/readyz', () => status('/readyz'), 30_000, 200).catch((err: Error) => {
        throw new Error(`${err.message}\n${output}`);
      });
      assert.match(output, /Started vaultsync/);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `clean exit on SIGTERM\n${output}`);
  });

  it('the kubectl plugin runs from the built output with the production dependencies only', async () => {
    const { dir } = await imageLayout;
    assert.ok(saKubeconfigFile, 'needs the ServiceAccount kubeconfig of an earlier test');
    const r = await run(
      process.execPath,
      [
        join(dir, 'dist/cli/kubectl-vaultsync.js'),
        '--kubeconfig',
        saKubeconfigFile,
        'status',
        '-A',
        '-o',
        'json',
      ],
      { cwd: dir, env: { PATH: process.env.PATH, HOME: dir } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Array.isArray((JSON.parse(r.stdout) as { items: unknown }).items), r.stdout);
  });

  it('the base image is pinned by digest: the Dockerfile has no default, make image refuses a bare tag', async () => {
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^ARG NODE_IMAGE$/m, 'NODE_IMAGE has no default');
    assert.deepEqual(
      [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]),
      ['${NODE_IMAGE}', '${NODE_IMAGE}', '${NODE_IMAGE}'],
      'every stage is built on NODE_IMAGE',
    );
    const make = (vars: string[]) =>
      run('make', ['--no-print-directory', '-C', repoRoot, 'image', 'CONTAINER_TOOL=false', ...vars]);
    for (const vars of [[], ['NODE_IMAGE=node:24-bookworm-slim']]) {
      const r = await make(vars);
      assert.notEqual(r.code, 0);
      assert.match(r.stdout, /NODE_IMAGE must pin the base image by digest/, `make image ${vars.join(' ')}`);
    }
    // Pinned (or explicitly allowed unpinned), the check passes and the build goes on: here it
    // stops at the missing container engine.
    for (const vars of [
      [`NODE_IMAGE=node:24-bookworm-slim@sha256:${'0'.repeat(64)}`],
      ['NODE_IMAGE=node:24-bookworm-slim', 'ALLOW_UNPINNED=1'],
    ]) {
      const r = await make(vars);
      assert.doesNotMatch(r.stdout, /must pin/, `make image ${vars.join(' ')}`);
      assert.match(r.stdout, /no container engine answers/);
    }
  });

  it('every YAML sample in the install docs applies to the control plane (server dry run)', async () => {
    const checked = await checkDocSamples({ kubectlRun, template, ensureNamespace, work, env });
    assert.ok(checked.objects > 5, `found ${checked.objects} objects`);
  });
});

// -----------------------------------------------------------------------------------------------

/** Runs the Dockerfile's steps in `dir`, laid out like the image's /app. */
async function prepareImageLayout(dir: string): Promise<{ dir: string; log: string }> {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const stage = dockerfile.split(/^FROM /m).find((s) => /^\S+ AS prod-deps$/m.test(s.split('\n')[0]!));
  assert.ok(stage, 'Dockerfile has a prod-deps stage');
  const steps = [...stage.matchAll(/^RUN ((?:.*\\\n)*.*)$/gm)].map((m) => m[1]!.replaceAll('\\\n', ' '));
  assert.ok(
    steps.some((s) => s.includes('npm ci --omit=dev')),
    'prod-deps runs npm ci --omit=dev',
  );
  rmSync(dir, { recursive: true, force: true });
  await run('mkdir', ['-p', dir]);
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(repoRoot, f), join(dir, f));
  const log: string[] = [];
  const build = run(process.execPath, [
    join(repoRoot, 'node_modules/typescript/bin/tsc'),
    '-p',
    'tsconfig.build.json',
    '--outDir',
    join(dir, 'dist'),
  ]);
  for (const step of steps) {
    const r = await run('sh', ['-c', step], {
      cwd: dir,
      env: { ...process.env, npm_config_prefer_offline: 'true' },
    });
    log.push(`$ ${step}\n${r.stdout}${r.stderr}`);
    if (r.code !== 0) throw new Error(`${step} failed:\n${r.stderr}`);
  }
  const built = await build;
  if (built.code !== 0)
    throw new Error(`tsc -p tsconfig.build.json failed (the image's build stage):\n${built.stdout}`);
  return { dir, log: log.join('\n') };
}

function monitoringStandIns(): object {
  const crd = (kind: string, plural: string) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com` },
    spec: {
      group: 'monitoring.coreos.com',
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  });
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [crd('ServiceMonitor', 'servicemonitors'), crd('PrometheusRule', 'prometheusrules')],
  };
}

/** API groups of other projects that docs samples mention; not installed on the bed. */
const FOREIGN_GROUPS = [
  'argoproj.io',
  'source.toolkit.fluxcd.io',
  'helm.toolkit.fluxcd.io',
  'kustomize.toolkit.fluxcd.io',
  'external-secrets.io',
  'cert-manager.io',
  'kustomize.config.k8s.io', // a kustomization.yaml, not an API object
];

/** Namespaces the docs samples made; removed at the end. */
const docNamespaces = new Set<string>();

/** The loader as in the pod; files named by the config (CA bundles) read as a placeholder PEM. */
const CONFIG_OPTIONS = {
  env: { POD_NAMESPACE: 'vaultsync' },
  readFile: async () => Buffer.from('-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n'),
};

const DOCS = ['quickstart.md', 'install.md', 'operations.md', 'security.md', 'gitops.md', 'migration.md'];

/**
 * Every ```yaml block of the install docs: Kubernetes objects go to `kubectl apply
 * --dry-run=server` (objects of other projects' API groups are only parsed); a block starting
 * with `# values.yaml` must render with the chart; one starting with `# config.yaml` must load
 * as the operator config.
 */
async function checkDocSamples(h: {
  kubectlRun: (args: string[], input?: string) => Promise<Result>;
  template: (name: string, ns: string, values?: object) => Promise<string>;
  ensureNamespace: (name: string) => Promise<void>;
  work: string;
  env: NodeJS.ProcessEnv;
}): Promise<{ objects: number }> {
  const problems: string[] = [];
  let count = 0;
  const ns = 'vaultsync-docs';
  await h.ensureNamespace(ns);
  for (const doc of DOCS) {
    const file = join(repoRoot, 'docs', doc);
    if (!existsSync(file)) {
      problems.push(`docs/${doc} is missing`);
      continue;
    }
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/```yaml\n([\s\S]*?)```/g)) {
      const block = m[1]!;
      const where = `docs/${doc}:${text.slice(0, m.index).split('\n').length}`;
      try {
        if (block.startsWith('# values.yaml')) {
          // Renders, and the operator's own loader accepts the config file it renders.
          const rendered = objects(await h.template('vaultsync', 'vaultsync', parse(block) as object));
          const secret = rendered.find((o) => o.kind === 'Secret' && o.metadata.name.endsWith('-config')) as
            (Obj & { data: Record<string, string> }) | undefined;
          await loadConfig(
            { text: Buffer.from(secret!.data['config.yaml']!, 'base64').toString() },
            CONFIG_OPTIONS,
          );
          continue;
        }
        if (block.startsWith('# config.yaml')) {
          await loadConfig({ text: block }, CONFIG_OPTIONS);
          continue;
        }
        for (const o of objects(block)) {
          count++;
          const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '';
          if (FOREIGN_GROUPS.includes(group)) continue;
          if (!o.metadata?.name) throw new Error(`${o.kind} has no metadata.name`);
          if (o.metadata.namespace) {
            docNamespaces.add(o.metadata.namespace);
            await h.ensureNamespace(o.metadata.namespace);
          }
          const target = o.metadata.namespace ? [] : ['-n', ns];
          const r = await h.kubectlRun(
            ['apply', '--dry-run=server', ...target, '-f', '-'],
            JSON.stringify(o),
          );
          if (r.code !== 0) throw new Error(r.stderr.trim());
        }
      } catch (err) {
        problems.push(`${where}: ${(err as Error).message}`);
      }
    }
  }
  assert.deepEqual(problems, [], 'doc samples');
  return { objects: count };
}
