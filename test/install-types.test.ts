// One install per backend and issuer type (issue 13, Deliver 4): each of the eight types —
// backends vault (OpenBao KV v2), aws-secrets-manager (moto), gcp-secret-manager and
// azure-key-vault (the bed's fakes), kubernetes and memory; issuers vault-pki (OpenBao PKI) and
// local-ca — configured alone through the chart's values, rendered by `helm template` (so checked
// by values.schema.json), its ServiceAccount and RBAC applied, and the operator run in this
// process with nothing but that ServiceAccount's token (test/security/harness.ts).
//
// Each release is namespaced (`rbac.scope: namespaced`, watching only `it-<type>`): the
// narrowest grants the chart renders (per-namespace Roles plus the Secrets a backend or issuer
// needs elsewhere), and an operator that sees no other release's objects, so the eight run side
// by side. The cluster scope grants a superset on Secrets (get, create and patch everywhere).
// OpenBao is reached through Kubernetes auth as the operator with a policy for just the paths
// used; the cloud peers get what they accept (moto: static keys from a Secret; the Google fake:
// no credentials over plain text; the Azure fake: the emulator token over verified TLS).
//
// For a backend: a VaultSecret reaches Ready with the seeded value, and a SecretRotation rotates
// it twice with rotate-now — both writes update an existing value — with the VaultSecret following
// each. For an issuer: a VaultCertificate reaches Ready with a kubernetes.io/tls Secret whose
// certificate names what was asked and chains to the issuer's CA. No refusal may appear in any
// operator's log.
//
// On a bed shared with other runs (VAULTSYNC_TESTBED_DIR), a cluster-scoped operator of another
// run reconciles these objects too (e.g. BackendNotFound for "memory"): run it on its own bed.
import assert from 'node:assert/strict';
import { X509Certificate, randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import type {
  SecretRotation,
  VaultCertificate,
  VaultCertificateSpec,
  VaultSecret,
} from '../src/apis/v1alpha1/index.ts';
import { kubeSecretsApi } from '../src/backends/kube-client.ts';
import { type BackendRegistry, createBackends } from '../src/backends/registry.ts';
import { loadConfig } from '../src/config/index.ts';
import {
  type KubeClient,
  createKubeClient,
  createObject,
  deleteObject,
  getObject,
  mergePatch,
} from '../src/kube/index.ts';
import { Sensitive } from '../src/secrets/sensitive.ts';
import {
  type ShippedOperator,
  adminApply,
  ensureNamespace,
  forbiddenLines,
  operatorVaultAuth,
  releaseName,
  renderChart,
  startShippedOperator,
} from './security/harness.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi, pkiRole } from './support/testbed/openbao.ts';
import { eventually } from './support/wait.ts';
import { tokenAnswered } from '../src/apis/v1alpha1/trigger-token.ts';

const API = 'vaultsync.io/v1alpha1';
/** Fresh backend paths per run, so a rerun on a kept bed starts from version 1. */
const run = randomBytes(3).toString('hex');
const seedValue = (namespace: string) => `seed-${run}-${namespace}`;

type Values = Record<string, unknown>;

interface BackendCase {
  type: 'vault' | 'aws-secrets-manager' | 'gcp-secret-manager' | 'azure-key-vault' | 'kubernetes' | 'memory';
  /** The backend's name in the config (`spec.backend`). */
  name: string;
  /** The namespace of the VaultSecret and SecretRotation (`it-<short>`). */
  namespace: string;
  /** The backend path of the value. */
  path: string;
  /** The chart's `config.backends` entry (needs the bed, and OpenBao set-up for vault). */
  entry(bed: Testbed, name: string): Promise<Values>;
  /** Puts {user, password: seed} at `path` as the platform would (admin credentials). */
  seed(bed: Testbed, entry: Values): Promise<void>;
  /** The latest value at `path`, read with admin credentials; none for memory (it lives in the operator). */
  readBack?(): Promise<Record<string, string>>;
}

interface IssuerCase {
  type: 'vault-pki' | 'local-ca';
  namespace: string;
  entry(bed: Testbed, name: string): Promise<Values>;
  certificate: (namespace: string) => VaultCertificateSpec;
  /** The issuer's CA certificate (PEM), read with admin credentials. */
  caPem(bed: Testbed, operatorNamespace: string): Promise<string>;
}

const decoded = (s: V1Secret | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

const secretData = (values: Record<string, string>) =>
  new Sensitive<ReadonlyMap<string, Buffer>>(
    new Map(Object.entries(values).map(([k, v]) => [k, Buffer.from(v)])),
  );

/** A one-backend registry holding admin credentials, for seeding and reading back a cloud or kubernetes backend. */
async function seeder(bed: Testbed, operatorNamespace: string, entry: Values): Promise<BackendRegistry> {
  const config = await loadConfig(
    { text: stringify({ operator: { namespace: operatorNamespace }, backends: [entry] }) },
    { env: {} },
  );
  return createBackends(config, { secrets: kubeSecretsApi(bed.kubeConfig()) });
}

const registries: BackendRegistry[] = [];

/** Seeds and reads back through the backend itself, with admin credentials. */
function throughBackend(namespace: string, path: string) {
  let registry: BackendRegistry | undefined;
  return {
    async seed(bed: Testbed, entry: Values) {
      registry = await seeder(bed, releaseName(namespace), entry);
      registries.push(registry);
      await registry
        .get(entry.name as string)!
        .write({ path, data: secretData({ user: 'app', password: seedValue(namespace) }) }, { namespace });
    },
    async readBack() {
      const backend = registry!.get(registry!.names()[0]!)!;
      const got = await backend.read({ path }, { namespace });
      return Object.fromEntries([...got.data.reveal()].map(([k, v]) => [k, v.toString()]));
    },
  };
}

const tenancy = (namespace: string) => ({
  allowedNamespaces: [namespace],
  allowedPaths: ['{namespace}/**'],
  allowedWritePaths: ['{namespace}/**'],
});

function vaultCase(): BackendCase {
  const namespace = 'it-vault';
  const path = `${namespace}/db-${run}`;
  let bao: ReturnType<typeof baoApi>;
  return {
    type: 'vault',
    name: 'vault',
    namespace,
    path,
    async entry(bed, name) {
      bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
      // KV read, create and update below the one prefix; nothing else (no delete, no metadata).
      const auth = await operatorVaultAuth(
        bed,
        name,
        `path "secret/data/${namespace}/*" { capabilities = ["read", "create", "update"] }`,
      );
      return {
        name: 'vault',
        type: 'vault',
        address: bed.baoAddr,
        tls: { insecure: true },
        auth: authValue(auth),
        ...tenancy(namespace),
      };
    },
    async seed() {
      await bao('POST', `secret/data/${path}`, { data: { user: 'app', password: seedValue(namespace) } });
    },
    async readBack() {
      const got = (await bao('GET', `secret/data/${path}`)) as { data: { data: Record<string, string> } };
      return got.data.data;
    },
  };
}

/** The harness returns `auth:` as flow YAML for a config file; the chart's values want the object. */
function authValue(flow: string): Values {
  const m = /role: ([^,]+), mountPath: ([^,]+),/.exec(flow);
  assert.ok(m, `unexpected auth value ${flow}`);
  return {
    kubernetes: { role: m[1], mountPath: m[2], serviceAccount: 'operator', audiences: ['vault'] },
  };
}

function awsCase(): BackendCase {
  const namespace = 'it-aws';
  const path = `${namespace}/db-${run}`;
  const io = throughBackend(namespace, path);
  return {
    type: 'aws-secrets-manager',
    name: 'aws',
    namespace,
    path,
    async entry(bed, name) {
      // moto takes any key; the point is that the operator reads it from a Secret in its namespace.
      const operatorNamespace = releaseName(name);
      await ensureNamespace(bed, operatorNamespace);
      await adminApply(bed, [
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'aws-keys', namespace: operatorNamespace },
          stringData: { id: 'AKIDINSTALLTYPES', secret: 'install-types-secret-key' },
        },
      ]);
      return {
        name: 'aws',
        type: 'aws-secrets-manager',
        region: 'us-east-1',
        endpoint: bed.cloud.awsEndpoint,
        tls: { insecure: true },
        auth: {
          static: {
            accessKeyIdRef: { name: 'aws-keys', key: 'id' },
            secretAccessKeyRef: { name: 'aws-keys', key: 'secret' },
          },
        },
        ...tenancy(namespace),
      };
    },
    seed: io.seed,
    readBack: io.readBack,
  };
}

