// The VaultSecret reconciler's failure paths, against fakes (a FakeRest apiserver, an in-memory
// backend counting reads): every failure shows as Ready=False with its reason and one Warning
// event, holds further backend reads, never throws into fast retries, never writes a value
// anywhere but the Secret. The real apiserver's answers are covered by
// test/vaultsecret-failures.test.ts.
import assert from 'node:assert/strict';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret, VaultSecretStatus } from '../../apis/v1alpha1/index.ts';
import { tokenDigest } from '../../apis/v1alpha1/trigger-token.ts';
import type { Backend, CallContext, FindRequest, ReadRequest } from '../../backends/types.ts';
import { FakeClock } from '../../kube/fake-clock.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import { KubeError } from '../../kube/errors.ts';
import type { RestRequest } from '../../kube/rest.ts';
import { FakeRest, RecordingLogger, apiError } from '../../kube/testing.ts';
import { MacKeyring } from '../../secrets/mac-keyring.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import type { SecretChange } from '../contracts.ts';
import { type LifecycleFact, eventTypeOf } from '../lifecycle.ts';
import { type VaultSecretReconcilerDeps, createVaultSecretReconciler } from './reconciler.ts';

const KEY = 'shop/db';
const CANARY = 'canary-7c1d-value';
const USER_RETRY_MS = 5 * 60_000;

function vaultSecret(
  over: { spec?: Partial<VaultSecret['spec']>; annotations?: Record<string, string> } = {},
) {
  return {
    apiVersion: 'vaultsync.io/v1alpha1',
    kind: 'VaultSecret',
    metadata: {
      name: 'db',
      namespace: 'shop',
      uid: 'vs-uid',
      generation: 1,
      annotations: over.annotations ?? {},
    },
    spec: { backend: 'memory', dataFrom: [{ extract: { path: 'shop/db' } }], ...over.spec },
  } satisfies VaultSecret as VaultSecret;
}

