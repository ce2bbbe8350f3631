// The chart's guard rail on the operator's own power (issue 13): a ValidatingAdmissionPolicy that
// lets the operator's ServiceAccount change Deployments, StatefulSets, DaemonSets, Pods and Argo
// Rollouts only in vaultsync.io/* annotations and a Rollout's spec.restartAt. Against the bed's
// real apiserver: the chart's objects applied as `helm install` would (test/security/harness.ts),
// then requests made with a token of the operator's ServiceAccount, as whoever stole it would
// make them — and the operator's real reload path, run under that identity and that policy.
import assert from 'node:assert/strict';
import type {
  KubernetesObject,
  V1DaemonSet,
  V1Deployment,
  V1Pod,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { SecretRotation, VaultSecret } from '../src/apis/v1alpha1/index.ts';
import {
  type KubeClient,
  type KubeError,
  createKubeClient,
  createObject,
  deleteObject,
  getObject,
  mergePatch,
} from '../src/kube/index.ts';
import { PatchType } from '../src/kube/rest.ts';
import {
  type ArgoRollout,
  deleteRolloutCrd,
  installRolloutCrd,
  rolloutObject,
} from './support/argo-rollouts.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { eventually } from './support/wait.ts';
import {
  type ShippedOperator,
  type Tenant,
  adminApply,
  createTenant,
  forbiddenLines,
  operatorVaultAuth,
  startShippedOperator,
} from './security/harness.ts';

const NAME = 'adm';
const POLICY = 'vaultsync-adm-workload-guard';
const API = 'vaultsync.io/v1alpha1';
const TOLERATIONS = [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }];
const IMAGE = 'example.invalid/app:1';
const EVIL = 'evil.invalid/miner:1';
const HMAC = 'vaultsync.io/secrets-hmac';
/** What the apiserver answers when the policy refuses (reason Forbidden, the policy's message). */
const REFUSED = new RegExp(
  `ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}' denied request: vaultsync: its ServiceAccount may`,
);

type Workload = V1Deployment | V1StatefulSet | V1DaemonSet;
type Ref = { apiVersion: string; kind: string; namespace: string; name: string };