function gcpCase(): BackendCase {
  const namespace = 'it-gcp';
  const path = `${namespace}/db-${run}`;
  const io = throughBackend(namespace, path);
  return {
    type: 'gcp-secret-manager',
    name: 'gcp',
    namespace,
    path,
    entry: async (bed) => ({
      name: 'gcp',
      type: 'gcp-secret-manager',
      project: 'vaultsync-install',
      endpoint: bed.cloud.gcpEndpoint,
      tls: { insecure: true },
      ...tenancy(namespace),
    }),
    seed: io.seed,
    readBack: io.readBack,
  };
}

function azureCase(): BackendCase {
  const namespace = 'it-azure';
  const path = `${namespace}/db-${run}`;
  const io = throughBackend(namespace, path);
  return {
    type: 'azure-key-vault',
    name: 'azure',
    namespace,
    path,
    entry: async (bed) => ({
      name: 'azure',
      type: 'azure-key-vault',
      vaultUrl: bed.cloud.azureVaultUrl,
      tls: { caFile: bed.cloud.azureCaFile },
      auth: { emulator: {} },
      ...tenancy(namespace),
    }),
    seed: io.seed,
    readBack: io.readBack,
  };
}

function kubernetesCase(): BackendCase {
  const namespace = 'it-kubernetes';
  const source = 'it-kubernetes-src';
  // The path is a Secret name in the source namespace.
  const path = `db-${run}`;
  const io = throughBackend(namespace, path);
  return {
    type: 'kubernetes',
    name: 'kube',
    namespace,
    path,
    async entry(bed) {
      await ensureNamespace(bed, source);
      return {
        name: 'kube',
        type: 'kubernetes',
        namespace: source,
        allowedNamespaces: [namespace],
        allowedPaths: ['db-*'],
        allowedWritePaths: ['db-*'],
      };
    },
    seed: io.seed,
    readBack: io.readBack,
  };
}