/** The reconciler with fakes; the apiserver applies status patches and Secret applies in memory. */
function setup(
  vs: VaultSecret,
  remote: Record<string, string>,
  extra: Partial<VaultSecretReconcilerDeps> = {},
) {
  const clock = new FakeClock(Date.parse('2030-01-01T00:00:00Z'));
  let current = vs;
  let secret: V1Secret | undefined;
  let version = 100;
  const backendData = { value: remote };
  const reads: string[] = [];
  /** What a dataFrom[].find finds, and the requests and sharing windows it was asked with. */
  const listing = { found: { paths: [] as string[], truncated: false, refused: 0 }, asked: [] as number[] };
  const backend = {
    name: 'memory',
    type: 'memory',
    async find(req: FindRequest, c: CallContext) {
      reads.push(`find ${req.prefix}`);
      listing.asked.push(c.maxAgeMs ?? -1);
      return listing.found;
    },
    async read(req: ReadRequest) {
      reads.push(req.path);
      const data = new Map(Object.entries(backendData.value).map(([k, v]) => [k, Buffer.from(v)]));
      return { data: new Sensitive(data), version: String(reads.length) };
    },
    write: () => Promise.reject(new Error('not used')),
    check: () => Promise.resolve(),
    close: () => Promise.resolve(),
  } as unknown as Backend;
  /** Set to make the apiserver refuse the next Secret applies or status patches. */
  const refuse: { apply?: KubeError; status?: KubeError } = {};
  /** Set to hide the Secret from the informer's cache (not labelled as ours, or not seen yet). */
  const cache = { hidden: false };
  const rest = new FakeRest((req: RestRequest) => {
    if (req.method === 'GET' && req.path === '/apis/vaultsync.io/v1alpha1')
      return { resources: [{ name: 'vaultsecrets', kind: 'VaultSecret', namespaced: true }] };
    if (req.path === '/api/v1/namespaces/shop/secrets/db') {
      if (req.method === 'GET') {
        if (!secret) throw apiError(404, 'NotFound');
        return secret;
      }
      if (refuse.apply) throw refuse.apply;
      // The apiserver's precondition: an apply with another resourceVersion than the stored one.
      const wanted = (req.body as V1Secret).metadata?.resourceVersion;
      if (secret && wanted !== undefined && wanted !== secret.metadata?.resourceVersion)
        throw apiError(409, 'Conflict', 'the object has been modified');
      secret = {
        ...(req.body as V1Secret),
        metadata: {
          ...(req.body as V1Secret).metadata,
          resourceVersion: String(++version),
          managedFields: [{ manager: 'vaultsync-vaultsecret', operation: 'Apply' }],
        },
      };
      return secret;
    }
    if (req.method === 'PATCH' && req.path.endsWith('/vaultsecrets/db/status')) {
      if (refuse.status) throw refuse.status;
      const patch = (req.body as { status: VaultSecretStatus }).status;
      current = { ...current, status: { ...current.status, ...patch } };
      return { ...current, metadata: { ...current.metadata, resourceVersion: String(++version) } };
    }
    throw new Error(`unexpected ${req.method} ${req.path}`);
  });
  const events: { type: string; reason: string; message: string }[] = [];
  const facts: LifecycleFact[] = [];
  const changes: SecretChange[] = [];
  const reconcile = createVaultSecretReconciler({
    client: rest.client(),
    vaultSecrets: { get: () => current },
    secrets: { get: () => (cache.hidden ? undefined : secret) },
    backends: { get: (name) => (name === 'memory' ? backend : undefined) },
    events: {
      normal: async (_o, reason, message) => void events.push({ type: 'Normal', reason, message }),
      warning: async (_o, reason, message) => void events.push({ type: 'Warning', reason, message }),
      fact: async (f) => {
        facts.push(f);
        events.push({ type: eventTypeOf(f), reason: f.reason, message: f.message });
      },
    },
    changes: { secretChanged: (_vs, change) => void changes.push(change) },
    macKeys: new MacKeyring(new Sensitive(Buffer.alloc(32, 7))),
    clock,
    defaultRefreshIntervalMs: 3_600_000,
    userErrorRetryMs: USER_RETRY_MS,
    ...extra,
  });
  const log = new RecordingLogger();
  const ctx: ReconcileContext = {
    key: KEY,
    namespace: 'shop',
    name: 'db',
    reconcileId: 'r1',
    retries: 0,
    signal: new AbortController().signal,
    log,
  };
  return {
    clock,
    rest,
    reads,
    events,
    facts,
    changes,
    log,
    refuse,
    cache,
    backendData,
    listing,
    run: (): Promise<ReconcileResult> => reconcile(KEY, ctx),
    get vs() {
      return current;
    },
    set vs(next: VaultSecret) {
      current = next;
    },
    get secret() {
      return secret;
    },
    set secret(next: V1Secret | undefined) {
      secret = next;
    },
    ready: () => current.status?.conditions?.find((c) => c.type === 'Ready'),
    applies: () => rest.requests.filter((r) => r.method === 'PATCH' && r.path.includes('/secrets/')).length,
    warnings: () => events.filter((e) => e.type === 'Warning'),
    /** Nothing the operator sent anywhere except the Secret's data holds a planted value. */
    leaked: () =>
      JSON.stringify([current.status, events, log.records]).includes(CANARY) ||
      JSON.stringify(current.status ?? {}).includes(Buffer.from(CANARY).toString('base64')),
  };
}

