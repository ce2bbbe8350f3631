// VaultCertificate and SecretRotation failures that show (issue 14, Deliver 2 and 3), on the real
// apiserver and OpenBao with the operator as shipped (chart identity and RBAC, least-privilege
// OpenBao). The refusals are the apiserver's own: ValidatingAdmissionPolicies this test installs
// (a Secret name no one may write; a SecretRotation status no one may record), and objects stored
// past the CRD's CEL rules by loosening the CRD as admin for a moment (as an older CRD would have
// let them in). What users care about: the resource says Ready=False with the reason and the
// apiserver's message, one Warning event, and the retry neither signs a second certificate nor
// generates a second rotation; an invalid stored spec is reported, not retried in a loop.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { CoreV1Event, V1Deployment, V1Secret } from '@kubernetes/client-node';
import type { SecretRotation, VaultCertificate, VaultSecret } from '../src/apis/v1alpha1/index.ts';
import {
  type KubeClient,
  createKubeClient,
  createObject,
  deleteObject,
  getObject,
  mergePatch,
} from '../src/kube/index.ts';
import { PatchType } from '../src/kube/rest.ts';
import { installCrds } from './support/crds.ts';
import { ensureNamespace, startTestOperator, type TestOperator } from './support/operator.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi, pkiRole } from './support/testbed/openbao.ts';
import { delay, eventually } from './support/wait.ts';

const ns = 'team-h3-failures';
const API = 'vaultsync.io/v1alpha1';
const host = `api.${ns}.svc.cluster.local`;
/** Every message of the policies below says this: the operator's logged refusals are expected. */
const MARK = 'vaultsync-test-refusal';

function config(bed: Testbed): string {
  return `
backends:
  - name: vault
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ["${ns}"]
    allowedPaths: ["{namespace}/**"]
    allowedWritePaths: ["{namespace}/**"]
  - name: vault-pki
    type: vault-pki
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ["${ns}"]
    allowedDomains: ["**.{namespace}.svc.cluster.local"]
`;
}

/** The parts of a CRD's schema this test loosens. */
interface Schema {
  'x-kubernetes-validations'?: { message: string }[];
  properties?: Record<string, Schema>;
}
interface Crd {
  metadata: { resourceVersion?: string };
  spec: { versions: { schema: { openAPIV3Schema: Schema } }[] };
}

/** A ValidatingAdmissionPolicy and its binding (Deny) for this test's namespace. */
function admissionPolicy(
  name: string,
  rule: { apiGroups: string[]; resources: string[] },
  expression: string,
  message: string,
) {
  const namespaceSelector = { matchLabels: { 'kubernetes.io/metadata.name': ns } };
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          namespaceSelector,
          resourceRules: [{ ...rule, apiVersions: ['*'], operations: ['CREATE', 'UPDATE'] }],
        },
        validations: [{ expression, message: `${MARK}: ${message}` }],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name },
      spec: { policyName: name, validationActions: ['Deny'], matchResources: { namespaceSelector } },
    },
  ];
}

