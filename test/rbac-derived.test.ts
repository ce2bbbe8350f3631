// The chart's RBAC, derived from what the code calls. A table in code says what each configured
// feature needs (API group, resource, verb, namespace, name); for several configurations the
// Roles and ClusterRoles the chart renders for the operator's ServiceAccount are compared with
// it both ways: nothing needed is missing, nothing granted is unneeded. Then the features of
// issue 13 are proved for real: the operator runs with a token of the release's ServiceAccount
// (namespaced scope) and creates a local-CA Secret, writes a kubernetes backend twice (create,
// then a patch carrying the resourceVersion) and refuses AnnotatePods, with no request refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Secret } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { SecretRotation, VaultCertificate } from '../src/apis/v1alpha1/index.ts';
import { createKubeClient, createObject, getObject, mergePatch, type KubeClient } from '../src/kube/index.ts';
import {
  type Manifest,
  type ShippedOperator,
  ensureNamespace,
  forbiddenLines,
  renderChart,
  startShippedOperator,
} from './security/harness.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { repoRoot } from './support/testbed/paths.ts';
import { eventually } from './support/wait.ts';

type Json = Record<string, unknown>;

/** One permission: `namespace` '' = cluster-scoped resource, '*' = every namespace; no name = any. */
interface Permission {
  group: string;
  resource: string;
  verb: string;
  namespace: string;
  name?: string;
}

/** What a feature's code calls, given the release and its (defaulted) values. */
interface Feature {
  feature: string;
  /** Where in the code (for the reader who wants to check the table). */
  code: string;
  needs(r: Release): Permission[];
}

interface Release {
  namespace: string;
  serviceAccount: string;
  /** The namespaces resources are served in: ['*'] with rbac.scope cluster. */
  served: string[];
  values: Json;
  /** config.backends then config.issuers, as the chart renders them. */
  entries: Json[];
}

const grant = (
  group: string,
  resources: string[],
  verbs: string[],
  namespace: string,
  name?: string,
): Permission[] =>
  resources.flatMap((resource) =>
    verbs.map((verb) => ({ group, resource, verb, namespace, ...(name !== undefined && { name }) })),
  );
const inServed = (r: Release, f: (ns: string) => Permission[]) => r.served.flatMap(f);
const at = (v: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Json)[k] : undefined), v);

/** Every `{name, key}` Secret key reference below `auth` (credentials the backend reads). */
function secretRefs(auth: unknown): { name: string; namespace?: string }[] {
  if (!auth || typeof auth !== 'object') return [];
  const o = auth as Json;
  const self = typeof o.name === 'string' && typeof o.key === 'string' ? [o as { name: string }] : [];
  return [...self, ...Object.values(o).flatMap(secretRefs)];
}

const kubernetesAuth = (e: Json) =>
  ['vault', 'vault-pki'].includes(String(e.type))
    ? (at(e, 'auth', 'kubernetes') as Json | undefined)
    : undefined;