/** A user fix failure: Ready=False with the reason, one Warning, no fast retry, reads held. */
async function assertHeldFailure(t: ReturnType<typeof setup>, reason: string) {
  const result = await t.run();
  assert.equal(t.ready()?.status, 'False');
  assert.equal(t.ready()?.reason, reason, t.ready()?.message);
  assert.deepEqual(result, { requeueAfter: USER_RETRY_MS });
  assert.deepEqual(
    t.warnings().map((e) => e.reason),
    [reason],
  );
  const readsAfterFailure = t.reads.length;
  // The status write wakes the resource again (the informer's update event): no new read.
  assert.deepEqual(await t.run(), { requeueAfter: USER_RETRY_MS });
  t.clock.advance(60_000);
  assert.deepEqual(await t.run(), { requeueAfter: USER_RETRY_MS - 60_000 });
  assert.equal(t.reads.length, readsAfterFailure, 'no backend read while the failure holds');
  // The user-error interval later it reads once more, and says nothing new.
  t.clock.advance(USER_RETRY_MS);
  assert.deepEqual(await t.run(), { requeueAfter: USER_RETRY_MS });
  assert.equal(t.reads.length, readsAfterFailure + 1);
  assert.equal(t.warnings().length, 1, 'one Warning per change of reason');
  assert.equal(t.leaked(), false, 'a planted value reached status, events or logs');
}

describe('VaultSecret reconciler: failures that show', () => {
  it('refuses a dataFrom key that is not a valid Secret key (InvalidKey, naming the key), before any write', async () => {
    for (const bad of ['a b', 'a/b']) {
      const t = setup(vaultSecret(), { ok: CANARY, [bad]: CANARY });
      await assertHeldFailure(t, 'InvalidKey');
      assert.ok(t.ready()?.message?.includes(JSON.stringify(bad)), t.ready()?.message);
      assert.equal(t.applies(), 0);
    }
  });

  it('refuses data over 1 MiB (SecretTooLarge) before any write', async () => {
    const t = setup(vaultSecret(), { a: CANARY + 'x'.repeat(600_000), b: 'y'.repeat(600_000) });
    await assertHeldFailure(t, 'SecretTooLarge');
    assert.equal(t.applies(), 0);
  });

  it('reports a Secret write the apiserver refuses (SecretWriteFailed) with its message, values cut out', async () => {
    const t = setup(vaultSecret({ spec: { target: { type: 'kubernetes.io/tls' } } }), { 'tls.key': CANARY });
    t.refuse.apply = apiError(
      422,
      'Invalid',
      `Secret "db" is invalid: data[tls.crt]: Required value (a webhook quoted ${CANARY})`,
    );
    await assertHeldFailure(t, 'SecretWriteFailed');
    assert.match(t.ready()?.message ?? '', /data\[tls\.crt\]: Required value/);
    assert.match(t.ready()?.message ?? '', /\[redacted\]/);
    // Fixed (here: the apiserver accepts it now) and asked for with sync-now: it recovers.
    delete t.refuse.apply;
    t.vs = { ...t.vs, metadata: { ...t.vs.metadata, annotations: { 'vaultsync.io/sync-now': 'retry' } } };
    await t.run();
    assert.equal(t.ready()?.status, 'True');
    assert.equal(t.vs.status?.syncNowHandled, tokenDigest('retry'));
  });

  it('retries a transient write failure with backoff (rethrows), without a condition change', async () => {
    const t = setup(vaultSecret(), { password: CANARY });
    t.refuse.apply = apiError(503, 'ServiceUnavailable');
    await assert.rejects(t.run(), (e: unknown) => e instanceof KubeError && e.transient);
  });

  it('shows any other refusal as InternalError, and rethrows a lost leadership untouched', async () => {
    const t = setup(vaultSecret(), { password: CANARY });
    const handler = t.rest.handler;
    t.rest.handler = (req) => {
      // A Secret exists (the create-first apply conflicts), and reading it is refused.
      if (req.method === 'PATCH' && req.path.endsWith('/secrets/db'))
        throw apiError(409, 'Conflict', 'exists');
      if (req.method === 'GET' && req.path.includes('/secrets/')) throw apiError(403, 'Forbidden', 'no get');
      return handler(req);
    };
    assert.deepEqual(await t.run(), { requeueAfter: USER_RETRY_MS });
    assert.equal(t.ready()?.reason, 'InternalError');
    assert.match(t.ready()?.message ?? '', /Forbidden \(HTTP 403\)/);
    const notLeader = Object.assign(new Error('not the leader'), { name: 'NotLeader', terminal: true });
    t.rest.handler = () => {
      throw notLeader;
    };
    t.vs = { ...t.vs, metadata: { ...t.vs.metadata, generation: 2 } };
    await assert.rejects(t.run(), (e) => e === notLeader);
  });

  it('surfaces a refused status patch (event + log) without looping or repeating the event', async () => {
    const t = setup(vaultSecret(), { 'a b': CANARY });
    t.refuse.status = apiError(422, 'Invalid', 'VaultSecret "db" is invalid: status.conditions: Too long');
    assert.deepEqual(await t.run(), { requeueAfter: USER_RETRY_MS });
    assert.equal(t.warnings().length, 1);
    assert.equal(t.warnings()[0]?.reason, 'InvalidKey');
    assert.match(
      t.warnings()[0]?.message ?? '',
      /the status could not record it: .*status\.conditions: Too long/,
    );
    assert.ok(t.log.records.some((r) => r.level === 'error' && r.message === 'Status update refused'));
    const reads = t.reads.length;
    assert.deepEqual(await t.run(), { requeueAfter: USER_RETRY_MS });
    assert.equal(t.reads.length, reads);
    t.clock.advance(USER_RETRY_MS);
    await t.run();
    assert.equal(t.warnings().length, 1, 'the same unrecorded failure is not announced again');
    assert.equal(t.leaked(), false);
  });

  it('reports a status patch refused after a good read as SecretWriteFailed', async () => {
    const t = setup(vaultSecret(), { password: CANARY });
    let patches = 0;
    const handler = t.rest.handler;
    t.rest.handler = (req) => {
      // The success status is refused; the failure status (smaller) goes through.
      if (req.method === 'PATCH' && req.path.endsWith('/status') && patches++ === 0)
        throw apiError(422, 'Invalid', 'status.sourceVersions: Too many');
      return handler(req);
    };
    assert.deepEqual(await t.run(), { requeueAfter: USER_RETRY_MS });
    assert.equal(t.ready()?.reason, 'SecretWriteFailed');
    assert.match(t.ready()?.message ?? '', /the VaultSecret status: .*sourceVersions: Too many/);
    assert.equal(t.warnings().length, 1);
  });
});

