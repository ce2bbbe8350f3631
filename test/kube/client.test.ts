// Writes against a real API server: server-side apply, status patches on a custom resource,
// events, finalizers, TokenRequest, and errors.ts on real 404 / 409 / 422 responses.
import assert from 'node:assert/strict';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import {
  EventRecorder,
  type KubeClient,
  KubeError,
  addFinalizer,
  applyStatus,
  createKubeClient,
  createObject,
  createTokenRequest,
  deleteObject,
  getObject,
  isAlreadyExists,
  isConflict,
  isInvalid,
  isNotFound,
  mergePatch,
  patchStatus,
  removeFinalizer,
  serverSideApply,
  setCondition,
} from '../../src/kube/index.ts';
import { testbed } from '../support/testbed.ts';
import { eventually, freshNamespace } from './helpers.ts';

// A small CRD of our own with a status subresource, so these tests do not depend on the
// operator's CRDs.
const GROUP = 'kuberuntime.test.vaultsync.io';
const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer' } } },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
};

type Widget = KubernetesObject & { spec?: { size?: number }; status?: Record<string, unknown> };

describe('kube runtime: client, events, finalizers, errors (real API server)', function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  let client: KubeClient;
  let ns: { name: string; cleanup: () => Promise<unknown> };

  before(async function () {
    this.timeout(300_000);
    kc = (await testbed()).kubeConfig();
    client = createKubeClient(kc);
    ns = await freshNamespace(client, 'client');
    await serverSideApply(client, widgetCrd, { fieldManager: 'kube-runtime-tests', force: true });
    await eventually(
      'Widget CRD established',
      async () => {
        const crd = await getObject<
          KubernetesObject & { status?: { conditions?: { type: string; status: string }[] } }
        >(client, {
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          name: widgetCrd.metadata.name,
        });
        return crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
          ? true
          : undefined;
      },
      30_000,
    );
  });
  after(() => ns?.cleanup());

  const widgetRef = (name: string) => ({
    apiVersion: `${GROUP}/v1`,
    kind: 'Widget',
    name,
    namespace: ns.name,
  });

  it('server-side applies a Secret: creates it, updates it, removes fields it no longer applies', async () => {
    type SecretObj = KubernetesObject & { type?: string; data?: Record<string, string> };
    const secret = (data: Record<string, string>): SecretObj => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'applied',
        namespace: ns.name,
        labels: { 'app.kubernetes.io/managed-by': 'vaultsync' },
      },
      type: 'Opaque',
      data,
    });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const created = await serverSideApply(client, secret({ a: b64('1'), b: b64('2') }), {
      fieldManager: 'vaultsync',
      force: true,
    });
    assert.ok(created.metadata?.uid);
    const updated = await serverSideApply(client, secret({ a: b64('3') }), {
      fieldManager: 'vaultsync',
      force: true,
    });
    assert.deepEqual(updated.data, { a: b64('3') });
    assert.equal(updated.metadata?.uid, created.metadata?.uid);
    assert.ok(updated.metadata?.managedFields?.some((m) => m.manager === 'vaultsync'));
  });

  it('patches and applies the status subresource of a custom resource, leaving spec alone', async () => {
    const w = await createObject<Widget>(client, {
      apiVersion: `${GROUP}/v1`,
      kind: 'Widget',
      metadata: { name: 'w1', namespace: ns.name },
      spec: { size: 3 },
    });
    const conditions = setCondition(
      [],
      { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok', observedGeneration: 1 },
      Date.now(),
    );
    const patched = await patchStatus<Widget>(
      client,
      widgetRef('w1'),
      { conditions },
      {
        resourceVersion: w.metadata?.resourceVersion,
      },
    );
    assert.deepEqual(patched.status?.conditions, conditions);
    assert.equal(patched.spec?.size, 3);
    assert.equal(patched.metadata?.generation, 1, 'a status write does not bump the generation');

    // The same patch with the now stale resourceVersion is refused: optimistic concurrency.
    await assert.rejects(
      patchStatus(client, widgetRef('w1'), { phase: 'x' }, { resourceVersion: w.metadata?.resourceVersion }),
      (err) => isConflict(err),
    );

    const applied = await applyStatus<Widget>(
      client,
      {
        apiVersion: `${GROUP}/v1`,
        kind: 'Widget',
        metadata: { name: 'w1', namespace: ns.name },
        status: { phase: 'Done' },
      },
      { fieldManager: 'vaultsync-status', force: true },
    );
    assert.equal(applied.status?.phase, 'Done');
  });

  it('records an Event that kubectl describe would show, and drops an identical one', async () => {
    const target = await createObject<KubernetesObject>(client, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'evented', namespace: ns.name },
    });
    const recorder = new EventRecorder({ client, instance: 'test-0' });
    await recorder.warning(target, 'BackendError', 'vault sealed');
    await recorder.warning(target, 'BackendError', 'vault sealed');
    const list = await client.rest.request<{ items: Record<string, unknown>[] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns.name}/events`,
      query: { fieldSelector: `involvedObject.name=evented` },
    });
    assert.equal(list.items.length, 1);
    const e = list.items[0]!;
    assert.equal(e.reason, 'BackendError');
    assert.equal(e.type, 'Warning');
    assert.equal(e.reportingComponent, 'vaultsync');
    assert.equal((e.involvedObject as { uid?: string }).uid, target.metadata?.uid);
  });

  it('adds and removes a finalizer, and refuses a stale write with Conflict', async () => {
    const obj = await createObject(client, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'finalized', namespace: ns.name, finalizers: ['other.io/keep'] },
    });
    const withOurs = await addFinalizer(client, obj, 'vaultsync.io/cleanup');
    assert.deepEqual(withOurs.metadata?.finalizers, ['other.io/keep', 'vaultsync.io/cleanup']);
    await assert.rejects(addFinalizer(client, obj, 'vaultsync.io/second'), (err) => isConflict(err));
    const without = await removeFinalizer(client, withOurs, 'vaultsync.io/cleanup');
    assert.deepEqual(without.metadata?.finalizers, ['other.io/keep']);
    await mergePatch(
      client,
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'finalized', namespace: ns.name },
      {
        metadata: { finalizers: null },
      },
    );
  });

  it('issues a TokenRequest token for a service account', async () => {
    await createObject(client, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'token-test', namespace: ns.name },
    });
    const t = await createTokenRequest(client, ns.name, 'token-test', ['vault'], 600);
    assert.equal(t.token.reveal().split('.').length, 3, 'a JWT');
    assert.ok(Date.parse(t.expirationTimestamp) > Date.now());
    assert.ok(!JSON.stringify(t).includes(t.token.reveal()));
  });

  describe('errors from real responses', () => {
    it('maps a 404 to NotFound', async () => {
      const err = await client.rest
        .request({ method: 'GET', path: `/api/v1/namespaces/${ns.name}/configmaps/missing` })
        .catch((e: unknown) => e);
      assert.ok(err instanceof KubeError);
      assert.equal(err.code, 'NotFound');
      assert.equal(err.status, 404);
      assert.equal(err.transient, false);
      assert.equal(err.details?.name, 'missing');
      assert.ok(isNotFound(err));
    });

    it('maps a duplicate create to AlreadyExists and a stale update to Conflict (both 409)', async () => {
      const body: KubernetesObject = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'dup', namespace: ns.name },
      };
      const first = await createObject(client, body);
      const dup = await createObject(client, body).catch((e: unknown) => e);
      assert.ok(isAlreadyExists(dup));
      assert.equal((dup as KubeError).status, 409);
      const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'dup', namespace: ns.name };
      await mergePatch(client, ref, { data: { x: '1' } });
      const stale = await mergePatch(
        client,
        ref,
        { data: { x: '2' } },
        { resourceVersion: first.metadata?.resourceVersion },
      ).catch((e: unknown) => e);
      assert.ok(isConflict(stale));
      assert.equal((stale as KubeError).transient, true);
    });

    it('maps a 422 to Invalid with field causes and no echoed value', async () => {
      const planted = 'Planted_Value_Q7';
      const err = await createObject(client, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'bad', namespace: ns.name, labels: { ok: `${planted}!!` } },
      }).catch((e: unknown) => e);
      assert.ok(isInvalid(err));
      const e = err as KubeError;
      assert.equal(e.status, 422);
      assert.ok(e.details?.causes?.some((c) => c.field === 'metadata.labels'));
      // The API server's own message may quote the rejected value (it is capped, not removed);
      // the structured causes never carry it.
      assert.ok(!JSON.stringify(e.details).includes(planted));
    });
  });

  after(async () => {
    await deleteObject(client, widgetRef('w1')).catch(() => false);
  });
});
