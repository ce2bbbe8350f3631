// Upgrading writes nothing (issue 13): the previous release — its chart and its operator code,
// checked out from git into a worktree — is installed with Helm and syncs 200 resources (memory
// and OpenBao VaultSecrets, local-CA VaultCertificates, SecretRotations, Deployments that were
// restarted for a changed Secret). Then the upgrade as docs/install.md prints it: the CRDs
// applied, `helm upgrade` to this chart, the old operator stopped and this one started, each
// out of cluster with a token of the release's ServiceAccount. Counted from the apiserver's own
// view (a watch from a listed resourceVersion, and the bed's audit log of write requests):
// no Secret written, no workload rolled out, each status rewritten at most once and only in
// the fields whose encoding or meaning this release changed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  KubernetesObject,
  V1Deployment,
  V1Namespace,
  V1Pod,
  V1ReplicaSet,
  V1Secret,
} from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import type { SecretRotation, VaultCertificate, VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject, getObject, mergePatch } from '../src/kube/index.ts';
import {
  ensureNamespace,
  forbiddenLines,
  operatorVaultAuth,
  releaseName,
  serviceAccountToken,
  tokenKubeConfig,
} from './security/harness.ts';
import { AuditLog, ChangeRecorder, type StoredChange, changedPaths } from './support/api-writes.ts';
import { installCrds } from './support/crds.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { auditLogFile } from './support/testbed/control-plane.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { OperatorProcess } from './support/operator-process.ts';
import { binary, repoRoot } from './support/testbed/paths.ts';
import { freePort } from './support/testbed/ports.ts';
import { delay, eventually } from './support/wait.ts';

/** The release upgraded from: main as it was before issues 12 and 13 (chart 0.1.0). */
const PREVIOUS = 'd5b6d9a';
const API = 'vaultsync.io/v1alpha1';
const RELEASE = releaseName('upgrade');
const OPERATOR_NS = RELEASE;
/** The operator's identity in the apiserver: the release's ServiceAccount. */
const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NS}:${RELEASE}`;
const NS = { memory: 'upgrade-mem', bao: 'upgrade-bao', tls: 'upgrade-tls', app: 'upgrade-app' } as const;
const WATCHED = new Set<string>([...Object.values(NS), OPERATOR_NS]);
/** 130 + 54 + 2 VaultSecrets, 10 VaultCertificates, 2 SecretRotations, 2 Deployments: 200. */
const COUNT = { memory: 130, bao: 54, certificates: 10 } as const;
const MEMORY_PATHS = 10;
const BAO_PATHS = 6;
const TOLERATIONS = [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }];
const TEMPLATE_DIGESTS = 'vaultsync.io/secrets-hmac';
/** The API's listen address in a rendered config (`address: ":8443"`): tests bind loopback only. */
const LISTEN_ADDRESS = /(\n\s+address: )["']?:\d+["']?/g;

/**
 * Status fields this release writes anew into a status the previous one wrote, and why; any other
 * status change after the upgrade fails the test.
 */
const NEW_STATUS_FIELDS: Record<string, Record<string, string>> = {
  vaultsecrets: { 'status.secretMAC': 'MACs v2: keyed per namespace and bound to their object' },
  vaultcertificates: {
    'status.certificateMAC': 'MACs v2',
    'status.issuer': 'new field: the issuer of serialNumber, which revocation trusts',
  },
  secretrotations: {},
};

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  return new Promise<Result>((resolve) => {
    execFile(
      cmd,
      args,
      { env: opts.env ?? process.env, cwd: opts.cwd ?? repoRoot, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

function ok(r: Result, what: string): string {
  assert.equal(r.code, 0, `${what} failed (exit ${r.code}):\n${r.stderr}\n${r.stdout.slice(0, 4000)}`);
  return r.stdout;
}

/** An operator run as its own process (`node <tree>/src/main.ts run`), as the image runs it. */
interface UpgradeOperator {
  name: string;
  logs: string[];
  metricsUrl: string;
  stop(): Promise<number | null>;
}

async function spawnOperator(
  name: string,
  tree: string,
  config: string,
  kubeconfigFile: string,
  work: string,
): Promise<UpgradeOperator> {
  const port = await freePort();
  const doc = parse(config) as { operator: Record<string, unknown> };
  doc.operator.healthAddress = `127.0.0.1:${port}`;
  const configFile = join(work, `${name}-config.yaml`);
  writeFileSync(configFile, stringify(doc).replace(LISTEN_ADDRESS, '$1"127.0.0.1:0"'), { mode: 0o600 });
  const { KUBECONFIG: _ignored, ...env } = process.env;
  const operator = new OperatorProcess({
    identity: `${name}-${process.pid}`,
    configFile,
    kubeconfigFile,
    tree,
    env: { ...env, POD_NAMESPACE: OPERATOR_NS },
  });
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  await eventually(
    `${name} operator /readyz`,
    async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined),
    60_000,
    250,
  ).catch((err: Error) => {
    operator.kill();
    throw new Error(`${err.message}\n${operator.logs.slice(-30).join('\n')}`);
  });
  // SIGTERM; a run still there after 60 s (twice the pod's grace period) is killed: status null.
  return { name, logs: operator.logs, metricsUrl, stop: () => operator.stop(60_000) };
}

/** Sums of a metric's samples, by the value of one label. */
async function metricByLabel(url: string, metric: string, label: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const key = new RegExp(`${label}="([^"]*)"`).exec(line)?.[1] ?? '';
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}