describe('VaultSecret reconciler: re-validation', () => {
  for (const [what, spec] of [
    ['refreshInterval 1ms (a hot loop)', { refreshInterval: '1ms' }],
    ['a refreshInterval parseDuration throws on', { refreshInterval: 'soon' }],
    ['neither data nor dataFrom', { dataFrom: [] }],
    ['Orphan with Delete', { target: { creationPolicy: 'Orphan', deletionPolicy: 'Delete' } }],
  ] as const) {
    it(`refuses a stored spec with ${what}: Ready=False InvalidSpec, no read, no throw`, async () => {
      const t = setup(vaultSecret({ spec: spec as Partial<VaultSecret['spec']> }), { password: CANARY });
      assert.deepEqual(await t.run(), { requeueAfter: USER_RETRY_MS });
      assert.equal(t.ready()?.reason, 'InvalidSpec');
      assert.match(t.ready()?.message ?? '', /spec/);
      assert.equal(t.reads.length, 0);
      assert.equal(t.applies(), 0);
      await t.run();
      assert.equal(t.warnings().length, 1);
    });
  }
});

describe('VaultSecret reconciler: wipe guard', () => {
  async function synced(remote: Record<string, string>, spec: Partial<VaultSecret['spec']> = {}) {
    const t = setup(vaultSecret({ spec }), remote);
    await t.run();
    assert.equal(t.ready()?.status, 'True');
    return t;
  }
  /** The backend changes and a refresh is asked for (as a SecretRotation or sync-now would). */
  async function readAgain(t: ReturnType<typeof setup>, remote: Record<string, string>, token: string) {
    t.backendData.value = remote;
    const annotations = { ...t.vs.metadata.annotations, 'vaultsync.io/sync-now': token };
    t.vs = { ...t.vs, metadata: { ...t.vs.metadata, annotations } };
    return t.run();
  }

  it('keeps the Secret when a read comes back empty (UnsafeShrink), one event', async () => {
    const t = await synced({ user: 'app', password: CANARY });
    const before = t.secret;
    assert.deepEqual(await readAgain(t, {}, 't1'), { requeueAfter: USER_RETRY_MS });
    assert.equal(t.ready()?.reason, 'UnsafeShrink');
    assert.match(t.ready()?.message ?? '', /none of its 2 keys/);
    assert.equal(t.secret, before, 'the Secret was not written');
    assert.deepEqual(
      t.warnings().map((e) => e.reason),
      ['UnsafeShrink'],
    );
    assert.equal(t.leaked(), false);
  });

  it('syncs what a find found (one key per path), asks in the sharing window, lists each version', async () => {
    const t = setup(vaultSecret({ spec: { dataFrom: [{ find: { path: 'shop/' } }] } }), { password: CANARY });
    t.listing.found = { paths: ['shop/a', 'shop/b'], truncated: false, refused: 0 };
    await t.run();
    assert.equal(t.ready()?.status, 'True', t.ready()?.message);
    assert.deepEqual(Object.keys(t.secret?.data ?? {}).sort(), ['shop_a', 'shop_b']);
    assert.deepEqual(Object.keys(t.vs.status?.sourceVersions ?? {}).sort(), ['shop/a', 'shop/b']);
    assert.deepEqual(t.listing.asked, [300_000]); // the reads' sharing window: 1h gives at most 5 min
    // The backend now finds nothing: an empty find never blanks the Secret (the wipe guard).
    t.listing.found = { paths: [], truncated: false, refused: 0 };
    t.vs = { ...t.vs, metadata: { ...t.vs.metadata, annotations: { 'vaultsync.io/sync-now': '1' } } };
    await t.run();
    assert.equal(t.ready()?.reason, 'UnsafeShrink');
    assert.deepEqual(Object.keys(t.secret?.data ?? {}).sort(), ['shop_a', 'shop_b']);
    assert.equal(t.leaked(), false);
  });

  it('refuses a truncated find (TooManyMatches) and one reaching outside the tenancy rules, reads held', async () => {
    const t = setup(vaultSecret({ spec: { dataFrom: [{ find: { path: 'shop/' } }] } }), { password: CANARY });
    t.listing.found = { paths: ['shop/a'], truncated: true, refused: 0 };
    await assertHeldFailure(t, 'TooManyMatches');
    assert.equal(t.applies(), 0);
    const u = setup(vaultSecret({ spec: { dataFrom: [{ find: { path: 'shop/' } }] } }), { password: CANARY });
    u.listing.found = { paths: ['shop/a'], truncated: false, refused: 2 };
    await assertHeldFailure(u, 'TenancyDenied');
    assert.match(u.ready()?.message ?? '', /matched 2 secret\(s\) under "shop\/"/);
  });

  it('lets an empty read through with spec.target.allowEmpty', async () => {
    const t = await synced({ user: 'app', password: CANARY }, { target: { allowEmpty: true } });
    await readAgain(t, {}, 't1');
    assert.equal(t.ready()?.status, 'True');
    assert.deepEqual(t.secret?.data, {});
  });

  it('refuses removing more than half of the keys until allow-shrink has a new value, once', async () => {
    const t = await synced({ a: '1', b: '2', c: '3' });
    await readAgain(t, { a: '1' }, 't1');
    assert.equal(t.ready()?.reason, 'UnsafeShrink');
    assert.deepEqual(Object.keys(t.secret?.data ?? {}).sort(), ['a', 'b', 'c']);
    // The acknowledgement is itself a change the user made: the held read goes ahead at once.
    const annotations = { ...t.vs.metadata.annotations, 'vaultsync.io/allow-shrink': 'ticket-42' };
    t.vs = { ...t.vs, metadata: { ...t.vs.metadata, annotations } };
    await t.run();
    assert.equal(t.ready()?.status, 'True');
    assert.deepEqual(Object.keys(t.secret?.data ?? {}), ['a']);
    assert.equal(t.vs.status?.allowShrinkHandled, tokenDigest('ticket-42'));
    // Used up: the next large shrink is refused again.
    await readAgain(t, { a: '1', b: '2', c: '3', d: '4' }, 't2');
    assert.equal(t.ready()?.status, 'True');
    await readAgain(t, { a: '1' }, 't3');
    assert.equal(t.ready()?.reason, 'UnsafeShrink');
  });

  it('allows removing up to half of the keys', async () => {
    const t = await synced({ a: '1', b: '2', c: '3', d: '4' });
    await readAgain(t, { a: '1', b: '2' }, 't1');
    assert.equal(t.ready()?.status, 'True');
    assert.deepEqual(Object.keys(t.secret?.data ?? {}).sort(), ['a', 'b']);
  });
});