const FEATURES: Feature[] = [
  {
    feature: 'VaultSecret, VaultCertificate, SecretRotation: informers, status, finalizers',
    code: 'src/controllers/*/index.ts, reconciler.ts (patchStatus, finalizers.ts)',
    needs: (r) =>
      inServed(r, (ns) => [
        ...grant(
          'vaultsync.io',
          ['vaultsecrets', 'vaultcertificates', 'secretrotations'],
          ['get', 'list', 'watch'],
          ns,
        ),
        ...grant(
          'vaultsync.io',
          ['vaultsecrets/status', 'vaultcertificates/status', 'secretrotations/status'],
          ['patch'],
          ns,
        ),
        ...grant('vaultsync.io', ['vaultsecrets/finalizers'], ['update'], ns),
        ...grant('vaultsync.io', ['vaultsecrets', 'vaultcertificates'], ['patch'], ns),
      ]),
  },
  {
    feature: 'target Secrets (label-filtered informer, server-side apply) and Events',
    code: 'src/controllers/vaultsecret/reconciler.ts, vaultcertificate/secret-write.ts, kube/events.ts',
    needs: (r) =>
      inServed(r, (ns) => [
        ...grant('', ['secrets'], ['get', 'list', 'watch', 'create', 'patch'], ns),
        ...grant('', ['events'], ['create', 'patch'], ns),
      ]),
  },
  {
    feature: 'workload reload: Deployments, StatefulSets, DaemonSets, Argo Rollouts',
    code: 'src/controllers/reload/caches.ts (informers), restart-write.ts (mergePatch)',
    needs: (r) =>
      inServed(r, (ns) => [
        ...grant(
          'apps',
          ['deployments', 'statefulsets', 'daemonsets'],
          ['get', 'list', 'watch', 'patch'],
          ns,
        ),
        ...grant('argoproj.io', ['rollouts'], ['get', 'list', 'watch', 'patch'], ns),
      ]),
  },
  {
    feature: 'pending workload restarts: one ConfigMap in the operator namespace',
    code: 'src/controllers/reload/pending-store.ts (getObject, mergePatch, createObject)',
    needs: (r) => [
      ...grant('', ['configmaps'], ['create'], r.namespace),
      ...grant('', ['configmaps'], ['get', 'patch'], r.namespace, 'vaultsync-pending-restarts'),
    ],
  },
  {
    feature: 'SecretRotation restart.mode AnnotatePods (config.operator.annotatePods)',
    code: 'src/controllers/reload/restart-write.ts annotatePods()',
    needs: (r) =>
      at(r.values, 'config', 'operator', 'annotatePods') === true
        ? inServed(r, (ns) => grant('', ['pods'], ['list', 'patch'], ns))
        : [],
  },
  {
    feature: 'leader election',
    code: 'src/kube/leader-election.ts',
    needs: (r) => {
      const lease = String(
        at(r.values, 'config', 'operator', 'leaderElection', 'leaseName') ?? 'vaultsync-leader',
      );
      return [
        ...grant('coordination.k8s.io', ['leases'], ['create'], r.namespace),
        ...grant('coordination.k8s.io', ['leases'], ['get', 'update'], r.namespace, lease),
      ];
    },
  },
  {
    feature: 'HMAC key Secret',
    code: 'src/hmac-key.ts',
    needs: (r) => [
      ...grant('', ['secrets'], ['create'], r.namespace),
      ...grant('', ['secrets'], ['get'], r.namespace, 'vaultsync-hmac-key'),
    ],
  },
  {
    feature: 'HTTP API: TokenReview, SubjectAccessReview, sync and rotate triggers',
    code: 'src/http/api/auth.ts, operations/triggers.ts',
    needs: (r) =>
      at(r.values, 'api', 'enabled') === true
        ? [
            ...grant('authentication.k8s.io', ['tokenreviews'], ['create'], ''),
            ...grant('authorization.k8s.io', ['subjectaccessreviews'], ['create'], ''),
            ...inServed(r, (ns) => grant('vaultsync.io', ['vaultsecrets', 'secretrotations'], ['patch'], ns)),
          ]
        : [],
  },
  {
    feature: 'HTTP API CA: its Secret (generated certificates) and the ConfigMap publishing it',
    code: 'src/http/api/ca.ts',
    needs: (r) => {
      if (at(r.values, 'api', 'enabled') !== true) return [];
      const own = !at(r.values, 'api', 'tls', 'secretName');
      const published = own || !!at(r.values, 'api', 'tls', 'caKey');
      return [
        ...(own
          ? [
              ...grant('', ['secrets'], ['create'], r.namespace),
              ...grant('', ['secrets'], ['get'], r.namespace, 'vaultsync-api-ca'),
            ]
          : []),
        ...(published
          ? [
              ...grant('', ['configmaps'], ['create'], r.namespace),
              ...grant('', ['configmaps'], ['get', 'patch'], r.namespace, 'vaultsync-api-ca'),
            ]
          : []),
      ];
    },
  },
  {
    feature: 'Vault Kubernetes auth as the resource namespace ServiceAccount (vault, vault-pki)',
    code: 'src/backends/vault/backend.ts createAuth, kube-client.ts kubeTokenSource',
    needs: (r) =>
      r.entries.flatMap((e) => {
        const k = kubernetesAuth(e);
        if (!k || k.serviceAccount === 'operator') return [];
        const sa = String(k.serviceAccountName ?? 'vaultsync');
        return inServed(r, (ns) => grant('', ['serviceaccounts/token'], ['create'], ns, sa));
      }),
  },
  {
    feature: 'Vault Kubernetes auth as the operator (serviceAccount: operator)',
    code: 'src/backends/vault/backend.ts createAuth',
    needs: (r) =>
      r.entries.some((e) => kubernetesAuth(e)?.serviceAccount === 'operator')
        ? grant('', ['serviceaccounts/token'], ['create'], r.namespace, r.serviceAccount)
        : [],
  },
  {
    feature: 'credential Secrets named in auth (secretRef, secretIdRef, accessKeyIdRef, ...)',
    code: 'src/backends/*/backend.ts readRef (kube-client.ts get)',
    needs: (r) =>
      r.entries.flatMap((e) =>
        secretRefs(e.auth).flatMap((ref) =>
          grant('', ['secrets'], ['get'], ref.namespace ?? r.namespace, ref.name),
        ),
      ),
  },
  {
    feature:
      'kubernetes backend: reads and finds (list) in its source namespace; writes (allowedWritePaths) create or patch, and delete with api.secretDeletes',
    code: 'src/backends/kubernetes.ts, kube-client.ts (patchData: merge patch with resourceVersion; list; delete with a precondition)',
    needs: (r) =>
      r.entries
        .filter((e) => e.type === 'kubernetes')
        .flatMap((e) => {
          const ns = String(e.namespace);
          const writes = Array.isArray(e.allowedWritePaths) && e.allowedWritePaths.length > 0;
          const deletes =
            writes &&
            at(r.values, 'api', 'enabled') === true &&
            at(r.values, 'api', 'secretDeletes') === true;
          return [
            ...grant('', ['secrets'], ['get', 'list'], ns),
            ...(writes ? grant('', ['secrets'], ['create', 'patch'], ns) : []),
            ...(deletes ? grant('', ['secrets'], ['delete'], ns) : []),
          ];
        }),
  },
  {
    feature: 'local-ca issuer: its CA Secret (get by name; create unless ca.create is false)',
    code: 'src/issuers/local-ca.ts',
    needs: (r) =>
      r.entries
        .filter((e) => e.type === 'local-ca')
        .flatMap((e) => {
          const ca = (e.ca ?? {}) as Json;
          const ns = String(ca.namespace ?? r.namespace);
          return [
            ...grant('', ['secrets'], ['get'], ns, String(ca.secretName ?? 'vaultsync-local-ca')),
            ...(ca.create === false ? [] : grant('', ['secrets'], ['create'], ns)),
          ];
        }),
  },
];