function memoryCase(): BackendCase {
  const namespace = 'it-memory';
  const path = `${namespace}/db-${run}`;
  return {
    type: 'memory',
    name: 'memory',
    namespace,
    path,
    // Its values are the config's: seeded through the chart's values.
    entry: async () => ({
      name: 'memory',
      type: 'memory',
      data: { [path]: { user: 'app', password: seedValue(namespace) } },
      ...tenancy(namespace),
    }),
    seed: async () => undefined,
  };
}

function vaultPkiCase(): IssuerCase {
  const namespace = 'it-vault-pki';
  return {
    type: 'vault-pki',
    namespace,
    async entry(bed, name) {
      const auth = await operatorVaultAuth(
        bed,
        name,
        [
          `path "${pkiRole.mount}/sign/${pkiRole.role}" { capabilities = ["update"] }`,
          `path "${pkiRole.mount}/issue/${pkiRole.role}" { capabilities = ["update"] }`,
          `path "${pkiRole.mount}/revoke" { capabilities = ["update"] }`,
        ].join('\n'),
      );
      return {
        name: 'vault-pki',
        type: 'vault-pki',
        address: bed.baoAddr,
        tls: { insecure: true },
        auth: authValue(auth),
        allowedNamespaces: [namespace],
        allowedRoles: [pkiRole.role],
      };
    },
    certificate: (ns) => ({
      issuer: { backend: 'vault-pki', role: pkiRole.role },
      commonName: `web.${ns}.svc.cluster.local`,
      dnsNames: [`web.${ns}.svc.cluster.local`, `api.${ns}.svc.cluster.local`],
      duration: '1h',
      secretName: 'web-tls',
    }),
    caPem: async (bed) => {
      const res = await fetch(`${bed.baoAddr}/v1/${pkiRole.mount}/ca/pem`);
      return res.text();
    },
  };
}

function localCaCase(): IssuerCase {
  const namespace = 'it-local-ca';
  return {
    type: 'local-ca',
    namespace,
    entry: async () => ({ name: 'local-ca', type: 'local-ca', allowedNamespaces: [namespace] }),
    certificate: (ns) => ({
      issuer: { backend: 'local-ca' },
      commonName: `web.${ns}.svc`,
      dnsNames: [`web.${ns}.svc`, `api.${ns}.svc`],
      secretName: 'web-tls',
    }),
    // The CA Secret the issuer created in the operator's namespace (its default place).
    caPem: async (bed, operatorNamespace) =>
      decoded(
        await getObject<V1Secret>(createKubeClient(bed.kubeConfig()), {
          apiVersion: 'v1',
          kind: 'Secret',
          namespace: operatorNamespace,
          name: 'vaultsync-local-ca',
        }),
      )['tls.crt']!,
  };
}