describe('VaultSecret reconciler: lifecycle facts and data changes', () => {
  it('reports a sync as SecretSynced and a failure as SecretSyncFailed, naming the Secret; a data change is told once', async () => {
    const t = setup(vaultSecret(), { user: 'app', password: CANARY });
    await t.run();
    assert.deepEqual(
      t.facts.map((f) => [f.type, f.reason, 'secretName' in f ? f.secretName : undefined]),
      [['SecretSynced', 'SecretCreated', 'db']],
    );
    assert.equal(t.changes.length, 0, 'the first sync is no change');
    t.backendData.value = { user: 'app', password: 'other' };
    const annotations = { ...t.vs.metadata.annotations, 'vaultsync.io/sync-now': 't1' };
    t.vs = { ...t.vs, metadata: { ...t.vs.metadata, annotations } };
    await t.run();
    assert.deepEqual(
      t.facts.map((f) => f.reason),
      ['SecretCreated', 'SecretUpdated'],
    );
    assert.equal(t.changes.length, 1);
    assert.equal(t.changes[0]!.secretName, 'db');
    assert.notEqual(t.changes[0]!.mac, t.changes[0]!.previousMac);
    t.backendData.value = {};
    t.vs = {
      ...t.vs,
      metadata: { ...t.vs.metadata, annotations: { ...annotations, 'vaultsync.io/sync-now': 't2' } },
    };
    await t.run();
    const failed = t.facts.at(-1)!;
    assert.equal(failed.type, 'SecretSyncFailed');
    assert.equal(failed.reason, 'UnsafeShrink');
    assert.equal(eventTypeOf(failed), 'Warning');
    assert.equal(JSON.stringify(t.facts).includes(CANARY), false, 'a fact holds no value');
  });
});

