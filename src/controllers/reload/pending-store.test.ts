// The store's logic against a fake apiserver (FakeRest answering GET, PATCH and POST of one
// ConfigMap the way the real one does: merge patch of data keys, 404 until created, 409 on a
// second create). The real apiserver, RBAC and failover: test/reload-writes.test.ts.
import assert from 'node:assert/strict';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { FakeRest, RecordingLogger, apiError } from '../../kube/testing.ts';
import type { RestRequest } from '../../kube/rest.ts';
import { MacKeyring } from '../../secrets/mac-keyring.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import type { PendingRestart } from './annotations.ts';
import { PENDING_CONFIGMAP, encodeRecord, recordKey } from './pending-records.ts';
import { PendingRestartStore } from './pending-store.ts';
import type { WorkloadRef } from '../contracts.ts';

const keys = new MacKeyring(new Sensitive<Uint8Array>(Buffer.alloc(32, 1)));
const PATH = `/api/v1/namespaces/vaultsync/configmaps/${PENDING_CONFIGMAP}`;
const T0 = Date.parse('2030-01-02T14:00:00Z');
const api: WorkloadRef = { kind: 'Deployment', namespace: 'team-a', name: 'api' };
const web: WorkloadRef = { kind: 'StatefulSet', namespace: 'team-b', name: 'web' };
const pending = (over: Partial<PendingRestart> = {}): PendingRestart => ({
  secrets: { db: 'AAAAAAAAAAAAAAAA' },
  first: T0,
  last: T0,
  group: 'VaultSecret/db',
  reasons: ['Secret db changed'],
  ...over,
});

/** One ConfigMap, as the apiserver keeps it. */
function fakeApiserver() {
  const state: { cm: V1ConfigMap | undefined; failReads: number } = { cm: undefined, failReads: 0 };
  const rest = new FakeRest((req: RestRequest) => {
    if (req.method === 'GET' && req.path === PATH) {
      if (state.failReads > 0) {
        state.failReads--;
        throw apiError(503, 'ServiceUnavailable');
      }
      if (!state.cm) throw apiError(404, 'NotFound');
      return structuredClone(state.cm);
    }
    if (req.method === 'PATCH' && req.path === PATH) {
      if (!state.cm) throw apiError(404, 'NotFound');
      const data = { ...state.cm.data };
      for (const [k, v] of Object.entries((req.body as { data: Record<string, string | null> }).data)) {
        if (v === null) delete data[k];
        else data[k] = v;
      }
      state.cm = { ...state.cm, data };
      return structuredClone(state.cm);
    }
    if (req.method === 'POST' && req.path === '/api/v1/namespaces/vaultsync/configmaps') {
      if (state.cm) throw apiError(409, 'AlreadyExists');
      state.cm = structuredClone(req.body as V1ConfigMap);
      return structuredClone(state.cm);
    }
    throw new Error(`unexpected ${req.method} ${req.path}`);
  });
  const writes = () => rest.requests.filter((r) => r.method !== 'GET');
  return { state, rest, writes };
}

const storeOn = (rest: FakeRest, logger = new RecordingLogger()) =>
  new PendingRestartStore({
    client: rest.client(),
    namespace: 'vaultsync',
    macKeys: keys,
    logger,
    fieldManager: 'vaultsync-reload',
  });