// -----------------------------------------------------------------------------------------------
// The chart's side: what the rendered Roles and ClusterRoles grant the operator's ServiceAccount.

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}

function granted(manifests: Manifest[], release: Release): Permission[] {
  const isOperator = (subjects: unknown) =>
    ((subjects as Json[] | undefined) ?? []).some(
      (s) =>
        s.kind === 'ServiceAccount' && s.name === release.serviceAccount && s.namespace === release.namespace,
    );
  const roles = new Map(
    manifests
      .filter((m) => m.kind === 'Role' || m.kind === 'ClusterRole')
      .map((m) => [`${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`, (m.rules as Rule[]) ?? []]),
  );
  const out: Permission[] = [];
  for (const b of manifests.filter((m) => m.kind === 'RoleBinding' || m.kind === 'ClusterRoleBinding')) {
    if (!isOperator(b.subjects)) continue;
    const ref = b.roleRef as { kind: string; name: string };
    const ns = b.kind === 'RoleBinding' ? b.metadata.namespace! : '*';
    const rules = roles.get(`${ref.kind}/${ref.kind === 'Role' ? ns : ''}/${ref.name}`);
    assert.ok(rules, `${b.kind} ${b.metadata.name}: its ${ref.kind} ${ref.name} is rendered`);
    for (const rule of rules) {
      for (const group of rule.apiGroups ?? []) {
        for (const name of rule.resourceNames?.length ? rule.resourceNames : [undefined]) {
          out.push(...grant(group, rule.resources ?? [], rule.verbs ?? [], ns, name));
        }
      }
    }
  }
  return out;
}

