// VaultSecret failures that show (issue 14, Deliver 2, 3, 4), against the real apiserver and
// OpenBao with the operator as shipped (chart ServiceAccount and RBAC, least-privilege OpenBao).
// Each trigger the issue names leaves Ready=False with its reason and exactly one Warning event,
// and the backend is not read again while the failure waits for a fix (counted from the
// operator's log). A read that would wipe the Secret is refused
// (UnsafeShrink) until allowEmpty says otherwise. Every backend value is a canary: none may reach
// a log line, an event or a status.
import assert from 'node:assert/strict';
import type { CoreV1Event, KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { tokenDigest } from '../src/apis/v1alpha1/trigger-token.ts';
import { type KubeClient, createKubeClient, createObject, getObject, mergePatch } from '../src/kube/index.ts';
import { installCrds } from './support/crds.ts';
import { ensureNamespace, startTestOperator, type TestOperator } from './support/operator.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { delay, eventually } from './support/wait.ts';

const ns = 'team-vsfail';
const API = 'vaultsync.io/v1alpha1';
const run = Math.random().toString(36).slice(2, 8);
const canary = (n: string) => `canary-${run}-${n}`;
/** A sync-now value longer than the status field (253): only its digest may be stored. */
const longToken = `${run}-`.padEnd(300, 'x');
/** How long a failure must stay quiet (no new read, no new event) to count as not looping. */
const QUIET_MS = 6_000;

describe('VaultSecret failures show, against the real apiserver and OpenBao', function () {
  this.timeout(180_000);
  let bed: Testbed;
  let kc: KubeConfig;
  let client: KubeClient;
  let operator: TestOperator;
  let bao: ReturnType<typeof baoApi>;
  const canaries: string[] = [];

  const kv = (path: string, data: Record<string, string>) =>
    bao('POST', `secret/data/${ns}/${path}`, { data });
  const plant = (path: string, data: Record<string, string>) => {
    canaries.push(...Object.values(data).map((v) => v.slice(0, 40)));
    return kv(path, data);
  };
  const secret = (name: string) =>
    getObject<V1Secret>(client, { apiVersion: 'v1', kind: 'Secret', namespace: ns, name });
  const vaultSecret = (name: string) =>
    getObject<VaultSecret>(client, { apiVersion: API, kind: 'VaultSecret', namespace: ns, name });
  const create = (name: string, spec: VaultSecret['spec'], annotations?: Record<string, string>) =>
    createObject<VaultSecret>(client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name, namespace: ns, ...(annotations && { annotations }) },
      spec,
    });
  const patchVs = (name: string, patch: Record<string, unknown>) =>
    mergePatch(client, { apiVersion: API, kind: 'VaultSecret', namespace: ns, name }, patch);
  const readyOf = (vs: VaultSecret | undefined) => vs?.status?.conditions?.find((c) => c.type === 'Ready');
  /** The VaultSecret once its Ready condition (for its current generation) has this status and reason. */
  const until = (name: string, status: 'True' | 'False', reason?: string) =>
    eventually(`${name} Ready=${status}${reason ? ` ${reason}` : ''}`, async () => {
      const vs = await vaultSecret(name);
      const c = readyOf(vs);
      return c?.status === status &&
        (!reason || c.reason === reason) &&
        vs?.status?.observedGeneration === vs?.metadata?.generation
        ? vs
        : undefined;
    });
  const warnings = async (name: string) => {
    const list = await client.rest.request<{ items: CoreV1Event[] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/events`,
      query: { fieldSelector: `involvedObject.name=${name},type=Warning` },
    });
    return list.items.filter((e) => e.involvedObject?.kind === 'VaultSecret');
  };
  /**
   * Backend reads for this namespace's VaultSecrets, from the operator's own log (one "Reading
   * backend" line per read, debug level): the shared bed may hold other tests' resources, so the
   * operator-wide metric would count their refreshes too.
   */
  const backendReads = (): number =>
    operator.logs.filter((line) => {
      try {
        const l = JSON.parse(line) as { message?: string; namespace?: string };
        return l.message === 'Reading backend' && l.namespace === ns;
      } catch {
        return false;
      }
    }).length;

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    kc = bed.kubeConfig();
    client = createKubeClient(kc);
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await installCrds(kc);
    await ensureNamespace(kc, ns);
    operator = await startTestOperator(bed);
  });

  after(async () => {
    // The CRD as generated again, whatever a failed test left behind.
    if (kc) await installCrds(kc);
    await operator?.stop();
  });

  it('shows each rejected write with its reason and one Warning, and reads the backend no more', async () => {
    await plant('spaced', { 'a b': canary('spaced'), ok: canary('spaced-ok') });
    await plant('slashed', { 'a/b': canary('slashed') });
    await plant('large', {
      a: canary('large-a') + 'x'.repeat(600_000),
      b: canary('large-b') + 'y'.repeat(600_000),
    });
    await plant('tls', { 'tls.key': canary('tls-key') });
    await plant('retyped', { password: canary('retyped') });
    await create('retyped', { backend: 'vault', dataFrom: [{ extract: { path: `${ns}/retyped` } }] });
    await until('retyped', 'True');
    const before = await secret('retyped');

    const cases: [name: string, reason: string, message: RegExp][] = [
      ['key-space', 'InvalidKey', /"a b".*not a valid Secret key/],
      ['key-slash', 'InvalidKey', /"a\/b".*not a valid Secret key/],
      ['too-large', 'SecretTooLarge', /would hold \d+ bytes.*at most 1048576/],
      ['tls-missing', 'SecretWriteFailed', /refused the write of Secret tls-missing.*tls\.crt/],
      ['retyped', 'SecretWriteFailed', /refused the write of Secret retyped.*type.*immutable/],
    ];
    const readsBefore = backendReads();
    await create('key-space', { backend: 'vault', dataFrom: [{ extract: { path: `${ns}/spaced` } }] });
    await create('key-slash', { backend: 'vault', dataFrom: [{ extract: { path: `${ns}/slashed` } }] });
    await create('too-large', { backend: 'vault', dataFrom: [{ extract: { path: `${ns}/large` } }] });
    await create('tls-missing', {
      backend: 'vault',
      dataFrom: [{ extract: { path: `${ns}/tls` } }],
      target: { type: 'kubernetes.io/tls' },
    });
    await patchVs('retyped', { spec: { target: { type: 'example.com/other' } } });

    for (const [name, reason, message] of cases) {
      const vs = await until(name, 'False', reason);
      assert.match(readyOf(vs)?.message ?? '', message, name);
    }
    // Settled: from here on neither reads nor events may grow.
    await delay(1_000);
    const reads = backendReads();
    // One read each: the status write of the failure wakes the resource, but the read is held.
    assert.equal(reads - readsBefore, cases.length, 'backend reads for the five failures');
    await delay(QUIET_MS);
    assert.equal(backendReads(), reads, 'the backend was read again while every failure waits for a fix');
    for (const [name, reason] of cases) {
      const events = await warnings(name);
      assert.deepEqual(
        events.map((e) => [e.reason, e.count ?? 1]),
        [[reason, 1]],
        `${name}: exactly one Warning event`,
      );
    }
    for (const name of ['key-space', 'key-slash', 'too-large', 'tls-missing'])
      assert.equal(await secret(name), undefined, `${name}: no Secret was written`);
    const after = await secret('retyped');
    assert.equal(after?.metadata?.resourceVersion, before?.metadata?.resourceVersion, 'retyped: Secret kept');
    assert.equal(after?.type, 'Opaque');
    console.log(`      failure cases settled; backend reads over ${QUIET_MS / 1000} s of quiet: 0`);
  });

  it('counts the size limit like the apiserver: exactly 1 MiB of values is written', async () => {
    const a = canary('mib-a');
    await plant('mib', { a: a.padEnd(512 * 1024, 'a'), bb: canary('mib-b').padEnd(512 * 1024, 'b') });
    await create('one-mib', { backend: 'vault', dataFrom: [{ extract: { path: `${ns}/mib` } }] });
    await until('one-mib', 'True');
    const s = await secret('one-mib');
    const size = Object.values(s?.data ?? {}).reduce((n, v) => n + Buffer.from(v, 'base64').length, 0);
    assert.equal(size, 1024 * 1024);
  });

  it('answers a sync-now token of 300 characters, storing its digest', async () => {
    await plant('token', { password: canary('token') });
    await create('long-token', { backend: 'vault', dataFrom: [{ extract: { path: `${ns}/token` } }] });
    await until('long-token', 'True');
    await patchVs('long-token', { metadata: { annotations: { 'vaultsync.io/sync-now': longToken } } });
    const vs = await eventually('token answered', async () => {
      const x = await vaultSecret('long-token');
      return x?.status?.syncNowHandled === tokenDigest(longToken) ? x : undefined;
    });
    assert.equal(readyOf(vs)?.status, 'True');
    assert.deepEqual(await warnings('long-token'), []);
  });

  it('keeps the Secret when the backend returns {} (UnsafeShrink), and lets it through with allowEmpty', async () => {
    await plant('wipe', { a: canary('wipe-a'), b: canary('wipe-b') });
    await create('wipe', { backend: 'vault', dataFrom: [{ extract: { path: `${ns}/wipe` } }] });
    await until('wipe', 'True');
    const kept = await secret('wipe');
    await kv('wipe', {});
    await patchVs('wipe', { metadata: { annotations: { 'vaultsync.io/sync-now': `${run}-1` } } });
    const refused = await until('wipe', 'False', 'UnsafeShrink');
    assert.match(readyOf(refused)?.message ?? '', /none of its 2 keys.*allowEmpty/);
    await delay(2_000);
    const now = await secret('wipe');
    assert.equal(
      now?.metadata?.resourceVersion,
      kept?.metadata?.resourceVersion,
      'the Secret was not written',
    );
    assert.deepEqual(Object.keys(now?.data ?? {}).sort(), ['a', 'b']);
    assert.deepEqual(
      (await warnings('wipe')).map((e) => [e.reason, e.count ?? 1]),
      [['UnsafeShrink', 1]],
    );

    await patchVs('wipe', { spec: { target: { allowEmpty: true } } });
    await until('wipe', 'True');
    assert.deepEqual(Object.keys((await secret('wipe'))?.data ?? {}), []);
  });

  it('refuses a spec stored past the CRD (refreshInterval 1ms) with InvalidSpec, without a hot loop', async () => {
    await plant('old-crd', { password: canary('old-crd') });
    // An old CRD: the refreshInterval rules are not there yet.
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: 'vaultsecrets.vaultsync.io',
    };
    const rules =
      '/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/refreshInterval/x-kubernetes-validations';
    await client.rest.request({
      method: 'PATCH',
      path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.name}`,
      body: [{ op: 'remove', path: rules }],
      contentType: 'application/json-patch+json',
    });
    await eventually('stored past CEL', () =>
      create('hot', {
        backend: 'vault',
        refreshInterval: '1ms',
        dataFrom: [{ extract: { path: `${ns}/old-crd` } }],
      }).then(
        () => true,
        () => undefined,
      ),
    );
    await installCrds(kc);
    const reads = backendReads();
    const vs = await until('hot', 'False', 'InvalidSpec');
    assert.match(readyOf(vs)?.message ?? '', /refreshInterval must be 0 \(sync once\) or at least 10s/);
    await delay(QUIET_MS / 2);
    assert.equal(backendReads(), reads, 'an invalid spec is never read for');
    assert.deepEqual(
      (await warnings('hot')).map((e) => [e.reason, e.count ?? 1]),
      [['InvalidSpec', 1]],
    );
  });

  it('never puts a planted value into a log line, an event or a status', async () => {
    const list = await client.rest.request<{ items: unknown[] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/events`,
    });
    const statuses = await client.rest.request<{ items: VaultSecret[] }>({
      method: 'GET',
      path: `/apis/${API}/namespaces/${ns}/vaultsecrets`,
    });
    const seen = JSON.stringify([operator.logs, list.items, statuses.items.map((v) => v.status)]);
    assert.ok(canaries.length > 5);
    for (const c of canaries) assert.ok(!seen.includes(c), `a planted value (${c.slice(0, 14)}…) leaked`);
    const statusText = JSON.stringify(statuses.items.map((v) => v.status));
    assert.ok(
      !statusText.includes(longToken.slice(0, 60)),
      'the raw sync-now token was copied into a status',
    );
  });
});