describe('VaultSecret reconciler: sync-now tokens', () => {
  it('answers a 300-character token with its digest in status', async () => {
    const token = 'x'.repeat(300);
    const t = setup(vaultSecret({ annotations: { 'vaultsync.io/sync-now': token } }), { password: CANARY });
    await t.run();
    assert.equal(t.ready()?.status, 'True');
    assert.equal(t.vs.status?.syncNowHandled, tokenDigest(token));
    const reads = t.reads.length;
    await t.run();
    assert.equal(t.reads.length, reads, 'an answered token asks for nothing more');
  });

  it('counts a raw token recorded before digests as answered: an upgrade writes nothing', async () => {
    const t = setup(vaultSecret({ annotations: { 'vaultsync.io/sync-now': 'old-token' } }), {
      password: CANARY,
    });
    await t.run();
    t.vs = { ...t.vs, status: { ...t.vs.status, syncNowHandled: 'old-token' } };
    const requests = t.rest.requests.length;
    const reads = t.reads.length;
    await t.run();
    assert.equal(t.reads.length, reads);
    assert.equal(t.rest.requests.length, requests, 'no write');
    assert.equal(t.vs.status?.syncNowHandled, 'old-token');
  });
});

describe('VaultSecret reconciler: create-first writes', () => {
  const secretRequests = (t: ReturnType<typeof setup>) =>
    t.rest.requests.filter((r) => r.path.includes('/secrets/')).map((r) => r.method);

  it('creates a Secret it has not seen with one create-only apply, without reading it first', async () => {
    const t = setup(vaultSecret(), { password: CANARY });
    await t.run();
    assert.deepEqual(secretRequests(t), ['PATCH']);
    const apply = t.rest.requests.find((r) => r.method === 'PATCH' && r.path.endsWith('/secrets/db'))!;
    assert.equal((apply.body as V1Secret).metadata?.resourceVersion, '1', 'the create-only precondition');
    assert.equal(t.ready()?.status, 'True');
    assert.deepEqual(
      t.events.map((e) => e.reason),
      ['SecretCreated'],
    );
  });

  it('tells which Secret and status versions it wrote (their echoes wake no reconcile), and nothing when idle', async () => {
    const log = (into: string[]) => ({
      record: (key: string, rv: string | undefined) => void into.push(`${key}@${rv}`),
    });
    const secrets: string[] = [];
    const statuses: string[] = [];
    const t = setup(
      vaultSecret(),
      { password: CANARY },
      { ownWrites: log(secrets), ownStatusWrites: log(statuses) },
    );
    await t.run();
    assert.deepEqual(secrets, [`shop/db@${t.secret?.metadata?.resourceVersion}`]);
    assert.equal(statuses.length, 1);
    assert.notEqual(statuses[0], secrets[0], 'the status write has its own version');
    await t.run();
    assert.equal(secrets.length + statuses.length, 2, 'a reconcile that writes nothing tells nothing');
    t.backendData.value = { password: 'changed' };
    t.vs = { ...t.vs, metadata: { ...t.vs.metadata, annotations: { 'vaultsync.io/sync-now': 'x' } } };
    await t.run();
    assert.equal(secrets.length, 2, 'an update is told too');
  });

  it("refuses someone else's Secret found by the create-only apply's conflict, untouched (SecretNotOwned)", async () => {
    const t = setup(vaultSecret(), { password: CANARY });
    // Not labelled as ours: the informer's cache never holds it.
    t.secret = {
      metadata: { name: 'db', namespace: 'shop', resourceVersion: '42' },
      data: { other: 'eA==' },
    };
    t.cache.hidden = true;
    const result = await t.run();
    assert.equal(t.ready()?.reason, 'SecretNotOwned');
    assert.deepEqual(result, { requeueAfter: USER_RETRY_MS });
    assert.deepEqual(
      secretRequests(t),
      ['PATCH', 'GET'],
      'the refused apply, then the read; no forced write',
    );
    assert.deepEqual(t.secret?.data, { other: 'eA==' });
    assert.equal(t.secret?.metadata?.resourceVersion, '42');
  });

  it('writes its own Secret that the cache has not delivered yet, after reading it', async () => {
    const t = setup(vaultSecret(), { password: CANARY });
    await t.run();
    t.cache.hidden = true;
    t.backendData.value = { password: `${CANARY}-2` };
    t.vs = { ...t.vs, metadata: { ...t.vs.metadata, annotations: { 'vaultsync.io/sync-now': 'now' } } };
    await t.run();
    assert.deepEqual(secretRequests(t), ['PATCH', 'PATCH', 'GET', 'PATCH']);
    assert.equal(Buffer.from(t.secret?.data?.password ?? '', 'base64').toString(), `${CANARY}-2`);
    assert.deepEqual(
      t.events.map((e) => e.reason),
      ['SecretCreated', 'SecretUpdated'],
    );
  });
});