const BACKENDS: BackendCase[] = [
  vaultCase(),
  awsCase(),
  gcpCase(),
  azureCase(),
  kubernetesCase(),
  memoryCase(),
];
const ISSUERS: IssuerCase[] = [vaultPkiCase(), localCaCase()];

/** What a release was started with, or why it could not be. */
interface Release {
  op?: ShippedOperator;
  values?: Values;
  failure?: unknown;
  /** Milliseconds from set-up to a running operator. */
  ms?: number;
}

describe('one install per backend and issuer type, through the chart, as shipped', function () {
  this.timeout(120_000);
  let bed: Testbed;
  let admin: KubeClient;
  const releases = new Map<string, Release>();
  /** Values the rotations generated, per type: none may reach a log. */
  const generated = new Map<string, string[]>();

  const started = (type: string): ShippedOperator => {
    const r = releases.get(type);
    if (r?.failure) throw r.failure;
    assert.ok(r?.op, `${type}: not started`);
    return r.op;
  };

  /** Values for the release: the type alone, namespaced to `it-<type>`. */
  const chartValues = (namespace: string, entry: Values, issuer: boolean) => ({
    rbac: { scope: 'namespaced', watchNamespaces: [namespace] },
    config: issuer ? { backends: [], issuers: [entry] } : { backends: [entry] },
  });

  async function startRelease(type: string, namespace: string, entry: Values, issuer: boolean) {
    await ensureNamespace(bed, namespace);
    const values = chartValues(namespace, entry, issuer);
    const t0 = Date.now();
    const op = await startShippedOperator(bed, {
      name: namespace,
      // Everything comes from the chart values (merged over the harness's: lists replace).
      config: '{}',
      chartValues: values,
    });
    return { op, values, ms: Date.now() - t0 };
  }

  /** Deletes what an earlier run on a kept bed left, so objects are created fresh. */
  async function clear(ref: { apiVersion: string; kind: string; namespace: string; name: string }) {
    await deleteObject(admin, ref);
    await eventually(`${ref.kind} ${ref.namespace}/${ref.name} gone`, async () =>
      (await getObject(admin, ref)) ? undefined : true,
    );
  }

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    admin = createKubeClient(bed.kubeConfig());
    const t0 = Date.now();
    // Eight releases side by side (each watches only its own namespace).
    await Promise.all([
      ...BACKENDS.map(async (c) => {
        try {
          const entry = await c.entry(bed, c.namespace);
          await c.seed(bed, entry);
          releases.set(c.type, await startRelease(c.type, c.namespace, entry, false));
        } catch (failure) {
          releases.set(c.type, { failure });
        }
      }),
      ...ISSUERS.map(async (c) => {
        try {
          const entry = await c.entry(bed, c.namespace);
          releases.set(c.type, await startRelease(c.type, c.namespace, entry, true));
        } catch (failure) {
          releases.set(c.type, { failure });
        }
      }),
    ]);
    const each = [...releases].map(([type, r]) => `${type} ${r.ms ?? 'failed'}`).join(', ');
    console.log(
      `      eight releases rendered, applied and started in ${Date.now() - t0} ms (ms each: ${each})`,
    );
  });

  after(async function () {
    this.timeout(60_000);
    // Leave nothing for a cluster-scoped operator of a later test file to act on.
    const leftovers = [
      ...BACKENDS.flatMap((c) => [
        { apiVersion: API, kind: 'SecretRotation', namespace: c.namespace, name: 'db' },
        { apiVersion: API, kind: 'VaultSecret', namespace: c.namespace, name: 'db' },
      ]),
      ...ISSUERS.map((c) => ({
        apiVersion: API,
        kind: 'VaultCertificate',
        namespace: c.namespace,
        name: 'web',
      })),
    ];
    if (admin) await Promise.all(leftovers.map((ref) => deleteObject(admin, ref)));
    await Promise.all([...releases.values()].map((r) => r.op?.stop()));
    await Promise.all(registries.map((r) => r.close()));
  });

  for (const c of BACKENDS) {
    describe(`backend ${c.type}`, () => {
      const ns = c.namespace;
      const vsRef = { apiVersion: API, kind: 'VaultSecret', namespace: ns, name: 'db' };
      const srRef = { apiVersion: API, kind: 'SecretRotation', namespace: ns, name: 'db' };
      const target = async () =>
        decoded(
          await getObject<V1Secret>(admin, { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'db' }),
        );
      const vaultSecret = () => getObject<VaultSecret>(admin, vsRef);
      const rotation = () => getObject<SecretRotation>(admin, srRef);

      it('its values alone pass the chart schema (and a bad field in them does not)', async () => {
        const op = started(c.type);
        const values = releases.get(c.type)!.values!;
        assert.deepEqual(renderedBackends(op), [{ name: c.name, type: c.type }]);
        const bad = structuredClone(values) as { config: { backends: Values[] } };
        bad.config.backends[0]!.noSuchField = true;
        await assert.rejects(renderChart(op.release, op.namespace, bad), /schema[\s\S]*noSuchField/);
      });

      it('a VaultSecret reaches Ready with the seeded value', async () => {
        started(c.type);
        await clear(srRef);
        await clear(vsRef);
        await createObject<VaultSecret>(admin, {
          apiVersion: API,
          kind: 'VaultSecret',
          metadata: { name: 'db', namespace: ns },
          spec: { backend: c.name, dataFrom: [{ extract: { path: c.path } }] },
        });
        await eventually(
          `${ns}/db Ready`,
          async () => {
            const vs = await vaultSecret();
            const ready = vs?.status?.conditions?.find((x) => x.type === 'Ready');
            return ready?.status === 'True' && vs?.status?.observedGeneration === vs?.metadata?.generation
              ? vs
              : undefined;
          },
          30_000,
          200,
        ).catch(async (err: unknown) => {
          throw new Error(`${String(err)}: ${conditionText(await vaultSecret())}`);
        });
        assert.deepEqual(await target(), { user: 'app', password: seedValue(ns) });
      });

      it('a SecretRotation rotates it twice (each write an update) and the VaultSecret follows each', async () => {
        started(c.type);
        await createObject<SecretRotation>(admin, {
          apiVersion: API,
          kind: 'SecretRotation',
          metadata: { name: 'db', namespace: ns },
          spec: {
            backend: c.name,
            path: c.path,
            // The value exists, so nothing rotates until asked: both rotations below are rotate-now.
            interval: '720h',
            generate: { password: { type: 'password', length: 24 } },
          } as SecretRotation['spec'],
        });
        const seen = [seedValue(ns)];
        const versions = new Set<string>();
        for (const token of ['first', 'second']) {
          await mergePatch(admin, srRef, {
            metadata: { annotations: { 'vaultsync.io/rotate-now': `${run}-${token}` } },
          });
          const sr = await eventually(
            `${token} rotation of ${ns}/db done`,
            async () => {
              const got = await rotation();
              return tokenAnswered(got?.status?.rotateNowHandled, `${run}-${token}`) &&
                got?.status?.phase === 'Idle'
                ? got
                : undefined;
            },
            40_000,
            200,
          ).catch(async (err: unknown) => {
            throw new Error(`${String(err)}: ${conditionText(await rotation())}`);
          });
          const version = sr.status?.currentVersion;
          assert.ok(version, 'the rotation records the version it wrote');
          assert.ok(!versions.has(version), `${token}: a new version`);
          versions.add(version);
          // The rotation waited for its reader: the VaultSecret reports the written version.
          const vs = await vaultSecret();
          assert.equal(vs?.status?.sourceVersions?.[c.path], version, `${token}: the VaultSecret read it`);
          const synced = await target();
          assert.equal(synced.user, 'app', `${token}: keys it does not generate are kept`);
          assert.equal(synced.password?.length, 24, `${token}: a generated password`);
          assert.ok(!seen.includes(synced.password!), `${token}: a new value`);
          seen.push(synced.password!);
          if (c.readBack)
            assert.deepEqual(await c.readBack(), synced, `${token}: the Secret holds the backend's value`);
        }
        generated.set(c.type, seen.slice(1));
        const sr = await rotation();
        assert.deepEqual(
          (sr?.status?.history ?? []).slice(0, 2).map((h) => h.outcome),
          ['Succeeded', 'Succeeded'],
        );
        console.log(`      ${c.type}: versions ${[...versions].map((v) => v.slice(0, 12)).join(' → ')}`);
      });

      it('no refusal in its operator log, and no generated value', () => {
        const op = started(c.type);
        assert.deepEqual(forbiddenLines(op.logs), []);
        const text = op.logs.join('\n');
        for (const v of [seedValue(ns), ...(generated.get(c.type) ?? [])]) {
          assert.equal(text.includes(v), false, 'a value reached the log');
        }
      });
    });
  }

  for (const c of ISSUERS) {
    describe(`issuer ${c.type}`, () => {
      const ns = c.namespace;
      const vcRef = { apiVersion: API, kind: 'VaultCertificate', namespace: ns, name: 'web' };

      it('its values alone pass the chart schema (and a bad field in them does not)', async () => {
        const op = started(c.type);
        // The operator takes issuers from its config's backends list, where the chart puts them.
        assert.deepEqual(renderedBackends(op), [{ name: c.type, type: c.type }]);
        const bad = structuredClone(releases.get(c.type)!.values!) as { config: { issuers: Values[] } };
        bad.config.issuers[0]!.noSuchField = true;
        await assert.rejects(renderChart(op.release, op.namespace, bad), /schema[\s\S]*noSuchField/);
      });

      it('a VaultCertificate reaches Ready: a kubernetes.io/tls Secret for the requested names, from its CA', async () => {
        const op = started(c.type);
        await clear(vcRef);
        const spec = c.certificate(ns);
        await createObject<VaultCertificate>(admin, {
          apiVersion: API,
          kind: 'VaultCertificate',
          metadata: { name: 'web', namespace: ns },
          spec,
        });
        await eventually(
          `${ns}/web Ready`,
          async () => {
            const vc = await getObject<VaultCertificate>(admin, vcRef);
            const ready = vc?.status?.conditions?.find((x) => x.type === 'Ready');
            return ready?.status === 'True' && vc?.status?.observedGeneration === vc?.metadata?.generation
              ? vc
              : undefined;
          },
          30_000,
          200,
        ).catch(async (err: unknown) => {
          throw new Error(
            `${String(err)}: ${conditionText(await getObject<VaultCertificate>(admin, vcRef))}`,
          );
        });
        const secret = await getObject<V1Secret>(admin, {
          apiVersion: 'v1',
          kind: 'Secret',
          namespace: ns,
          name: spec.secretName,
        });
        assert.equal(secret?.type, 'kubernetes.io/tls');
        const files = decoded(secret);
        assert.ok(files['tls.key'], 'a private key');
        const cert = new X509Certificate(files['tls.crt']!);
        const names = (cert.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('DNS:'));
        assert.deepEqual(names.sort(), spec.dnsNames!.map((n) => `DNS:${n}`).sort());
        assert.match(cert.subject, new RegExp(`CN=${spec.commonName!.replace(/\./g, '\\.')}`));
        assert.equal(cert.ca, false);
        const ca = new X509Certificate(await c.caPem(bed, op.namespace));
        assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'signed by the issuer CA');
        assert.equal(
          new X509Certificate(files['ca.crt']!).fingerprint256,
          ca.fingerprint256,
          'ca.crt is that CA',
        );
        console.log(`      ${c.type}: ${names.join(', ')}; issuer ${ca.subject.replace(/\n/g, ', ')}`);
      });

      it('no refusal in its operator log', () => {
        assert.deepEqual(forbiddenLines(started(c.type).logs), []);
      });
    });
  }
});

/** Name and type of each entry of `backends` in the config the chart rendered. */
function renderedBackends(op: ShippedOperator): { name: string; type: string }[] {
  const secret = op.manifests.find(
    (m) => m.kind === 'Secret' && m.metadata.name === `${op.release}-config`,
  ) as { data?: Record<string, string> } | undefined;
  const text = Buffer.from(secret?.data?.['config.yaml'] ?? '', 'base64').toString();
  const config = parse(text) as { backends?: { name: string; type: string }[] } | null;
  return (config?.backends ?? []).map(({ name, type }) => ({ name, type }));
}

/** Conditions of an object, for a timeout message (reasons and messages only, never values). */
function conditionText(
  obj:
    | {
        status?: {
          conditions?: { type: string; status: string; reason?: string; message?: string }[];
          phase?: string;
        };
      }
    | undefined,
): string {
  if (!obj) return 'the object does not exist';
  const phase = obj.status?.phase ? `phase ${obj.status.phase}; ` : '';
  return (
    phase +
    (obj.status?.conditions ?? [])
      .map((c) => `${c.type}=${c.status} ${c.reason ?? ''}: ${c.message ?? ''}`)
      .join('; ')
  );
}