describe('pending restart store', () => {
  it('creates the ConfigMap with the first record, then writes one key per change', async () => {
    const { state, rest, writes } = fakeApiserver();
    const store = storeOn(rest);
    assert.deepEqual(await store.load(), []);
    await store.save(api, pending());
    assert.deepEqual(
      writes().map((r) => r.method),
      ['PATCH', 'POST'],
      'a patch finds nothing, the create carries the record',
    );
    assert.deepEqual(Object.keys(state.cm?.data ?? {}), [recordKey(api)]);

    await store.save(web, pending({ group: 'VaultSecret/web' }));
    const last = writes().at(-1)!;
    assert.equal(last.method, 'PATCH');
    assert.deepEqual(Object.keys((last.body as { data: object }).data), [recordKey(web)], 'only its own key');
    assert.equal(last.query?.resourceVersion, undefined, 'keys of two workloads never conflict');
  });

  it('writes nothing when the record is already stored', async () => {
    const { rest, writes } = fakeApiserver();
    const store = storeOn(rest);
    await store.load();
    await store.save(api, pending());
    const n = writes().length;
    await store.save(api, pending());
    assert.equal(writes().length, n);
    await store.remove(web); // nothing stored for it
    assert.equal(writes().length, n);
  });

  it('reads the records back in a new process (an operator restart, a new leader)', async () => {
    const { rest } = fakeApiserver();
    const first = storeOn(rest);
    await first.load();
    await first.save(api, pending({ last: T0 + 5000 }));
    await first.save(web, pending());

    const second = storeOn(rest);
    assert.equal(second.get(api), undefined, 'nothing known before load');
    const owed = await second.load();
    assert.deepEqual(owed.map((r) => `${r.namespace}/${r.kind}/${r.name}`).sort(), [
      'team-a/Deployment/api',
      'team-b/StatefulSet/web',
    ]);
    assert.deepEqual(second.get(api), pending({ last: T0 + 5000 }));
    assert.equal(second.has('team-b/StatefulSet/web'), true);
  });

  it('removes a record after the restart, and the next process finds none', async () => {
    const { state, rest } = fakeApiserver();
    const store = storeOn(rest);
    await store.load();
    await store.save(api, pending());
    await store.remove(api);
    assert.equal(store.get(api), undefined);
    assert.deepEqual(state.cm?.data, {});
    assert.deepEqual(await storeOn(rest).load(), []);
  });

  it('ignores and removes records it did not make, and logs no record content', async () => {
    const { state, rest } = fakeApiserver();
    const forged = JSON.parse(encodeRecord(keys, api, pending())) as Record<string, string>;
    state.cm = {
      metadata: { name: PENDING_CONFIGMAP, namespace: 'vaultsync' },
      data: {
        [recordKey(api)]: JSON.stringify({ ...forged, pending: forged.pending!.replace('AAAA', 'ZZZZ') }),
        [recordKey(web)]: encodeRecord(keys, web, pending()),
        'junk.key': 'not a record',
      },
    };
    const logger = new RecordingLogger();
    const store = storeOn(rest, logger);
    assert.deepEqual(
      (await store.load()).map((r) => r.name),
      ['web'],
    );
    assert.equal(store.get(api), undefined);
    assert.deepEqual(Object.keys(state.cm.data ?? {}), [recordKey(web)], 'foreign records removed');
    assert.equal(logger.records.filter((r) => r.level === 'warn').length, 2);
    assert.doesNotMatch(logger.text(), /ZZZZ|AAAA|not a record/);
  });

  it('reads again after a failed read, and shares one read between callers', async () => {
    const { state, rest } = fakeApiserver();
    state.failReads = 1;
    const store = storeOn(rest);
    await assert.rejects(store.load(), /ServiceUnavailable/);
    assert.equal(store.loaded(), false);
    await Promise.all([store.load(), store.load(), store.load()]);
    assert.equal(store.loaded(), true);
    assert.equal(
      rest.requests.filter((r) => r.method === 'GET').length,
      2,
      'one failed read, one shared read',
    );
  });

  it('patches when another writer created the ConfigMap first', async () => {
    const { state, rest } = fakeApiserver();
    const store = storeOn(rest);
    await store.load();
    // Created between our patch's 404 and our create.
    const handler = rest.handler;
    let raced = false;
    rest.handler = (req) => {
      if (req.method === 'POST' && !raced) {
        raced = true;
        state.cm = { metadata: { name: PENDING_CONFIGMAP, namespace: 'vaultsync' }, data: { other: 'x' } };
      }
      return handler(req);
    };
    await store.save(api, pending());
    assert.deepEqual(Object.keys(state.cm?.data ?? {}).sort(), ['other', recordKey(api)]);
  });
});