/**
 * Waits until the operator has reconciled at least `expected` objects per controller and its
 * queues are empty, then until the apiserver has stored no change for `quietMs`.
 */
async function settled(
  op: UpgradeOperator,
  recorder: ChangeRecorder | undefined,
  expected: Record<string, number>,
  quietMs = 3000,
): Promise<void> {
  await eventually(
    `${op.name} operator: every resource reconciled, queues empty`,
    async () => {
      const done = await metricByLabel(op.metricsUrl, 'controller_runtime_reconcile_total', 'controller');
      const depth = await metricByLabel(op.metricsUrl, 'workqueue_depth', 'name');
      const active = await metricByLabel(op.metricsUrl, 'controller_runtime_active_workers', 'controller');
      const reconciled = Object.entries(expected).every(([c, n]) => (done.get(c) ?? 0) >= n);
      const idle = [...depth.values(), ...active.values()].every((v) => v === 0);
      return reconciled && idle ? true : undefined;
    },
    90_000,
    500,
  );
  if (recorder)
    await eventually(
      'no stored change for a while',
      () => recorder.quietFor() >= quietMs || undefined,
      60_000,
      250,
    );
  else await delay(quietMs);
}

type WithConditions = {
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
};
const readyCondition = (o: WithConditions | undefined) =>
  o?.status?.conditions?.find((c) => c.type === 'Ready');
const readyOf = (o: WithConditions | undefined) => readyCondition(o)?.status === 'True';
const readyReason = (o: WithConditions) => {
  const c = readyCondition(o);
  return c ? `${c.status} ${c.reason ?? ''} ${c.message ?? ''}` : 'no Ready condition';
};