const same = (a: Permission, b: Permission) =>
  a.group === b.group && a.resource === b.resource && a.verb === b.verb;
const show = (p: Permission) =>
  `${p.verb} ${p.group || 'core'}/${p.resource}${p.name ? ` ${p.name}` : ''} in ${p.namespace || '(cluster)'}`;

/** Needs no grant covers. */
const missing = (needs: Permission[], grants: Permission[]) =>
  needs.filter(
    (n) =>
      !grants.some(
        (g) =>
          same(g, n) &&
          (g.namespace === '*' || g.namespace === n.namespace) &&
          (g.name === undefined || g.name === n.name),
      ),
  );

/** Grants no need asks for (a grant to every name needs a need for every name). */
const unneeded = (needs: Permission[], grants: Permission[]) =>
  grants.filter(
    (g) =>
      !needs.some(
        (n) =>
          same(g, n) &&
          (n.namespace === g.namespace ||
            (g.namespace === '*' && (n.namespace === '*' || n.namespace === ''))) &&
          (g.name === undefined ? n.name === undefined : n.name === undefined || n.name === g.name),
      ),
  );

// -----------------------------------------------------------------------------------------------

const DEFAULTS = parse(readFileSync(join(repoRoot, 'charts/vaultsync/values.yaml'), 'utf8')) as Json;

/** Helm's merge of values over the chart defaults: maps merge, lists and scalars replace. */
function mergeValues(base: unknown, over: unknown): unknown {
  if (!over || typeof over !== 'object' || Array.isArray(over)) return over;
  if (!base || typeof base !== 'object' || Array.isArray(base)) return over;
  const out: Json = { ...(base as Json) };
  for (const [k, v] of Object.entries(over)) out[k] = mergeValues(out[k], v);
  return out;
}

function releaseOf(name: string, namespace: string, values: Json): Release {
  const merged = mergeValues(DEFAULTS, values) as Json;
  const rbac = merged.rbac as { scope: string; watchNamespaces: string[] };
  const config = merged.config as { backends?: Json[]; issuers?: Json[] };
  return {
    namespace,
    serviceAccount: `${name}-vaultsync`,
    served: rbac.scope === 'namespaced' ? [...new Set(rbac.watchNamespaces)] : ['*'],
    values: merged,
    entries: [...(config.backends ?? []), ...(config.issuers ?? [])],
  };
}

const needsOf = (r: Release) => FEATURES.flatMap((f) => f.needs(r));