describe('VaultCertificate and SecretRotation failures that show (real apiserver, operator as shipped)', function () {
  this.timeout(120_000);
  let bed: Testbed;
  let client: KubeClient;
  let operator: TestOperator;
  let bao: ReturnType<typeof baoApi>;
  const installed: { apiVersion: string; kind: string; name: string }[] = [];

  const metrics = async () => (await fetch(`http://${operator.healthAddress}/metrics`)).text();
  const reconciles = async (controller: string) => {
    let sum = 0;
    for (const line of (await metrics()).split('\n')) {
      if (
        line.startsWith('controller_runtime_reconcile_total{') &&
        line.includes(`controller="${controller}"`)
      )
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  };
  const ref = (kind: string, name: string) => ({ apiVersion: API, kind, namespace: ns, name });
  const ready = (
    obj:
      | { status?: { conditions?: { type: string; reason: string; status: string; message: string }[] } }
      | undefined,
  ) => obj?.status?.conditions?.find((c) => c.type === 'Ready');
  const warnings = async (kind: string, name: string) =>
    (
      await client.rest.request<{ items: CoreV1Event[] }>({
        method: 'GET',
        path: `/api/v1/namespaces/${ns}/events`,
        query: { fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name},type=Warning` },
      })
    ).items;
  /** Certificates the PKI mount has signed (its CA included): counts what OpenBao really issued. */
  const signed = async () =>
    ((await bao('GET', `${pkiRole.mount}/certs?list=true`)) as { data: { keys: string[] } }).data.keys;

  async function install(objects: ReturnType<typeof admissionPolicy>) {
    for (const o of objects) {
      await createObject(client, o as never);
      installed.push({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name });
    }
  }
  async function uninstall(name: string) {
    for (const o of installed.filter((x) => x.name === name).reverse()) {
      await deleteObject(client, { apiVersion: o.apiVersion, kind: o.kind, name: o.name }).catch(
        () => undefined,
      );
    }
    installed.splice(0, installed.length, ...installed.filter((x) => x.name !== name));
  }

  /**
   * Runs `body` while the CRD of `plural` lacks the CEL rules `drop` picks (as admin), then puts
   * the CRD back as it was: objects created in between were stored past those rules.
   */
  async function withLooserCrd(plural: string, drop: (spec: Schema) => void, body: () => Promise<unknown>) {
    const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${plural}.vaultsync.io`;
    const original = await client.rest.request<Crd>({ method: 'GET', path });
    const looser = structuredClone(original);
    drop(looser.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!);
    await client.rest.request({ method: 'PUT', path, body: looser });
    try {
      await body();
    } finally {
      const current = await client.rest.request<Crd>({ method: 'GET', path });
      original.metadata.resourceVersion = current.metadata.resourceVersion;
      await client.rest.request({ method: 'PUT', path, body: original });
    }
  }

  /** Creates the object, retrying while the apiserver still validates with the stricter CRD. */
  const createPastCel = <T extends object>(obj: T) =>
    eventually(
      'stored past the CEL rule',
      () =>
        createObject(client, obj as never).then(
          () => true,
          () => undefined,
        ),
      15_000,
      200,
    );

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    client = createKubeClient(bed.kubeConfig());
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await installCrds(bed.kubeConfig());
    await ensureNamespace(bed.kubeConfig(), ns);
    operator = await startTestOperator(bed, {
      config: config(bed),
      allowForbidden: new RegExp(MARK),
    });
  });

  after(async function () {
    this.timeout(60_000);
    for (const name of new Set(installed.map((o) => o.name))) await uninstall(name);
    await operator?.stop();
  });

  it('objects stored past CEL (renewBefore ≥ duration, a 1ms interval): Ready=False InvalidSpec, one event, nothing issued or written, no hot loop', async () => {
    const certsBefore = (await signed()).length;
    await withLooserCrd(
      'vaultcertificates',
      (spec) => {
        spec['x-kubernetes-validations'] = spec['x-kubernetes-validations']?.filter(
          (r) => !r.message.startsWith('renewBefore must be shorter'),
        );
      },
      () =>
        createPastCel<VaultCertificate>({
          apiVersion: API,
          kind: 'VaultCertificate',
          metadata: { name: 'too-eager', namespace: ns },
          spec: {
            issuer: { backend: 'vault-pki', role: pkiRole.role },
            dnsNames: [host],
            secretName: 'too-eager-tls',
            duration: '1h',
            renewBefore: '2h',
          },
        }),
    );
    await withLooserCrd(
      'secretrotations',
      (spec) => {
        const interval = spec.properties!.interval!;
        interval['x-kubernetes-validations'] = interval['x-kubernetes-validations']?.filter(
          (r) => !r.message.startsWith('interval must be at least'),
        );
      },
      () =>
        createPastCel<SecretRotation>({
          apiVersion: API,
          kind: 'SecretRotation',
          metadata: { name: 'too-often', namespace: ns },
          spec: {
            backend: 'vault',
            path: `${ns}/too-often`,
            interval: '1ms',
            generate: { password: { type: 'password' } },
          },
        }),
    );
    const vc = await eventually('VaultCertificate InvalidSpec', async () => {
      const o = await getObject<VaultCertificate>(client, ref('VaultCertificate', 'too-eager'));
      return ready(o)?.reason === 'InvalidSpec' ? o : undefined;
    });
    assert.equal(ready(vc)?.status, 'False');
    assert.match(ready(vc)?.message ?? '', /spec\.renewBefore: .*renewBefore must be shorter than duration/);
    const sr = await eventually('SecretRotation InvalidSpec', async () => {
      const o = await getObject<SecretRotation>(client, ref('SecretRotation', 'too-often'));
      return ready(o)?.reason === 'InvalidSpec' ? o : undefined;
    });
    assert.match(ready(sr)?.message ?? '', /spec\.interval: .*interval must be at least 1m/);

    // No hot loop: over 10 s, each controller reconciles a handful of times at most.
    const before = { vc: await reconciles('vaultcertificate'), sr: await reconciles('secretrotation') };
    assert.ok(before.vc > 0 && before.sr > 0, 'the reconcile counters are read');
    await delay(10_000);
    const during = {
      vc: (await reconciles('vaultcertificate')) - before.vc,
      sr: (await reconciles('secretrotation')) - before.sr,
    };
    console.log(
      `      reconciles in 10 s with an invalid stored spec: vaultcertificate ${during.vc}, secretrotation ${during.sr}`,
    );
    assert.ok(during.vc <= 2, `vaultcertificate reconciled ${during.vc} times in 10 s`);
    assert.ok(during.sr <= 2, `secretrotation reconciled ${during.sr} times in 10 s`);

    assert.equal((await signed()).length, certsBefore, 'nothing was signed');
    assert.equal(
      await getObject<V1Secret>(client, {
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: ns,
        name: 'too-eager-tls',
      }),
      undefined,
    );
    await assert.rejects(bao('GET', `secret/data/${ns}/too-often`), /HTTP 404/, 'nothing rotated');
    assert.equal(
      (await warnings('VaultCertificate', 'too-eager')).filter((e) => e.reason === 'InvalidSpec').length,
      1,
    );
    assert.equal(
      (await warnings('SecretRotation', 'too-often')).filter((e) => e.reason === 'InvalidSpec').length,
      1,
    );
  });

  it('a VaultCertificate whose Secret write the apiserver refuses: Ready=False SecretWriteFailed, one event, signed exactly once across retries', async () => {
    await install(
      admissionPolicy(
        'vaultsync-test-refuse-tls',
        { apiGroups: [''], resources: ['secrets'] },
        "object.metadata.name != 'refused-tls'",
        'Secret refused-tls may not be written',
      ),
    );
    // The policy is in force once the apiserver refuses the same write to an admin (dry run).
    await eventually('the policy refuses', () =>
      client.rest
        .request({
          method: 'POST',
          path: `/api/v1/namespaces/${ns}/secrets`,
          query: { dryRun: 'All' },
          body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'refused-tls', namespace: ns } },
        })
        .then(
          () => undefined,
          (err: Error) => (String(err.message).includes(MARK) ? true : undefined),
        ),
    );
    const certsBefore = await signed();
    await createObject<VaultCertificate>(client, {
      apiVersion: API,
      kind: 'VaultCertificate',
      metadata: { name: 'refused', namespace: ns },
      spec: {
        issuer: { backend: 'vault-pki', role: pkiRole.role },
        dnsNames: [host],
        secretName: 'refused-tls',
      },
    });
    const failed = await eventually('Ready=False SecretWriteFailed', async () => {
      const o = await getObject<VaultCertificate>(client, ref('VaultCertificate', 'refused'));
      return ready(o)?.reason === 'SecretWriteFailed' ? o : undefined;
    });
    assert.equal(ready(failed)?.status, 'False');
    assert.match(
      ready(failed)?.message ?? '',
      new RegExp(`refused the write of Secret refused-tls: .*${MARK}: Secret refused-tls may not be written`),
    );

    // Wake it up again and again (a Secret labelled as its own changes: the controller's Secret
    // informer enqueues the certificate it names), past the issuance backoff: each retry only
    // writes again.
    const writesBefore = operator.logs.filter((l) =>
      l.includes('Writing the certificate issued before again'),
    ).length;
    await createObject<V1Secret>(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'wake-refused',
        namespace: ns,
        labels: { 'app.kubernetes.io/managed-by': 'vaultsync', 'vaultsync.io/vaultcertificate': 'refused' },
      },
    });
    for (let i = 0; i < 3; i++) {
      await delay(6_000);
      await mergePatch(
        client,
        { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'wake-refused' },
        { metadata: { annotations: { poke: String(i) } } },
      );
    }
    const retried = await eventually('retried the write', () => {
      const n =
        operator.logs.filter((l) => l.includes('Writing the certificate issued before again')).length -
        writesBefore;
      return n >= 2 ? n : undefined;
    });
    const newCerts = (await signed()).filter((k) => !certsBefore.includes(k));
    console.log(
      `      Secret write refused: ${retried} retries of the write, ${newCerts.length} certificate(s) signed`,
    );
    assert.equal(newCerts.length, 1, 'signed exactly once');
    assert.equal(
      (await warnings('VaultCertificate', 'refused')).filter((e) => e.reason === 'SecretWriteFailed').length,
      1,
    );

    // The policy goes: the next retry writes the certificate signed the first time.
    await uninstall('vaultsync-test-refuse-tls');
    await delay(2_000);
    await mergePatch(
      client,
      { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'wake-refused' },
      { metadata: { annotations: { poke: 'fixed' } } },
    );
    const issued = await eventually(
      'Ready=True',
      async () => {
        const o = await getObject<VaultCertificate>(client, ref('VaultCertificate', 'refused'));
        return ready(o)?.status === 'True' ? o : undefined;
      },
      60_000,
    );
    const secret = await getObject<V1Secret>(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: ns,
      name: 'refused-tls',
    });
    const pem = Buffer.from(secret?.data?.['tls.crt'] ?? '', 'base64').toString();
    const serial = new X509Certificate(pem).serialNumber.toLowerCase().replace(/^(00)+(?=.)/, '');
    assert.equal(issued.status?.serialNumber, serial);
    assert.deepEqual(
      (await signed()).filter((k) => !certsBefore.includes(k)),
      newCerts,
      'the Secret holds the one certificate signed, no second one',
    );
    await deleteObject(client, { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'wake-refused' });
  });

  it('a SecretRotation whose status write the apiserver refuses: Ready=False SecretWriteFailed, one event, one backend version only', async () => {
    await bao('POST', `secret/data/${ns}/db`, { data: { password: 'initial', user: 'app' } });
    await createObject<SecretRotation>(client, {
      apiVersion: API,
      kind: 'SecretRotation',
      metadata: { name: 'db', namespace: ns },
      spec: {
        backend: 'vault',
        path: `${ns}/db`,
        interval: '720h',
        generate: { password: { type: 'password' } },
      },
    });
    await eventually('scheduled', async () => {
      const o = await getObject<SecretRotation>(client, ref('SecretRotation', 'db'));
      return ready(o)?.reason === 'Scheduled' ? o : undefined;
    });
    // Recording the rollout is refused: the backend write has happened by then.
    await install(
      admissionPolicy(
        'vaultsync-test-refuse-rollout',
        { apiGroups: ['vaultsync.io'], resources: ['secretrotations/status'] },
        "!has(object.status) || !has(object.status.phase) || object.status.phase != 'RollingOut'",
        'this rotation may not roll out',
      ),
    );
    await delay(2_000); // the policy is picked up (no dry run reaches a status subresource's rule as reliably)
    await mergePatch(client, ref('SecretRotation', 'db'), {
      metadata: { annotations: { 'vaultsync.io/rotate-now': 'now-1' } },
    });
    const failed = await eventually('Ready=False SecretWriteFailed', async () => {
      const o = await getObject<SecretRotation>(client, ref('SecretRotation', 'db'));
      return ready(o)?.reason === 'SecretWriteFailed' ? o : undefined;
    });
    assert.match(
      ready(failed)?.message ?? '',
      new RegExp(`refused the write of the status of SecretRotation db: .*${MARK}`),
    );
    assert.equal(failed.status?.phase, 'Rotating', 'the in-flight rotation is kept');
    // Woken by annotation changes meanwhile: no second version is generated.
    for (let i = 0; i < 3; i++) {
      await mergePatch(client, ref('SecretRotation', 'db'), {
        metadata: { annotations: { poke: String(i) } },
      });
      await delay(2_000);
    }
    const kv = (await bao('GET', `secret/data/${ns}/db`)) as { data: { metadata: { version: number } } };
    console.log(
      `      SecretRotation status refused: backend at version ${kv.data.metadata.version} (1 before)`,
    );
    assert.equal(kv.data.metadata.version, 2, 'exactly one new version');
    assert.equal(
      (await warnings('SecretRotation', 'db')).filter((e) => e.reason === 'SecretWriteFailed').length,
      1,
    );

    // Fixed (policy gone) and the spec touched: the written version is adopted, nothing generated.
    await uninstall('vaultsync-test-refuse-rollout');
    await delay(2_000);
    await mergePatch(client, ref('SecretRotation', 'db'), { spec: { restart: { debounce: '1s' } } });
    const rolled = await eventually('rolled out version 2', async () => {
      const o = await getObject<SecretRotation>(client, ref('SecretRotation', 'db'));
      return o?.status?.currentVersion === '2' && o.status.phase !== 'Rotating' ? o : undefined;
    });
    assert.equal(rolled.status?.currentVersion, '2');
    const after = (await bao('GET', `secret/data/${ns}/db`)) as { data: { metadata: { version: number } } };
    assert.equal(after.data.metadata.version, 2);
  });

  it('a consumer restart the apiserver refuses: Warning RestartFailed on the workload and on the SecretRotation, once; nothing written to the workload', async () => {
    await bao('POST', `secret/data/${ns}/app`, { data: { password: 'initial-app' } });
    await createObject<VaultSecret>(client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name: 'app', namespace: ns },
      spec: { backend: 'vault', dataFrom: [{ extract: { path: `${ns}/app` } }] },
    });
    await createObject<V1Deployment>(client, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: ns, annotations: { 'vaultsync.io/reload': 'true' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'api' } },
        template: {
          metadata: { labels: { app: 'api' } },
          spec: {
            containers: [
              { name: 'app', image: 'example.invalid/app:1', envFrom: [{ secretRef: { name: 'app' } }] },
            ],
            tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }],
          },
        },
      },
    });
    await eventually('VaultSecret synced', async () => {
      const o = await getObject<VaultSecret>(client, ref('VaultSecret', 'app'));
      return ready(o)?.status === 'True' ? o : undefined;
    });
    await createObject<SecretRotation>(client, {
      apiVersion: API,
      kind: 'SecretRotation',
      metadata: { name: 'app', namespace: ns },
      spec: {
        backend: 'vault',
        path: `${ns}/app`,
        interval: '720h',
        generate: { password: { type: 'password' } },
        restart: { debounce: '1s', readyTimeout: '60s' },
      },
    });
    await eventually('scheduled', async () => {
      const o = await getObject<SecretRotation>(client, ref('SecretRotation', 'app'));
      return ready(o)?.reason === 'Scheduled' ? o : undefined;
    });
    await install(
      admissionPolicy(
        'vaultsync-test-refuse-restart',
        { apiGroups: ['apps'], resources: ['deployments'] },
        "object.metadata.name != 'api'",
        'Deployment api may not change',
      ),
    );
    const deploymentRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'api' };
    await eventually('the policy refuses', () =>
      client.rest
        .request({
          method: 'PATCH',
          path: `/apis/apps/v1/namespaces/${ns}/deployments/api`,
          body: { metadata: { annotations: { probe: 'x' } } },
          contentType: PatchType.merge,
          query: { dryRun: 'All' },
        })
        .then(
          () => undefined,
          (err: Error) => (String(err.message).includes(MARK) ? true : undefined),
        ),
    );
    const generation = (await getObject<V1Deployment>(client, deploymentRef))?.metadata?.generation;
    await mergePatch(client, ref('SecretRotation', 'app'), {
      metadata: { annotations: { 'vaultsync.io/rotate-now': 'now-1' } },
    });
    const onWorkload = await eventually(
      'RestartFailed on the Deployment',
      async () => {
        const e = (await warnings('Deployment', 'api')).filter((x) => x.reason === 'RestartFailed');
        return e.length > 0 ? e : undefined;
      },
      30_000,
    );
    assert.match(onWorkload[0]?.message ?? '', new RegExp(`refused the write of Deployment api: .*${MARK}`));
    const onRotation = await eventually('RestartFailed on the SecretRotation', async () => {
      const e = (await warnings('SecretRotation', 'app')).filter((x) => x.reason === 'RestartFailed');
      return e.length > 0 ? e : undefined;
    });
    await delay(5_000);
    assert.equal((await warnings('Deployment', 'api')).filter((x) => x.reason === 'RestartFailed').length, 1);
    assert.equal(
      (await warnings('SecretRotation', 'app')).filter((x) => x.reason === 'RestartFailed').length,
      onRotation.length,
    );
    assert.equal(onRotation.length, 1);
    assert.equal((await getObject<V1Deployment>(client, deploymentRef))?.metadata?.generation, generation);
    await uninstall('vaultsync-test-refuse-restart');
  });
});