describe('upgrade: helm upgrade from the previous release writes nothing', function () {
  this.timeout(240_000);
  let bed: Testbed;
  let admin: KubeClient;
  let work: string;
  let tree: string;
  let helmEnv: NodeJS.ProcessEnv;
  let kubeconfigFile: string;
  let oldOperator: UpgradeOperator | undefined;
  let newOperator: UpgradeOperator | undefined;
  let recorder: ChangeRecorder | undefined;
  let audit: AuditLog | undefined;
  const marks: Record<string, number> = {};
  let values: Record<string, unknown>;
  let localCa: Record<string, unknown>;
  let deploymentsBefore: Map<string, V1Deployment>;

  const helm = (args: string[]) => run(binary('helm', 'helm'), args, { env: helmEnv });
  const kubectl = (args: string[]) => run(binary('kubernetes', 'kubectl'), args, { env: helmEnv });
  const create = <T extends KubernetesObject>(obj: T) => createObject<T>(admin, obj);
  const list = async <T>(path: string) =>
    (await admin.rest.request<{ items: T[] }>({ method: 'GET', path })).items;
  const releaseConfig = async () => {
    const secret = await getObject<V1Secret>(admin, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: OPERATOR_NS,
      name: `${RELEASE}-config`,
    });
    return Buffer.from(secret!.data!['config.yaml']!, 'base64').toString('utf8');
  };

  before(async function () {
    this.timeout(600_000);
    const started = Date.now();
    const phase = (what: string) =>
      console.log(`      ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s  ${what}`);
    bed = await testbed();
    admin = createKubeClient(bed.kubeConfig());
    work = mkdtempSync(join(tmpdir(), 'vaultsync-upgrade-'));
    helmEnv = {
      ...process.env,
      KUBECONFIG: bed.kubeconfig,
      HELM_CACHE_HOME: join(work, 'helm/cache'),
      HELM_CONFIG_HOME: join(work, 'helm/config'),
      HELM_DATA_HOME: join(work, 'helm/data'),
    };
    audit = AuditLog.open(auditLogFile(bed.dir));
    phase('test bed');

    // The previous release's tree, with this checkout's node_modules when its lockfile is the same.
    tree = join(work, 'previous');
    ok(await run('git', ['worktree', 'add', '--detach', tree, PREVIOUS]), 'git worktree add');
    const sameDeps =
      (await run('git', ['diff', '--quiet', PREVIOUS, '--', 'package.json', 'package-lock.json'])).code === 0;
    if (sameDeps) symlinkSync(join(repoRoot, 'node_modules'), join(tree, 'node_modules'));
    else
      ok(
        await run('npm', ['ci', '--ignore-scripts', '--prefer-offline'], { cwd: tree }),
        'npm ci (previous)',
      );

    for (const ns of WATCHED) {
      // A namespace an earlier run deleted must be gone before it is made again.
      await eventually(
        `namespace ${ns} not terminating`,
        async () => {
          const found = await getObject<V1Namespace>(admin, {
            apiVersion: 'v1',
            kind: 'Namespace',
            name: ns,
          });
          return found?.status?.phase === 'Terminating' ? undefined : true;
        },
        120_000,
        500,
      );
      await ensureNamespace(bed, ns);
    }
    // The CRDs as the previous chart's `helm install` leaves them: created by field manager helm.
    // On a bed where an earlier test applied today's, they are put back to the previous ones.
    await previousCrds();
    phase(`worktree of ${PREVIOUS}, its CRDs`);

    // OpenBao: the values the VaultSecrets read, and the operator's own least-privilege login.
    const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    for (let p = 0; p < BAO_PATHS; p++) {
      await bao('POST', `secret/data/${NS.bao}/app-${p}`, {
        data: { user: `bao-user-${p}`, password: `bao-pw-${p}` },
      });
    }
    await bao('POST', `secret/data/${NS.app}/web`, { data: { greeting: 'hello' } });
    const vaultAuth = parse(
      await operatorVaultAuth(
        bed,
        'upgrade',
        [
          'path "secret/data/upgrade-*" { capabilities = ["read", "create", "update"] }',
          'path "secret/metadata/upgrade-*" { capabilities = ["read"] }',
        ].join('\n'),
      ),
    ) as Record<string, unknown>;

    // The previous chart's values (its schema takes vault, kubernetes and memory backends).
    const memoryData: Record<string, Record<string, string>> = {};
    for (let p = 0; p < MEMORY_PATHS; p++)
      memoryData[`${NS.memory}/app-${p}`] = { user: `user-${p}`, password: `pw-${p}` };
    values = {
      replicaCount: 0, // the operator runs out of cluster, below
      config: {
        operator: {
          logLevel: 'debug',
          leaderElection: { leaseDuration: '4s', renewDeadline: '3s', retryPeriod: '500ms' },
        },
        backends: [
          {
            name: 'memory',
            type: 'memory',
            allowedNamespaces: ['upgrade-*'],
            allowedPaths: ['{namespace}/**'],
            data: memoryData,
          },
          {
            name: 'vault',
            type: 'vault',
            address: bed.baoAddr,
            tls: { insecure: true },
            auth: vaultAuth,
            allowedNamespaces: ['upgrade-*'],
            allowedPaths: ['{namespace}/**'],
          },
        ],
      },
      audit: { sink: 'off' },
    };
    // Not in the previous chart's schema: the operator's config file gets it directly.
    localCa = { name: 'ca', type: 'local-ca', allowedNamespaces: ['upgrade-*'] };
    writeFileSync(join(work, 'previous-values.yaml'), stringify(values, { version: '1.1' }));
    ok(
      await helm([
        'install',
        RELEASE,
        join(tree, 'charts/vaultsync'),
        '--namespace',
        OPERATOR_NS,
        '-f',
        join(work, 'previous-values.yaml'),
      ]),
      'helm install (previous chart)',
    );
    phase('helm install (previous chart)');
    const token = await serviceAccountToken(bed, OPERATOR_NS, RELEASE, [], 3600);
    kubeconfigFile = join(work, 'operator.kubeconfig');
    writeFileSync(kubeconfigFile, tokenKubeConfig(bed, RELEASE, token).exportConfig(), { mode: 0o600 });

    const previousConfig = parse(await releaseConfig()) as { backends: unknown[] };
    previousConfig.backends.push(localCa);
    // The resources are created while it starts.
    [oldOperator] = await Promise.all([
      spawnOperator('previous', tree, stringify(previousConfig), kubeconfigFile, work),
      createResources(),
    ]);
    phase('previous operator ready, resources created');
    let notReady: string[] = [];
    await eventually(
      'every resource Ready under the previous release',
      async () => {
        notReady = [];
        for (const [kind, plural] of [
          ['VaultSecret', 'vaultsecrets'],
          ['VaultCertificate', 'vaultcertificates'],
          ['SecretRotation', 'secretrotations'],
        ]) {
          const items = await list<VaultSecret>(`/apis/${API}/${plural}`);
          notReady.push(
            ...items
              .filter((o) => WATCHED.has(o.metadata?.namespace ?? '') && !readyOf(o))
              .map((o) => `${kind} ${o.metadata?.namespace}/${o.metadata?.name}: ${readyReason(o)}`),
          );
        }
        return notReady.length === 0 ? true : undefined;
      },
      // A rollout (kube-controller-manager's and kwok's work) has taken over a minute on a loaded
      // 2-core CI machine; the rotation's readyTimeout allows for it.
      240_000,
      1000,
    ).catch(async (err: Error) => {
      // Which resources, why (their Ready condition), the workloads, the operator's last lines.
      throw new Error(
        [
          err.message,
          'not Ready:',
          ...notReady,
          'workloads:',
          ...(await workloadState()),
          'operator log:',
          ...oldOperator!.logs.slice(-40),
        ].join('\n'),
      );
    });
    phase('every resource Ready');
    await restartBothWorkloads();
    phase('both Deployments restarted by the previous operator');
    await settled(oldOperator, undefined, {});
    phase('previous operator idle');
    deploymentsBefore = new Map(
      (await list<V1Deployment>(`/apis/apps/v1/namespaces/${NS.app}/deployments`)).map((d) => [
        d.metadata!.name!,
        d,
      ]),
    );
    for (const [name, d] of deploymentsBefore) {
      assert.ok(
        d.spec?.template.metadata?.annotations?.[TEMPLATE_DIGESTS],
        `Deployment ${name} was restarted by the previous release (its pod template carries ${TEMPLATE_DIGESTS})`,
      );
    }

    // From here on, every change the apiserver stores in these namespaces is recorded.
    recorder = new ChangeRecorder(
      bed.kubeConfig(),
      [
        { resource: 'secrets', path: '/api/v1/secrets' },
        { resource: 'configmaps', path: '/api/v1/configmaps' },
        { resource: 'deployments', path: '/apis/apps/v1/deployments' },
        { resource: 'replicasets', path: '/apis/apps/v1/replicasets' },
        { resource: 'vaultsecrets', path: `/apis/${API}/vaultsecrets` },
        { resource: 'vaultcertificates', path: `/apis/${API}/vaultcertificates` },
        { resource: 'secretrotations', path: `/apis/${API}/secretrotations` },
      ],
      WATCHED,
    );
    await recorder.start();
    if (audit) marks.start = audit.mark();
    console.log(
      `      previous release (${PREVIOUS}) installed, 200 resources in sync in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  });

  after(async function () {
    this.timeout(90_000);
    await newOperator?.stop();
    await oldOperator?.stop();
    recorder?.stop();
    if (!helmEnv) return;
    await helm(['uninstall', RELEASE, '--namespace', OPERATOR_NS, '--wait', '--timeout', '30s']);
    for (const ns of WATCHED)
      await kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    // Today's CRDs for the test files after this one, whatever happened above.
    await installCrds(bed.kubeConfig());
    await run('git', ['worktree', 'remove', '--force', tree]);
    await run('git', ['worktree', 'prune']);
    rmSync(work, { recursive: true, force: true });
  });

  /** What changed in the Deployments' generation or pod template since `before`: a rollout. */
  async function rolloutsSince(before: ReadonlyMap<string, V1Deployment>): Promise<string[]> {
    const rollouts: string[] = [];
    for (const [name, was] of before) {
      const now = await getObject<V1Deployment>(admin, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: NS.app,
        name,
      });
      if (now?.metadata?.generation !== was.metadata?.generation)
        rollouts.push(
          `Deployment ${name}: generation ${was.metadata?.generation} -> ${now?.metadata?.generation}`,
        );
      const paths = changedPaths(was.spec?.template, now?.spec?.template, 'spec.template');
      if (paths.length > 0) rollouts.push(`Deployment ${name}: ${paths.join(', ')}`);
    }
    return rollouts;
  }

  /** Makes the cluster's CRDs the previous release's, owned by helm as its `helm install` leaves them. */
  async function previousCrds(): Promise<void> {
    const dir = join(tree, 'charts/vaultsync/crds');
    for (const file of [
      'vaultsync.io_vaultsecrets.yaml',
      'vaultsync.io_vaultcertificates.yaml',
      'vaultsync.io_secretrotations.yaml',
    ]) {
      const crd = parse(readFileSync(join(dir, file), 'utf8')) as KubernetesObject;
      const ref = {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name: crd.metadata!.name!,
      };
      const existing = await getObject(admin, ref);
      if (!existing) continue; // helm install creates it
      // Forget who wrote it (an earlier test's server-side apply), then write it as helm does.
      await mergePatch(admin, ref, { metadata: { managedFields: [{}] } });
      const current = await getObject(admin, ref);
      await admin.rest.request({
        method: 'PUT',
        path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${ref.name}?fieldManager=helm`,
        body: { ...crd, metadata: { ...crd.metadata, resourceVersion: current!.metadata!.resourceVersion } },
      });
    }
  }

  async function createResources(): Promise<void> {
    const batch = async (objects: KubernetesObject[]) => {
      for (let i = 0; i < objects.length; i += 20) await Promise.all(objects.slice(i, i + 20).map(create));
    };
    const vaultSecret = (namespace: string, name: string, spec: VaultSecret['spec']): VaultSecret => ({
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name, namespace },
      spec,
    });
    // Memory: a third each by data, dataFrom and a template.
    await batch(
      Array.from({ length: COUNT.memory }, (_, i) => {
        const path = `${NS.memory}/app-${i % MEMORY_PATHS}`;
        const spec: VaultSecret['spec'] =
          i % 3 === 0
            ? {
                backend: 'memory',
                data: [{ secretKey: 'password', remoteRef: { path, property: 'password' } }],
              }
            : i % 3 === 1
              ? { backend: 'memory', dataFrom: [{ extract: { path } }] }
              : {
                  backend: 'memory',
                  dataFrom: [{ extract: { path } }],
                  target: { template: { data: { dsn: 'postgres://{{user}}:{{password}}@db:5432/app' } } },
                };
        return vaultSecret(NS.memory, `vs-${i}`, spec);
      }),
    );
    await batch(
      Array.from({ length: COUNT.bao }, (_, i) =>
        vaultSecret(NS.bao, `vs-${i}`, {
          backend: 'vault',
          dataFrom: [{ extract: { path: `${NS.bao}/app-${i % BAO_PATHS}` } }],
        }),
      ),
    );
    await batch(
      Array.from({ length: COUNT.certificates }, (_, i): VaultCertificate => ({
        apiVersion: API,
        kind: 'VaultCertificate',
        metadata: { name: `svc-${i}`, namespace: NS.tls },
        spec: {
          issuer: { backend: 'ca' },
          commonName: `svc-${i}.${NS.tls}.svc`,
          dnsNames: [`svc-${i}.${NS.tls}.svc`, `svc-${i}.${NS.tls}.svc.cluster.local`],
          duration: '720h',
          secretName: `svc-${i}-tls`,
        } as VaultCertificate['spec'],
      })),
    );
    // The app: two workloads, one restarted by a SecretRotation (consumers), one by annotation.
    const deployment = (name: string, secret: string, annotations: Record<string, string>): V1Deployment => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: NS.app, labels: { app: name }, annotations },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            containers: [
              { name: 'app', image: 'example.invalid/app:1', envFrom: [{ secretRef: { name: secret } }] },
            ],
            tolerations: TOLERATIONS,
          },
        },
      },
    });
    await create(deployment('api', 'db', {}));
    await create(
      deployment('web', 'web', { 'vaultsync.io/reload': 'true', 'vaultsync.io/reload-debounce': '1s' }),
    );
    await create(
      vaultSecret(NS.app, 'db', { backend: 'vault', dataFrom: [{ extract: { path: `${NS.app}/db` } }] }),
    );
    await create(
      vaultSecret(NS.app, 'web', {
        backend: 'vault',
        data: [{ secretKey: 'greeting', remoteRef: { path: `${NS.app}/web`, property: 'greeting' } }],
      }),
    );
    const rotation = (name: string, spec: Partial<SecretRotation['spec']>): SecretRotation => ({
      apiVersion: API,
      kind: 'SecretRotation',
      metadata: { name, namespace: NS.app },
      spec: {
        backend: 'vault',
        path: `${NS.app}/${name}`,
        interval: '720h',
        ...spec,
      } as SecretRotation['spec'],
    });
    await create(
      rotation('db', {
        generate: { password: { type: 'password', length: 24 } },
        consumers: { selector: { matchLabels: { app: 'api' } } },
        restart: { debounce: '1s', readyTimeout: '180s' },
      } as Partial<SecretRotation['spec']>),
    );
    await create(
      rotation('token', { generate: { token: { type: 'uuid' } } } as Partial<SecretRotation['spec']>),
    );
  }

  /** The app's Deployments, ReplicaSets and pods as the apiserver has them, and the pods on the bed. */
  async function workloadState(): Promise<string[]> {
    const path = (plural: string) => `/apis/apps/v1/namespaces/${NS.app}/${plural}`;
    const ready = (conditions: { type: string; status: string }[] | undefined) =>
      conditions?.find((c) => c.type === 'Ready' || c.type === 'Available')?.status ?? '-';
    const lines: string[] = [];
    for (const d of await list<V1Deployment>(path('deployments'))) {
      const st = d.status;
      lines.push(
        `Deployment ${d.metadata?.name} generation ${d.metadata?.generation} observed ${st?.observedGeneration} ` +
          `updated ${st?.updatedReplicas} available ${st?.availableReplicas} unavailable ${st?.unavailableReplicas}`,
      );
    }
    for (const r of await list<V1ReplicaSet>(path('replicasets')))
      lines.push(
        `ReplicaSet ${r.metadata?.name} replicas ${r.status?.replicas} ready ${r.status?.readyReplicas}`,
      );
    for (const p of await list<V1Pod>(`/api/v1/namespaces/${NS.app}/pods`))
      lines.push(
        `Pod ${p.metadata?.name} ${p.status?.phase} node ${p.spec?.nodeName ?? '-'} ip ${p.status?.podIP ?? '-'} ` +
          `ready ${ready(p.status?.conditions)}${p.metadata?.deletionTimestamp ? ' deleting' : ''}`,
      );
    lines.push(`pods on the bed: ${(await list<V1Pod>('/api/v1/pods')).length}`);
    return lines;
  }

  /** `web`: its Secret changes (a new value in OpenBao, sync-now); `api`: restarted by rotation db. */
  async function restartBothWorkloads(): Promise<void> {
    const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await bao('POST', `secret/data/${NS.app}/web`, { data: { greeting: 'hello again' } });
    await mergePatch(
      admin,
      { apiVersion: API, kind: 'VaultSecret', namespace: NS.app, name: 'web' },
      { metadata: { annotations: { 'vaultsync.io/sync-now': 'upgrade-test' } } },
    );
    const deploymentRef = (name: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: NS.app,
      name,
    });
    const rolledOutWithDigests = async (name: string) => {
      const d = await getObject<V1Deployment>(admin, deploymentRef(name));
      const s = d?.status;
      return d?.spec?.template.metadata?.annotations?.[TEMPLATE_DIGESTS] &&
        (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
        s?.updatedReplicas === 1 &&
        s?.availableReplicas === 1
        ? d
        : undefined;
    };
    for (const name of ['api', 'web']) {
      await eventually(
        `Deployment ${name} restarted and rolled out`,
        () => rolledOutWithDigests(name),
        180_000,
        500,
      ).catch(async (err: Error) => {
        throw new Error(
          [
            err.message,
            ...(await workloadState()),
            ...oldOperator!.logs.filter((l) => /reload|restart|rotation/i.test(l)).slice(-15),
          ].join('\n'),
        );
      });
    }
  }

  it('the CRDs and the chart upgrade as docs/install.md prints it', async () => {
    // The commands of docs/install.md's "Upgrades", with this release and namespace.
    const doc = readFileSync(join(repoRoot, 'docs/install.md'), 'utf8');
    const section = doc.slice(doc.indexOf('### Upgrades'));
    const commands = /```sh\n([\s\S]*?)```/.exec(section)![1]!.trim().split('\n');
    const crdCommand = commands.find((c) => c.startsWith('kubectl apply'))!;
    assert.ok(crdCommand, 'docs/install.md, Upgrades: a kubectl apply of the CRDs');
    const args = crdCommand.split(/\s+/).slice(1);
    ok(await kubectl(args), `\`${crdCommand}\` (docs/install.md, Upgrades)`);
    const crd = await getObject<
      KubernetesObject & { spec: { versions: { schema: { openAPIV3Schema: unknown } }[] } }
    >(admin, {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: 'vaultcertificates.vaultsync.io',
    });
    assert.ok(
      JSON.stringify(crd?.spec.versions[0]?.schema).includes(
        '"issuer":{"description":"The issuer that issued',
      ),
      'the VaultCertificate CRD now has status.issuer',
    );

    // This chart: the same values, plus what the previous chart's schema could not take (the
    // issuer) and what this release needs granted that the previous one assumed (writes).
    const upgraded = structuredClone(values) as {
      config: { backends: Record<string, unknown>[]; issuers?: unknown[] };
    };
    upgraded.config.backends.find((b) => b.name === 'vault')!.allowedWritePaths = ['{namespace}/**'];
    upgraded.config.issuers = [localCa];
    writeFileSync(join(work, 'values.yaml'), stringify(upgraded, { version: '1.1' }));
    ok(
      await helm([
        'upgrade',
        RELEASE,
        join(repoRoot, 'charts/vaultsync'),
        '--namespace',
        OPERATOR_NS,
        '-f',
        join(work, 'values.yaml'),
      ]),
      'helm upgrade',
    );
    if (audit) marks.upgraded = audit.mark();
  });

  it('the new operator takes over: 0 Secret writes, 0 rollouts, each status rewritten at most once', async () => {
    assert.ok(recorder && oldOperator, 'the previous release runs');
    const oldForbidden = forbiddenLines(oldOperator.logs);
    assert.equal(await oldOperator.stop(), 0, 'the previous operator exits cleanly on SIGTERM');
    oldOperator = undefined;
    if (audit) marks.oldStopped = audit.mark();
    newOperator = await spawnOperator('upgraded', repoRoot, await releaseConfig(), kubeconfigFile, work);
    const vs = COUNT.memory + COUNT.bao + 2;
    await settled(newOperator, recorder, {
      vaultsecret: vs,
      vaultcertificate: COUNT.certificates,
      secretrotation: 2,
    });
    const newForbidden = forbiddenLines(newOperator.logs);
    recorder.assertComplete();
    if (audit) marks.takenOver = audit.mark();

    // Stored changes, by kind.
    const changes = recorder.changes;
    marks.takeoverChanges = changes.length;
    const of = (resource: string) => changes.filter((c) => c.resource === resource);
    const helmOwned = (c: StoredChange) =>
      c.namespace === OPERATOR_NS &&
      ((c.after as V1Secret).type === 'helm.sh/release.v1' || c.name === `${RELEASE}-config`);
    const secretChanges = of('secrets').filter((c) => !helmOwned(c));
    const secretWrites = secretChanges.filter(
      (c) => c.type !== 'ADDED' || recorder!.initial.has(`secrets ${c.namespace}/${c.name}`),
    );
    const secretCreates = secretChanges.filter((c) => !secretWrites.includes(c));

    // Workloads: no new pod template, no new ReplicaSet.
    const rollouts = await rolloutsSince(deploymentsBefore);
    const newReplicaSets = of('replicasets').filter((c) => c.type === 'ADDED' && c.namespace === NS.app);

    // Status and metadata writes of the custom resources, per object and per field.
    const perKind: {
      kind: string;
      resources: number;
      written: number;
      maxPerObject: number;
      fields: Map<string, number>;
      unexpected: string[];
    }[] = [];
    for (const resource of ['vaultsecrets', 'vaultcertificates', 'secretrotations']) {
      const resourceChanges = of(resource);
      const perObject = new Map<string, number>();
      const fields = new Map<string, number>();
      const unexpected: string[] = [];
      for (const c of resourceChanges) {
        perObject.set(`${c.namespace}/${c.name}`, (perObject.get(`${c.namespace}/${c.name}`) ?? 0) + 1);
        const b = c.before as KubernetesObject & { spec?: unknown; status?: unknown };
        const a = c.after as KubernetesObject & { spec?: unknown; status?: unknown };
        const paths = [
          ...changedPaths(b?.spec, a.spec, 'spec'),
          ...changedPaths(b?.status, a.status, 'status'),
          ...changedPaths(
            { ...b?.metadata, resourceVersion: 0, managedFields: 0, generation: b?.metadata?.generation },
            { ...a.metadata, resourceVersion: 0, managedFields: 0, generation: a.metadata?.generation },
            'metadata',
          ),
        ];
        for (const p of paths) {
          fields.set(p, (fields.get(p) ?? 0) + 1);
          if (!NEW_STATUS_FIELDS[resource]![p]) unexpected.push(`${c.namespace}/${c.name} ${p}`);
        }
        if (c.type !== 'MODIFIED') unexpected.push(`${c.namespace}/${c.name} ${c.type}`);
      }
      perKind.push({
        kind: resource,
        resources: [...recorder.initial.keys()].filter((k) => k.startsWith(`${resource} `)).length,
        written: perObject.size,
        maxPerObject: Math.max(0, ...perObject.values()),
        fields,
        unexpected,
      });
    }

    // Write requests the operator made (the audit log: no-ops and refusals count too).
    const requests = audit
      ? audit
          .events(marks.start!)
          .filter((e) => e.user.username === OPERATOR_USER && e.objectRef?.subresource !== 'token')
          .filter((e) => !['tokenreviews', 'subjectaccessreviews'].includes(e.objectRef?.resource ?? ''))
      : [];
    const requestLines = new Map<string, number>();
    for (const e of requests) {
      const r = e.objectRef!;
      const line = `${e.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''} → ${e.responseStatus?.code}`;
      requestLines.set(line, (requestLines.get(line) ?? 0) + 1);
    }
    const secretRequests = requests.filter((e) => e.objectRef?.resource === 'secrets');

    console.log(
      '      figures (from the apiserver: watch from the listed resourceVersion, and its audit log)',
    );
    console.log(
      `        Secrets written: ${secretWrites.length}; created: ${secretCreates.map((c) => `${c.namespace}/${c.name}`).join(', ') || 'none'}`,
    );
    console.log(`        rollouts: ${rollouts.length}; new ReplicaSets: ${newReplicaSets.length}`);
    for (const k of perKind) {
      const fields = [...k.fields].map(([f, n]) => `${f} ×${n}`).join(', ') || 'none';
      console.log(
        `        ${k.kind}: ${k.written} of ${k.resources} written, at most ${k.maxPerObject}× each; fields: ${fields}`,
      );
    }
    const macVersions = (objects: Iterable<KubernetesObject | undefined>) => {
      const count = new Map<string, number>();
      for (const o of objects) {
        const status = (o as { status?: { secretMAC?: string; certificateMAC?: string } } | undefined)
          ?.status;
        const mac = status?.secretMAC ?? status?.certificateMAC;
        const version = mac ? (/^hmac-sha256:(v\d+):/.exec(mac)?.[1] ?? 'other') : 'none';
        count.set(version, (count.get(version) ?? 0) + 1);
      }
      return [...count].map(([v, n]) => `${v} ×${n}`).join(', ');
    };
    for (const resource of ['vaultsecrets', 'vaultcertificates']) {
      const keys = [...recorder.initial.keys()].filter((k) => k.startsWith(`${resource} `));
      const latest = keys.map((k) => {
        const [, where] = k.split(' ') as [string, string];
        const [ns, name] = where.split('/') as [string, string];
        return recorder!.latest(resource, ns, name);
      });
      console.log(
        `        ${resource} MACs: before ${macVersions(keys.map((k) => recorder!.initial.get(k)))}; after ${macVersions(latest)}`,
      );
    }
    if (audit) {
      console.log(`        write requests by ${OPERATOR_USER} (audit log, previous operator included):`);
      for (const [line, n] of [...requestLines].sort()) console.log(`          ${n} × ${line}`);
    } else {
      console.log('        (this bed keeps no audit log: write requests not counted, only stored changes)');
    }
    console.log(
      `        watches the apiserver ended (it does when a CRD changes) and the test resumed: ${recorder.rewatches}, ${recorder.relists} of them by a new list`,
    );
    console.log(
      `        403/Forbidden lines: previous ${oldForbidden.length}, upgraded ${newForbidden.length}`,
    );

    assert.deepEqual(
      secretWrites.map(
        (c) =>
          `${c.type} ${c.namespace}/${c.name} (${changedPaths(c.before, c.after, '')
            .filter(
              (p) => !p.startsWith('.metadata.resourceVersion') && !p.startsWith('.metadata.managedFields'),
            )
            .join(', ')})`,
      ),
      [],
      'no existing Secret is written',
    );
    assert.deepEqual(
      secretRequests
        .filter((e) => e.verb !== 'create' || e.objectRef?.namespace !== OPERATOR_NS)
        .map((e) => `${e.verb} ${e.objectRef?.namespace}/${e.objectRef?.name} → ${e.responseStatus?.code}`),
      [],
      'no write request for a Secret (but the new operator creating its own in its namespace)',
    );
    assert.deepEqual(
      secretCreates.map((c) => `${c.namespace}/${c.name}`),
      [`${OPERATOR_NS}/vaultsync-api-ca`],
      'the only new Secret: the API CA, which this release keeps in a Secret (before: in memory)',
    );
    assert.deepEqual(rollouts, [], 'no workload rolls out');
    assert.equal(newReplicaSets.length, 0, 'no new ReplicaSet');
    for (const k of perKind) {
      assert.deepEqual(k.unexpected, [], `${k.kind}: only fields this release writes anew change`);
      assert.ok(
        k.maxPerObject <= 1,
        `${k.kind}: status rewritten at most once per resource (${k.maxPerObject})`,
      );
    }
    assert.deepEqual(newForbidden, [], 'the upgraded operator is refused nothing');
    assert.deepEqual(oldForbidden, [], 'the previous operator was refused nothing');
  });
  it('a second start of the upgraded operator writes nothing at all', async () => {
    assert.ok(recorder && newOperator && marks.takeoverChanges !== undefined, 'the upgraded operator runs');
    assert.equal(await newOperator.stop(), 0, 'the upgraded operator exits cleanly on SIGTERM');
    newOperator = undefined;
    // From the end of the takeover's count: a late write by the first start counts here.
    const from = marks.takeoverChanges;
    newOperator = await spawnOperator('restarted', repoRoot, await releaseConfig(), kubeconfigFile, work);
    await settled(newOperator, recorder, {
      vaultsecret: COUNT.memory + COUNT.bao + 2,
      vaultcertificate: COUNT.certificates,
      secretrotation: 2,
    });
    recorder.assertComplete();
    const stored = recorder.changes
      .slice(from)
      .filter((c) => !['replicasets', 'deployments'].includes(c.resource)) // kube-controller-manager's status writes
      .map((c) => `${c.type} ${c.resource} ${c.namespace}/${c.name}`);
    const requests = audit
      ? audit
          .events(marks.takenOver!)
          .filter((e) => e.user.username === OPERATOR_USER && e.objectRef?.subresource !== 'token')
          .filter((e) => !['tokenreviews', 'subjectaccessreviews'].includes(e.objectRef?.resource ?? ''))
          .map(
            (e) =>
              `${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''} ${e.objectRef?.namespace}/${e.objectRef?.name}`,
          )
      : [];
    console.log(
      `      second start: ${stored.length} stored changes, ${audit ? requests.length : 'uncounted'} write requests`,
    );
    assert.deepEqual(stored, [], 'nothing stored');
    assert.deepEqual(await rolloutsSince(deploymentsBefore), [], 'no workload rolls out');
    assert.deepEqual(requests, [], 'no write request');
    assert.deepEqual(forbiddenLines(newOperator.logs), [], 'refused nothing');
  });
});