/** Configurations whose rendered RBAC is compared with the table. */
const SCENARIOS: [string, Json][] = [
  ['defaults (cluster scope)', {}],
  [
    'cluster scope, every feature on',
    {
      api: { secretDeletes: true },
      config: {
        operator: { annotatePods: true },
        backends: [
          {
            name: 'src',
            type: 'kubernetes',
            namespace: 'rbac-src',
            allowedNamespaces: ['*'],
            allowedWritePaths: ['*'],
          },
          {
            name: 'vault',
            type: 'vault',
            address: 'https://vault:8200',
            auth: { kubernetes: { role: 'r', serviceAccountName: 'app-reader' } },
            allowedNamespaces: ['*'],
          },
          {
            name: 'aws',
            type: 'aws-secrets-manager',
            region: 'eu-west-1',
            auth: {
              static: {
                accessKeyIdRef: { name: 'aws', key: 'id' },
                secretAccessKeyRef: { name: 'aws', key: 'secret', namespace: 'creds' },
              },
            },
            allowedNamespaces: ['*'],
          },
        ],
        issuers: [
          { name: 'ca', type: 'local-ca', allowedNamespaces: ['*'] },
          {
            name: 'pki',
            type: 'vault-pki',
            address: 'https://vault:8200',
            auth: { kubernetes: { role: 'pki', serviceAccount: 'operator' } },
            allowedNamespaces: ['*'],
          },
        ],
      },
    },
  ],
  [
    'namespaced scope, every feature on',
    {
      rbac: { scope: 'namespaced', watchNamespaces: ['team-a', 'team-b'] },
      api: { secretDeletes: true },
      config: {
        operator: { annotatePods: true, leaderElection: { leaseName: 'other-lease' } },
        backends: [
          {
            name: 'src',
            type: 'kubernetes',
            namespace: 'rbac-src',
            allowedNamespaces: ['*'],
            allowedWritePaths: ['*'],
          },
          { name: 'ro', type: 'kubernetes', namespace: 'rbac-ro', allowedNamespaces: ['*'] },
          {
            name: 'vault',
            type: 'vault',
            address: 'https://vault:8200',
            auth: { appRole: { roleId: 'r', secretIdRef: { name: 'approle', key: 'secret-id' } } },
            allowedNamespaces: ['*'],
          },
          {
            name: 'gcp',
            type: 'gcp-secret-manager',
            project: 'my-project-123',
            auth: { serviceAccountKeyRef: { name: 'gcp', key: 'key.json', namespace: 'creds' } },
            allowedNamespaces: ['*'],
          },
        ],
        issuers: [
          { name: 'ca', type: 'local-ca', allowedNamespaces: ['*'] },
          {
            name: 'ca-given',
            type: 'local-ca',
            allowedNamespaces: ['*'],
            ca: { namespace: 'pki', secretName: 'given-ca', create: false },
          },
          {
            name: 'pki',
            type: 'vault-pki',
            address: 'https://vault:8200',
            auth: { kubernetes: { role: 'pki' } },
            allowedNamespaces: ['*'],
          },
        ],
      },
    },
  ],
  [
    'namespaced scope, API off, a given API certificate, read-only kubernetes backend',
    {
      rbac: { scope: 'namespaced', watchNamespaces: ['team-a'] },
      api: { enabled: false },
      config: {
        backends: [{ name: 'ro', type: 'kubernetes', namespace: 'rbac-ro', allowedNamespaces: ['team-a'] }],
      },
    },
  ],
  [
    'cluster scope, API certificate from a Secret with its CA',
    { api: { tls: { secretName: 'api-tls', caKey: 'ca.crt' } } },
  ],
];