describe('admission policy: the operator identity changes workloads only in vaultsync.io/ annotations', function () {
  this.timeout(120_000);
  let bed: Testbed;
  let admin: KubeClient;
  let op: ShippedOperator;
  /** Requests made with nothing but a token of the operator's ServiceAccount. */
  let asOperator: KubeClient;
  let app: Tenant;
  let installedRolloutCrd = false;

  const ref = (kind: string, name: string, apiVersion = 'apps/v1'): Ref => ({
    apiVersion,
    kind,
    namespace: app.namespace,
    name,
  });
  const get = <T extends object>(r: Ref) =>
    getObject<T & { metadata?: { resourceVersion?: string } }>(admin, r);
  const podTemplate = (name: string, secret?: string) => ({
    metadata: { labels: { app: name } },
    spec: {
      containers: [
        { name: 'app', image: IMAGE, ...(secret && { envFrom: [{ secretRef: { name: secret } }] }) },
      ],
      tolerations: TOLERATIONS,
    },
  });
  /** A Deployment, StatefulSet or DaemonSet of the tenant, created by the tenant. */
  const createWorkload = (kind: string, name: string, opts: { secret?: string; annotations?: object } = {}) =>
    createObject(app.client, {
      apiVersion: 'apps/v1',
      kind,
      metadata: { name, namespace: app.namespace, annotations: { ...opts.annotations } },
      spec: {
        ...(kind !== 'DaemonSet' && { replicas: 1 }),
        ...(kind === 'StatefulSet' && { serviceName: name }),
        selector: { matchLabels: { app: name } },
        template: podTemplate(name, opts.secret),
      },
    } as Workload);
  const patchAs = (client: KubeClient, r: Ref, patch: object, type: string = PatchType.merge) =>
    client.rest.request({
      method: 'PATCH',
      path: `${r.apiVersion === 'v1' ? '/api/v1' : `/apis/${r.apiVersion}`}/namespaces/${r.namespace}/${resourceOf(r.kind)}/${r.name}`,
      body: patch,
      contentType: type,
    });

  /**
   * What a write by the operator could change. Status and the Deployment's revision annotation are
   * kube-controller-manager's: they move on their own while an earlier rollout proceeds.
   */
  const writable = (o: Workload | undefined) => ({
    generation: o?.metadata?.generation,
    labels: o?.metadata?.labels,
    annotations: Object.fromEntries(
      Object.entries(o?.metadata?.annotations ?? {}).filter(
        ([k]) => k !== 'deployment.kubernetes.io/revision',
      ),
    ),
    ownerReferences: o?.metadata?.ownerReferences,
    finalizers: o?.metadata?.finalizers,
    spec: o?.spec,
  });

  /** `writable` less the generation and vaultsync's own annotations (and the DaemonSet counter the apiserver keeps). */
  const notOurs = (o: Workload | undefined) => {
    const theirs = (a: Record<string, string> | undefined) =>
      Object.fromEntries(
        Object.entries(a ?? {}).filter(
          ([k]) => !k.startsWith('vaultsync.io/') && k !== 'deprecated.daemonset.template.generation',
        ),
      );
    const { generation: _, ...rest } = structuredClone(writable(o));
    rest.annotations = theirs(rest.annotations);
    if (rest.spec?.template?.metadata)
      rest.spec.template.metadata.annotations = theirs(rest.spec.template.metadata.annotations);
    return rest;
  };

  /**
   * One attack with the operator's token: refused by the policy (403 and its message), and the
   * object is unchanged (same generation, spec, labels, annotations, owners, finalizers).
   */
  async function refused(r: Ref, patch: object, type: string = PatchType.merge): Promise<string> {
    const before = await get<Workload>(r);
    assert.ok(before, `${r.kind} ${r.name} exists`);
    const err = await patchAs(asOperator, r, patch, type).then(
      () => assert.fail(`the operator's identity was allowed: ${JSON.stringify(patch)}`),
      (e: unknown) => e as KubeError,
    );
    assert.equal(err.status, 403, err.message);
    assert.match(err.message, REFUSED);
    assert.deepEqual(writable(await get<Workload>(r)), writable(before), 'nothing was written');
    return err.message;
  }

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    admin = createKubeClient(bed.kubeConfig());
    const auth = await operatorVaultAuth(
      bed,
      NAME,
      // Read, and write for the AnnotatePods rotation below.
      'path "secret/data/adm-*" { capabilities = ["create", "read", "update"] }\npath "secret/metadata/adm-*" { capabilities = ["read"] }',
    );
    op = await startShippedOperator(bed, {
      name: NAME,
      config: `
backends:
  - name: vault
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: ${auth}
    allowedNamespaces: ["adm-*"]
    allowedPaths: ["{namespace}/**"]
    allowedWritePaths: ["{namespace}/rotated"]
`,
      // AnnotatePods on: the chart then grants pods list and patch, the widest it ever grants.
      chartValues: { config: { operator: { annotatePods: true } } },
    });
    asOperator = createKubeClient(op.kubeConfig);
    app = await createTenant(bed, 'adm-app');
    // A rerun on a shared bed (VAULTSYNC_TESTBED_DIR): what a previous run left is gone first.
    const leftovers = [
      ...['Deployment', 'StatefulSet', 'DaemonSet'].flatMap((k) => [ref(k, 'web'), ref(k, 'consumer')]),
      ref('Deployment', 'live'),
      { apiVersion: API, kind: 'SecretRotation', namespace: app.namespace, name: 'rotated' },
      { apiVersion: API, kind: 'VaultSecret', namespace: app.namespace, name: 'rotated' },
      ref('Pod', 'web-pod', 'v1'),
      { apiVersion: API, kind: 'VaultSecret', namespace: app.namespace, name: 'db' },
    ];
    for (const r of leftovers) await deleteObject(admin, r);
    await baoApi({ addr: bed.baoAddr, token: bed.baoToken })(
      'DELETE',
      `secret/metadata/${app.namespace}/rotated`,
    );
    for (const r of leftovers)
      await eventually(
        `${r.kind} ${r.name} gone`,
        async () => ((await getObject(admin, r)) ? undefined : true),
        60_000,
        250,
      );
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet']) await createWorkload(kind, 'web');
    await createObject<V1Pod>(app.client, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-pod', namespace: app.namespace, labels: { app: 'web-pod' } },
      spec: podTemplate('web-pod').spec,
    });
    // The policy is in force once the apiserver's admission plugin has it: wait for a refusal.
    await eventually(
      'the policy in force',
      () =>
        patchAs(asOperator, ref('Deployment', 'web'), { spec: { replicas: 7 } }).then(
          () => assert.fail('the policy is not in force'),
          (e: KubeError) => (REFUSED.test(e.message) ? true : undefined),
        ),
      30_000,
      250,
    );
  });

  after(async function () {
    this.timeout(60_000);
    await op?.stop();
    if (installedRolloutCrd) await deleteRolloutCrd(admin);
    if (app) {
      for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet'])
        for (const name of ['web', 'consumer', 'live']) await deleteObject(admin, ref(kind, name));
      await deleteObject(admin, ref('Pod', 'web-pod', 'v1'));
      await deleteObject(admin, {
        apiVersion: API,
        kind: 'VaultSecret',
        namespace: app.namespace,
        name: 'db',
      });
    }
  });

  it('the chart renders the policy and its binding for the operator ServiceAccount only; the apiserver type-checks it clean', async () => {
    const policy = op.manifests.find((m) => m.kind === 'ValidatingAdmissionPolicy');
    const binding = op.manifests.find((m) => m.kind === 'ValidatingAdmissionPolicyBinding');
    assert.equal(policy?.metadata.name, POLICY);
    assert.deepEqual((binding as { spec?: object } | undefined)?.spec, {
      policyName: POLICY,
      validationActions: ['Deny'],
    });
    const spec = policy.spec as { matchConditions: { expression: string }[]; failurePolicy: string };
    assert.deepEqual(
      spec.matchConditions.map((c) => c.expression),
      [`request.userInfo.username == 'system:serviceaccount:${op.namespace}:${op.serviceAccount}'`],
    );
    assert.equal(spec.failurePolicy, 'Fail');
    const served = await eventually('the policy observed', async () => {
      const p = await getObject<
        KubernetesObject & { status?: { observedGeneration?: number; typeChecking?: object } }
      >(admin, {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        name: POLICY,
      });
      return p?.status?.observedGeneration ? p : undefined;
    });
    assert.deepEqual(served.status?.typeChecking ?? {}, {}, 'no type-checking warnings');
  });

  it("as the operator: a vaultsync.io/ annotation on a Deployment and on its pod template (the reload controller's restart) is allowed", async () => {
    const r = ref('Deployment', 'web');
    const before = await get<V1Deployment>(r);
    const patched = (await patchAs(asOperator, r, {
      metadata: { annotations: { 'vaultsync.io/restarted-at': new Date().toISOString() } },
      spec: { template: { metadata: { annotations: { [HMAC]: 'db=k1.allowed' } } } },
    })) as V1Deployment;
    assert.equal(patched.spec?.template?.metadata?.annotations?.[HMAC], 'db=k1.allowed');
    assert.equal(patched.metadata?.generation, (before?.metadata?.generation ?? 0) + 1, 'a rollout');
    assert.deepEqual(patched.spec?.template?.spec, before?.spec?.template?.spec);
    // …and removing one of its own annotations (a pending restart done) too.
    await patchAs(asOperator, r, { metadata: { annotations: { 'vaultsync.io/restarted-at': null } } });
  });

  const deploymentAttacks: [string, object, string?][] = [
    ['an image change', { spec: { template: { spec: { containers: [{ name: 'app', image: EVIL }] } } } }],
    [
      'a new container',
      {
        spec: {
          template: {
            spec: {
              containers: [
                { name: 'app', image: IMAGE },
                { name: 'sidecar', image: EVIL },
              ],
            },
          },
        },
      },
    ],
    [
      'an env change',
      {
        spec: {
          template: {
            spec: {
              containers: [{ name: 'app', image: IMAGE, env: [{ name: 'NODE_OPTIONS', value: '-r /x' }] }],
            },
          },
        },
      },
    ],
    ['a label change', { metadata: { labels: { tier: 'evil' } } }],
    ['a pod-template label change', { spec: { template: { metadata: { labels: { tier: 'evil' } } } } }],
    ['a replicas change', { spec: { replicas: 0 } }],
    ['a non-vaultsync annotation', { metadata: { annotations: { 'example.com/owner': 'evil' } } }],
    [
      'a non-vaultsync pod-template annotation',
      { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } } } } },
    ],
    [
      'an image change beside a vaultsync.io/ annotation',
      {
        spec: {
          template: {
            metadata: { annotations: { [HMAC]: 'db=k1.cover' } },
            spec: { containers: [{ name: 'app', image: EVIL }] },
          },
        },
      },
    ],
    ['a ServiceAccount change', { spec: { template: { spec: { serviceAccountName: 'default' } } } }],
    [
      'an image change by JSON patch',
      [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: EVIL }],
      PatchType.json,
    ],
    [
      'an image change by strategic merge patch',
      { spec: { template: { spec: { containers: [{ name: 'app', image: EVIL }] } } } },
      PatchType.strategic,
    ],
  ];
  for (const [what, patch, type] of deploymentAttacks) {
    it(`as the operator: ${what} of a Deployment is refused with the policy's message`, async () => {
      const message = await refused(ref('Deployment', 'web'), patch, type);
      console.log(`      refused: ${message}`);
    });
  }

  it('as the operator: a restart annotation on a StatefulSet and a DaemonSet is allowed, an image change refused', async () => {
    for (const kind of ['StatefulSet', 'DaemonSet']) {
      const r = ref(kind, 'web');
      const patched = (await patchAs(asOperator, r, {
        spec: { template: { metadata: { annotations: { [HMAC]: `db=k1.${kind}` } } } },
      })) as Workload;
      assert.equal(patched.spec?.template?.metadata?.annotations?.[HMAC], `db=k1.${kind}`, kind);
      await refused(r, { spec: { template: { spec: { containers: [{ name: 'app', image: EVIL }] } } } });
    }
  });

  it('as the operator: a vaultsync.io/ annotation on a pod (AnnotatePods) is allowed; its image or labels are refused', async () => {
    const r = ref('Pod', 'web-pod', 'v1');
    const patched = (await patchAs(asOperator, r, {
      metadata: { annotations: { [HMAC]: 'db=k1.pod' } },
    })) as V1Pod;
    assert.equal(patched.metadata?.annotations?.[HMAC], 'db=k1.pod');
    // Replacing just the image: a pod update the apiserver would otherwise take (images are mutable).
    await refused(r, [{ op: 'replace', path: '/spec/containers/0/image', value: EVIL }], PatchType.json);
    // A label change takes the pod out of its Service and its owner's selector.
    await refused(r, { metadata: { labels: { app: 'other' } } });
  });

  describe('with the RBAC widened by mistake (an extra Role for the operator ServiceAccount)', () => {
    before(async () => {
      await adminApply(bed, [
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'adm-too-much', namespace: app.namespace },
          rules: [
            { apiGroups: [''], resources: ['pods'], verbs: ['create', 'delete'] },
            { apiGroups: [''], resources: ['pods/ephemeralcontainers'], verbs: ['patch'] },
            { apiGroups: ['apps'], resources: ['deployments'], verbs: ['delete'] },
            { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['patch'] },
          ],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'adm-too-much', namespace: app.namespace },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'adm-too-much' },
          subjects: [{ kind: 'ServiceAccount', name: op.serviceAccount, namespace: op.namespace }],
        },
      ]);
    });
    after(async () => {
      await deleteObject(admin, ref('RoleBinding', 'adm-too-much', 'rbac.authorization.k8s.io/v1'));
      await deleteObject(admin, ref('Role', 'adm-too-much', 'rbac.authorization.k8s.io/v1'));
    });

    /** The policy, not RBAC, refuses: waits out RBAC propagation (a 403 without the policy's message). */
    const refusedByPolicy = (attempt: () => Promise<unknown>) =>
      eventually(
        "the policy's refusal",
        () =>
          attempt().then(
            () => assert.fail('allowed'),
            (e: KubeError) => (e.status === 403 && REFUSED.test(e.message) ? e.message : undefined),
          ),
        10_000,
        200,
      );

    it('as the operator: an ephemeral (debug) container in a pod is refused', async () => {
      const r = ref('Pod', 'web-pod', 'v1');
      const before = await get<V1Pod>(r);
      const message = await refusedByPolicy(() =>
        asOperator.rest.request({
          method: 'PATCH',
          path: `/api/v1/namespaces/${app.namespace}/pods/web-pod/ephemeralcontainers`,
          body: { spec: { ephemeralContainers: [{ name: 'debug', image: EVIL }] } },
          contentType: PatchType.strategic,
        }),
      );
      assert.match(message, /may not UPDATE pods\/ephemeralcontainers/);
      assert.deepEqual((await get<V1Pod>(r))?.spec, before?.spec);
    });

    it('as the operator: creating a pod is refused', async () => {
      const message = await refusedByPolicy(() =>
        createObject<V1Pod>(asOperator, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'evil', namespace: app.namespace },
          spec: { containers: [{ name: 'x', image: EVIL }], tolerations: TOLERATIONS },
        }),
      );
      assert.match(message, /may not CREATE pods/);
      assert.equal(await get(ref('Pod', 'evil', 'v1')), undefined);
    });

    it('as the operator: deleting a Deployment or scaling it through deployments/scale is refused', async () => {
      const r = ref('Deployment', 'web');
      const before = await get<V1Deployment>(r);
      await refusedByPolicy(() =>
        asOperator.rest.request({
          method: 'DELETE',
          path: `/apis/apps/v1/namespaces/${app.namespace}/deployments/web`,
        }),
      );
      await refusedByPolicy(() =>
        asOperator.rest.request({
          method: 'PATCH',
          path: `/apis/apps/v1/namespaces/${app.namespace}/deployments/web/scale`,
          body: { spec: { replicas: 0 } },
          contentType: PatchType.merge,
        }),
      );
      assert.deepEqual(writable(await get<V1Deployment>(r)), writable(before));
    });
  });

  it('as the operator: an Argo Rollout takes spec.restartAt and vaultsync.io/ annotations; its replicas or image are refused', async () => {
    if (
      !(await getObject(admin, {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name: 'rollouts.argoproj.io',
      }))
    ) {
      await installRolloutCrd(admin);
      installedRolloutCrd = true;
    }
    // By the admin: `edit` does not cover argoproj.io (Argo's own roles would).
    await createObject<ArgoRollout>(admin, rolloutObject(app.namespace, 'web', {}));
    const r = ref('Rollout', 'web', 'argoproj.io/v1alpha1');
    const restartAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000)
      .toISOString()
      .replace('.000Z', 'Z');
    const patched = (await patchAs(asOperator, r, {
      metadata: { annotations: { [HMAC]: 'db=k1.rollout', 'vaultsync.io/restarted-at': restartAt } },
      spec: { restartAt },
    })) as ArgoRollout;
    assert.equal(patched.spec?.restartAt, restartAt);
    await refused(r, { spec: { replicas: 9 } });
    await refused(r, { spec: { template: { spec: { containers: [{ name: 'app', image: EVIL }] } } } });
    await deleteObject(admin, r);
  });

  it('another identity is not affected: the tenant (edit) and the admin change the image', async () => {
    const r = ref('Deployment', 'web');
    await mergePatch(app.client, r, {
      spec: { template: { spec: { containers: [{ name: 'app', image: 'example.invalid/app:2' }] } } },
    });
    await mergePatch(admin, r, { spec: { replicas: 2 } });
    const after = await get<V1Deployment>(r);
    assert.equal(after?.spec?.template?.spec?.containers[0]?.image, 'example.invalid/app:2');
    assert.equal(after?.spec?.replicas, 2);
  });

  it("the operator's real reload path under the policy: a changed Secret restarts a Deployment, a StatefulSet and a DaemonSet", async () => {
    const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await bao('POST', `secret/data/${app.namespace}/db`, { data: { password: 'first' } });
    await createObject<VaultSecret>(app.client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name: 'db', namespace: app.namespace },
      spec: {
        backend: 'vault',
        data: [{ secretKey: 'password', remoteRef: { path: `${app.namespace}/db`, property: 'password' } }],
      },
    });
    const vsRef = { apiVersion: API, kind: 'VaultSecret', namespace: app.namespace, name: 'db' };
    await eventually(
      'VaultSecret db Ready',
      async () => {
        const vs = await getObject<VaultSecret>(app.client, vsRef);
        return vs?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          ? vs
          : undefined;
      },
      30_000,
    );
    const kinds = ['Deployment', 'StatefulSet', 'DaemonSet'];
    for (const kind of kinds)
      await createWorkload(kind, 'consumer', {
        secret: 'db',
        annotations: { 'vaultsync.io/reload': 'true', 'vaultsync.io/reload-debounce': '1s' },
      });
    const before = new Map<string, Workload>();
    for (const kind of kinds) before.set(kind, (await get<Workload>(ref(kind, 'consumer')))!);

    await bao('POST', `secret/data/${app.namespace}/db`, { data: { password: 'second' } });
    const nonce = String(Date.now());
    await mergePatch(app.client, vsRef, { metadata: { annotations: { 'vaultsync.io/sync-now': nonce } } });
    const started = Date.now();
    for (const kind of kinds) {
      const restarted = await eventually(
        `${kind} consumer restarted by the operator`,
        async () => {
          const w = await get<Workload>(ref(kind, 'consumer'));
          return w?.spec?.template?.metadata?.annotations?.[HMAC]?.startsWith('db=') ? w : undefined;
        },
        60_000,
        250,
      );
      // What the operator changed is its annotations, nothing else.
      assert.deepEqual(notOurs(restarted), notOurs(before.get(kind)), kind);
    }
    console.log(`      3 workloads restarted under the policy ${Date.now() - started} ms after the sync-now`);
    assert.deepEqual(forbiddenLines(op.logs), [], 'no refusal in the operator log');
  });

  it("the operator's real AnnotatePods path under the policy: a rotation annotates the running pod, restarts nothing", async () => {
    const rotationRef = {
      apiVersion: API,
      kind: 'SecretRotation',
      namespace: app.namespace,
      name: 'rotated',
    };
    const vsRef = { apiVersion: API, kind: 'VaultSecret', namespace: app.namespace, name: 'rotated' };
    // A value, the VaultSecret that syncs it, a Deployment that uses it, and a rotation of it.
    await baoApi({ addr: bed.baoAddr, token: bed.baoToken })('POST', `secret/data/${app.namespace}/rotated`, {
      data: { key: 'v1' },
    });
    await createObject<VaultSecret>(app.client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name: 'rotated', namespace: app.namespace },
      spec: { backend: 'vault', dataFrom: [{ extract: { path: `${app.namespace}/rotated` } }] },
    });
    await eventually(
      'VaultSecret rotated Ready',
      async () => {
        const vs = await getObject<VaultSecret>(app.client, vsRef);
        return vs?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          ? vs
          : undefined;
      },
      30_000,
    );
    await createWorkload('Deployment', 'live', { secret: 'rotated' });
    const pod = await eventually(
      'a running pod of Deployment live',
      async () =>
        (
          await admin.rest.request<{ items: V1Pod[] }>({
            method: 'GET',
            path: `/api/v1/namespaces/${app.namespace}/pods`,
            query: { labelSelector: 'app=live' },
          })
        ).items.find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp),
      60_000,
      250,
    );
    const before = await get<V1Deployment>(ref('Deployment', 'live'));
    await createObject<SecretRotation>(app.client, {
      apiVersion: API,
      kind: 'SecretRotation',
      metadata: { name: 'rotated', namespace: app.namespace },
      spec: {
        backend: 'vault',
        path: `${app.namespace}/rotated`,
        interval: '720h',
        generate: { key: { type: 'randomBytes', length: 8 } },
        consumers: { targets: [{ kind: 'Deployment', name: 'live' }] },
        restart: { debounce: '0s', mode: 'AnnotatePods' },
      } as SecretRotation['spec'],
    });
    await eventually(
      'rotation Scheduled',
      async () => {
        const sr = await getObject<SecretRotation>(app.client, rotationRef);
        return sr?.status?.conditions?.some((c) => c.type === 'Ready' && c.reason === 'Scheduled')
          ? true
          : undefined;
      },
      30_000,
    );
    const podRef = ref('Pod', pod.metadata!.name!, 'v1');
    const first = (await get<V1Pod>(podRef))?.metadata?.annotations?.[HMAC];
    await mergePatch(app.client, rotationRef, {
      metadata: { annotations: { 'vaultsync.io/rotate-now': '1' } },
    });
    const annotated = await eventually(
      'the pod annotated by the operator after the rotation',
      async () => {
        const sr = await getObject<SecretRotation>(app.client, rotationRef);
        const p = await get<V1Pod>(podRef);
        const now = p?.metadata?.annotations?.[HMAC];
        return sr?.status?.phase === 'Idle' && now?.startsWith('rotated=') && now !== first ? p : undefined;
      },
      60_000,
      250,
    );
    assert.deepEqual(annotated.spec, pod.spec, "the pod's spec is untouched");
    const after = await get<V1Deployment>(ref('Deployment', 'live'));
    assert.deepEqual(after?.spec?.template, before?.spec?.template, 'the Deployment did not roll');
    assert.deepEqual(forbiddenLines(op.logs), [], 'no refusal in the operator log');
    await deleteObject(admin, rotationRef);
    await deleteObject(admin, vsRef);
  });
});

function resourceOf(kind: string): string {
  const plural: Record<string, string> = {
    Deployment: 'deployments',
    StatefulSet: 'statefulsets',
    DaemonSet: 'daemonsets',
    Pod: 'pods',
    Rollout: 'rollouts',
  };
  const r = plural[kind];
  if (!r) throw new Error(`no resource for ${kind}`);
  return r;
}