describe('RBAC derived from what the code calls', function () {
  this.timeout(180_000);

  it('the table of what each feature calls matches the chart RBAC of each configuration, both ways', async () => {
    const figures: string[] = [];
    for (const [what, values] of SCENARIOS) {
      const release = releaseOf('rbac', 'vaultsync-rbac', values);
      const manifests = await renderChart('rbac', release.namespace, values);
      const needs = needsOf(release);
      const grants = granted(manifests, release);
      assert.deepEqual(missing(needs, grants).map(show), [], `${what}: needed but not granted`);
      assert.deepEqual(unneeded(needs, grants).map(show), [], `${what}: granted but not needed`);
      figures.push(`${what}: ${needs.length} needed, ${grants.length} granted`);
    }
    console.log(`      ${figures.join('\n      ')}`);
  });

  it('pods are granted only with config.operator.annotatePods; the kubernetes backend never needs update', async () => {
    for (const [what, values] of SCENARIOS) {
      const release = releaseOf('rbac', 'vaultsync-rbac', values);
      const grants = granted(await renderChart('rbac', release.namespace, values), release);
      const pods = grants.filter((g) => g.resource === 'pods');
      const annotate = at(release.values, 'config', 'operator', 'annotatePods') === true;
      assert.equal(pods.length > 0, annotate, `${what}: pods granted exactly with annotatePods`);
      assert.deepEqual(
        grants.filter((g) => g.resource === 'secrets' && g.verb === 'update').map(show),
        [],
        `${what}: no update on Secrets`,
      );
    }
  });

  describe('proved with the release ServiceAccount token (namespaced scope)', function () {
    const NAME = 'rbac';
    const APP = 'rbac-app';
    const SOURCE = 'rbac-src';
    const API = 'vaultsync.io/v1alpha1';
    let bed: Testbed;
    let admin: KubeClient;
    let op: ShippedOperator;

    const rotation = (name: string) =>
      getObject<SecretRotation>(admin, { apiVersion: API, kind: 'SecretRotation', namespace: APP, name });
    const ready = (sr: SecretRotation | undefined) => sr?.status?.conditions?.find((c) => c.type === 'Ready');
    const sourceSecret = (name: string) =>
      getObject<V1Secret>(admin, { apiVersion: 'v1', kind: 'Secret', namespace: SOURCE, name });

    before(async function () {
      bed = await testbed();
      admin = createKubeClient(bed.kubeConfig());
      for (const ns of [APP, SOURCE]) await ensureNamespace(bed, ns);
      await cleanUp();
      op = await startShippedOperator(bed, {
        name: NAME,
        config: `
backends:
  - {name: src, type: kubernetes, namespace: ${SOURCE}, allowedNamespaces: [${APP}], allowedWritePaths: ["${APP}-*"]}
issuers:
  - {name: ca, type: local-ca, allowedNamespaces: [${APP}]}
`,
        chartValues: { rbac: { scope: 'namespaced', watchNamespaces: [APP] } },
      });
    });

    /** What a run leaves behind (also before: a rerun starts clean). */
    const cleanUp = async () => {
      for (const path of [
        `/apis/${API}/namespaces/${APP}/vaultcertificates/rbac-cert`,
        `/apis/${API}/namespaces/${APP}/secretrotations/rbac-token`,
        `/apis/${API}/namespaces/${APP}/secretrotations/rbac-annotate`,
        `/api/v1/namespaces/${SOURCE}/secrets/${APP}-token`,
        `/api/v1/namespaces/${SOURCE}/secrets/${APP}-annotated`,
      ]) {
        await admin.rest.request({ method: 'DELETE', path }).catch(() => undefined);
      }
    };

    after(async function () {
      await op?.stop();
      await cleanUp();
    });

    it('local-ca: the CA Secret is created in the release namespace and a certificate issued', async () => {
      await createObject<VaultCertificate>(admin, {
        apiVersion: API,
        kind: 'VaultCertificate',
        metadata: { name: 'rbac-cert', namespace: APP },
        spec: {
          issuer: { backend: 'ca' },
          commonName: `svc.${APP}.svc`,
          dnsNames: [`svc.${APP}.svc`],
          duration: '1h',
          secretName: 'rbac-cert-tls',
        },
      });
      await eventually(
        'VaultCertificate issued',
        async () => {
          const vc = await getObject<VaultCertificate>(admin, {
            apiVersion: API,
            kind: 'VaultCertificate',
            namespace: APP,
            name: 'rbac-cert',
          });
          const c = vc?.status?.conditions?.find((x) => x.type === 'Ready');
          return c?.status === 'True' ? c : undefined;
        },
        30_000,
        200,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${op.logs.slice(-15).join('')}`);
      });
      const ca = await getObject<V1Secret>(admin, {
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: op.namespace,
        name: 'vaultsync-local-ca',
      });
      assert.equal(ca?.type, 'kubernetes.io/tls', 'the CA Secret, created by the operator');
      assert.deepEqual(forbiddenLines(op.logs), []);
    });

    it('kubernetes backend: a SecretRotation writes twice (create, then a patch with the resourceVersion)', async () => {
      await createObject<SecretRotation>(admin, {
        apiVersion: API,
        kind: 'SecretRotation',
        metadata: { name: 'rbac-token', namespace: APP },
        spec: {
          backend: 'src',
          path: `${APP}-token`,
          interval: '24h',
          generate: { token: { type: 'uuid' } },
        },
      } as SecretRotation);
      const first = await eventually(
        'first rotation (the Secret created)',
        async () => {
          const sr = await rotation('rbac-token');
          return sr?.status?.phase === 'Idle' && sr.status.currentVersion ? sr : undefined;
        },
        30_000,
        200,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify((await rotation('rbac-token'))?.status)}`);
      });
      const created = await sourceSecret(`${APP}-token`);
      assert.equal(created?.metadata?.resourceVersion, first.status?.currentVersion);
      await mergePatch(
        admin,
        { apiVersion: API, kind: 'SecretRotation', namespace: APP, name: 'rbac-token' },
        { metadata: { annotations: { 'vaultsync.io/rotate-now': 'second' } } },
      );
      const second = await eventually(
        'second rotation (the Secret patched)',
        async () => {
          const sr = await rotation('rbac-token');
          return sr?.status?.phase === 'Idle' &&
            sr.status.currentVersion &&
            sr.status.currentVersion !== first.status?.currentVersion
            ? sr
            : undefined;
        },
        30_000,
        200,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify((await rotation('rbac-token'))?.status)}`);
      });
      const patched = await sourceSecret(`${APP}-token`);
      assert.equal(patched?.metadata?.resourceVersion, second.status?.currentVersion);
      assert.notEqual(patched?.data?.token, created?.data?.token, 'a new value');
      assert.equal(
        patched?.metadata?.uid,
        created?.metadata?.uid,
        'the same Secret, patched (not deleted and created)',
      );
      assert.deepEqual(forbiddenLines(op.logs), [], 'no request was refused');
    });

    it('restart.mode AnnotatePods is refused without config.operator.annotatePods, before anything is written', async () => {
      await createObject<SecretRotation>(admin, {
        apiVersion: API,
        kind: 'SecretRotation',
        metadata: { name: 'rbac-annotate', namespace: APP },
        spec: {
          backend: 'src',
          path: `${APP}-annotated`,
          interval: '24h',
          generate: { token: { type: 'uuid' } },
          restart: { mode: 'AnnotatePods' },
        },
      } as SecretRotation);
      const refused = await eventually(
        'Ready=False AnnotatePodsDisabled',
        async () => {
          const c = ready(await rotation('rbac-annotate'));
          return c?.reason === 'AnnotatePodsDisabled' ? c : undefined;
        },
        30_000,
        200,
      );
      assert.equal(refused.status, 'False');
      assert.match(refused.message ?? '', /config\.operator\.annotatePods/);
      assert.equal(await sourceSecret(`${APP}-annotated`), undefined, 'nothing written');
      assert.deepEqual(forbiddenLines(op.logs), [], 'no request was refused');
    });

    it('the identity holds no pods access and no update on Secrets', async () => {
      const sa = createKubeClient(op.kubeConfig);
      const denied = async (what: string, call: () => Promise<unknown>) => {
        const err = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.equal(
          (err as { status?: number } | undefined)?.status ?? (err as { code?: number } | undefined)?.code,
          403,
          what,
        );
      };
      await denied('list pods', () =>
        sa.rest.request({ method: 'GET', path: `/api/v1/namespaces/${APP}/pods` }),
      );
      await denied('replace (PUT) a source Secret', () =>
        sa.rest.request({
          method: 'PUT',
          path: `/api/v1/namespaces/${SOURCE}/secrets/${APP}-token`,
          body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${APP}-token`, namespace: SOURCE } },
        }),
      );
    });
  });
});
