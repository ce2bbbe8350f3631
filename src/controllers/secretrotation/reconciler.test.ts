import assert from 'node:assert/strict';
import type { SecretRotation, SecretRotationStatus, VaultSecret } from '../../apis/v1alpha1/index.ts';
import { MemoryBackend } from '../../backends/memory.ts';
import type { Backend } from '../../backends/types.ts';
import { FakeClock } from '../../kube/fake-clock.ts';
import type { ReconcileContext } from '../../kube/controller.ts';
import type { KubeError } from '../../kube/errors.ts';
import { NotLeaderError } from '../../kube/fence.ts';
import { FakeRest, RecordingLogger, apiError } from '../../kube/testing.ts';
import { MacKeyring } from '../../secrets/mac-keyring.ts';
import { type LifecycleFact, eventTypeOf } from '../lifecycle.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import type { RestartRequest, RolloutState } from '../contracts.ts';
import { BackendError } from '../../resilience/errors.ts';
import { tokenDigest } from '../../apis/v1alpha1/index.ts';
import { RotationMemory } from './memory.ts';
import { createSecretRotationReconciler } from './reconciler.ts';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const KEY = 'shop/db';

function rotation(spec: Partial<SecretRotation['spec']>, status?: SecretRotationStatus): SecretRotation {
  return {
    apiVersion: 'vaultsync.io/v1alpha1',
    kind: 'SecretRotation',
    metadata: {
      name: 'db',
      namespace: 'shop',
      generation: 1,
      creationTimestamp: '2029-12-31T12:00:00Z' as unknown as Date,
      annotations: {},
    },
    spec: {
      backend: 'memory',
      path: 'shop/db',
      interval: '24h',
      generate: { password: { type: 'password' } },
      ...spec,
    },
    ...(status && { status }),
  };
}

function reader(version: string, mac = 'hmac-sha256:v1:reader-mac-aaaaaaaaaaaa'): VaultSecret {
  return {
    apiVersion: 'vaultsync.io/v1alpha1',
    kind: 'VaultSecret',
    metadata: { name: 'db', namespace: 'shop', generation: 1 },
    spec: { backend: 'memory', dataFrom: [{ extract: { path: 'shop/db' } }] },
    status: {
      observedGeneration: 1,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Synced',
          message: '',
          lastTransitionTime: '2030-01-01T00:00:00Z',
        },
      ],
      sourceVersions: { 'shop/db': version },
      secretMAC: mac,
    },
  };
}

/** The reconciler with fakes: the status patches are applied to the object the cache returns. */
function setup(
  sr: SecretRotation,
  data: Record<string, Record<string, string>> = { 'shop/db': { password: 'old', user: 'app' } },
) {
  const clock = new FakeClock(NOW);
  const backend = new MemoryBackend({ name: 'memory', data: new Sensitive(data) });
  const writes: string[] = [];
  const write = backend.write.bind(backend);
  backend.write = async (req, ctx) => {
    const r = await write(req, ctx);
    writes.push(r.version);
    return r;
  };
  let current = sr;
  // Returns true for a status patch that must fail as if the operator died before it landed.
  let crashOn: ((patch: Record<string, unknown>) => boolean) | undefined;
  // The apiserver's answer to a status patch (an admission rule), when it returns one.
  let refuse: ((patch: Record<string, unknown>) => KubeError | undefined) | undefined;
  const statusWrites: Record<string, unknown>[] = [];
  const rest = new FakeRest((req) => {
    if (req.method === 'PATCH' && req.path.endsWith('/status')) {
      const patch = (req.body as { status: Record<string, unknown> }).status;
      const refused = refuse?.(patch);
      if (refused) throw refused;
      statusWrites.push(patch);
      if (crashOn?.(patch)) {
        crashOn = undefined;
        // The connection drops (transient): the reconcile ends there, as a crash would end it.
        throw Object.assign(new Error('operator stopped before the status write'), { code: 'ECONNRESET' });
      }
      const status: Record<string, unknown> = { ...current.status };
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete status[k];
        else status[k] = v;
      }
      current = { ...current, status: status as SecretRotationStatus };
      return current;
    }
    if (req.method === 'GET' && req.path === '/apis/vaultsync.io/v1alpha1') {
      return { resources: [{ name: 'secretrotations', kind: 'SecretRotation', namespaced: true }] };
    }
    return {};
  });
  const readers: VaultSecret[] = [];
  const refreshes: string[] = [];
  const restarts: RestartRequest[] = [];
  const states = new Map<string, RolloutState>();
  const events: string[] = [];
  const retirements: { namespace: string; backend: string; path: string; until: number }[] = [];
  const facts: LifecycleFact[] = [];
  const caches = { synced: true };
  // A new reconciler (fresh in-process memory) is an operator restart.
  const make = () =>
    createSecretRotationReconciler({
      client: rest.client(),
      rotations: { get: () => current },
      vaultSecrets: { list: () => readers },
      backends: { get: (name) => (name === 'memory' ? backend : undefined) },
      reload: {
        requestRestart: (r) => void restarts.push(r),
        rolloutState: (ref) => states.get(ref.name) ?? { state: 'NotFound' },
        cachesSynced: () => caches.synced,
        expectRetirement: (path, until) => void retirements.push({ ...path, until }),
        workloads: () => [
          {
            ref: { kind: 'Deployment', namespace: 'shop', name: 'api' },
            obj: {
              metadata: { name: 'api', annotations: { 'vaultsync.io/reload': 'true' } },
              spec: {
                template: { spec: { containers: [{ name: 'a', envFrom: [{ secretRef: { name: 'db' } }] }] } },
              },
            },
          },
        ],
      },
      requestRefresh: (_ns, _b, path) => {
        refreshes.push(path);
        return [];
      },
      events: {
        normal: async (_o, reason) => void events.push(reason),
        fact: async (f) => {
          events.push(eventTypeOf(f) === 'Warning' ? `Warning ${f.reason}` : f.reason);
          facts.push(f);
        },
      },
      macKeys: new MacKeyring(new Sensitive(Buffer.alloc(32, 1))),
      clock,
      memory: new RotationMemory(),
    });
  let reconcile = make();
  const log = new RecordingLogger();
  const ctx: ReconcileContext = {
    key: KEY,
    namespace: 'shop',
    name: 'db',
    reconcileId: 'test',
    retries: 0,
    signal: new AbortController().signal,
    log,
  };
  return {
    clock,
    backend,
    writes,
    readers,
    refreshes,
    restarts,
    states,
    events,
    facts,
    retirements,
    log,
    caches,
    get current() {
      return current;
    },
    crashOn(fn: (patch: Record<string, unknown>) => boolean) {
      crashOn = fn;
    },
    refuse(fn: ((patch: Record<string, unknown>) => KubeError | undefined) | undefined) {
      refuse = fn;
    },
    statusWrites,
    restartOperator() {
      reconcile = make();
    },
    run: () => reconcile(KEY, ctx),
    latest: async () => {
      const r = await backend.read({ path: 'shop/db' }, { namespace: 'shop' });
      return {
        version: r.version,
        data: Object.fromEntries([...r.data.reveal()].map(([k, v]) => [k, v.toString()])),
      };
    },
  };
}

describe('SecretRotation reconciler', () => {
  it('schedules the first rotation one interval after creation when the values exist', async () => {
    const t = setup(rotation({}));
    const result = await t.run();
    assert.equal(t.current.status?.phase, 'Idle');
    assert.equal(t.current.status?.nextRotationTime, '2030-01-01T12:00:00Z');
    assert.equal(t.current.status?.conditions?.[0]?.reason, 'Scheduled');
    assert.equal(t.writes.length, 0);
    assert.deepEqual(result, { requeueAfter: 3_600_000 }, 'long waits are re-checked hourly');
  });

  it('rotates when due: one version with check-and-set, other keys kept, readers asked to refresh', async () => {
    const t = setup(rotation({}, { lastRotationTime: '2029-12-31T00:00:00Z', observedGeneration: 1 }));
    await t.run();
    assert.deepEqual(t.writes, ['2']);
    const latest = await t.latest();
    assert.equal(latest.data.user, 'app');
    assert.notEqual(latest.data.password, 'old');
    assert.equal(latest.data.password_previous, undefined, 'Replace keeps no previous value');
    const s = t.current.status!;
    assert.equal(s.phase, 'RollingOut');
    assert.equal(s.currentVersion, '2');
    assert.equal(s.previousVersion, undefined);
    assert.equal(s.lastRotationTime, '2030-01-01T00:00:00Z');
    assert.equal(s.nextRotationTime, '2030-01-02T00:00:00Z');
    assert.deepEqual(t.refreshes, ['shop/db']);
    assert.deepEqual(t.events, ['Rotated']);
    const fact = t.facts[0];
    assert.equal(fact?.type, 'RotationCompleted', 'the webhooks get the version typed, not parsed');
    assert.deepEqual(fact?.type === 'RotationCompleted' && [fact.backend, fact.path, fact.version], [
      'memory',
      'shop/db',
      '2',
    ]);
    assert.equal(t.log.text().includes(latest.data.password!), false, 'the value is not logged');
    assert.equal(JSON.stringify(t.current).includes(latest.data.password!), false, 'nor in status');
  });

  it('after a crash between write and status, adopts the written version instead of writing again', async () => {
    const t = setup(rotation({}, { phase: 'Rotating', previousVersion: '1', observedGeneration: 1 }));
    await t.backend.write(
      { path: 'shop/db', data: new Sensitive(new Map([['password', Buffer.from('written-before-crash')]])) },
      { namespace: 'shop' },
    );
    t.writes.length = 0;
    await t.run();
    assert.deepEqual(t.writes, [], 'nothing written again');
    assert.equal(t.current.status?.phase, 'RollingOut');
    assert.equal(t.current.status?.currentVersion, '2');
  });

  it('TwoPhase: waits for readers, restarts consumers once, keeps the previous value until they are ready, then retires it', async () => {
    const t = setup(
      rotation(
        {
          strategy: 'TwoPhase',
          previousValueRetention: '1m',
          restart: { debounce: '1s', readyTimeout: '5m' },
        },
        { lastRotationTime: '2029-12-31T00:00:00Z', observedGeneration: 1 },
      ),
    );
    await t.run();
    assert.equal(t.current.status?.phase, 'RollingOut');
    assert.equal(t.current.status?.previousVersion, '1');
    assert.equal((await t.latest()).data.password_previous, 'old');

    // The reader has not synced version 2 yet: nothing restarted.
    t.readers.push(reader('1'));
    await t.run();
    assert.equal(t.restarts.length, 0);
    assert.match(
      t.current.status?.conditions?.[0]?.message ?? '',
      /Waiting for VaultSecret db to sync version 2/,
    );

    t.readers[0] = reader('2');
    t.states.set('api', { state: 'NotRestarted' });
    await t.run();
    await t.run();
    assert.equal(t.restarts.length, 1, 'asked once');
    assert.deepEqual(t.restarts[0]?.secrets, { db: 'reader-mac-aaaaa' });
    assert.equal(t.restarts[0]?.group, 'SecretRotation/db');

    t.states.set('api', { state: 'RollingOut', since: NOW });
    t.clock.advance(30_000);
    await t.run();
    assert.equal(t.current.status?.phase, 'RollingOut');

    t.states.set('api', { state: 'Ready' });
    await t.run();
    assert.equal(t.current.status?.phase, 'Retiring');
    assert.equal(t.current.status?.history?.[0]?.outcome, 'Succeeded');
    t.clock.advance(30_000);
    await t.run();
    assert.equal((await t.latest()).data.password_previous, 'old', 'kept during the retention');

    t.clock.advance(31_000);
    await t.run();
    const latest = await t.latest();
    assert.equal(latest.data.password_previous, undefined, 'retired');
    assert.equal(latest.version, '3');
    assert.equal(t.current.status?.phase, 'Idle');
    assert.equal(t.current.status?.previousVersion, undefined);
    assert.equal(t.current.status?.currentVersion, '3');
    assert.deepEqual(t.events, ['Rotated', 'RolledOut', 'PreviousValueRetired']);
    assert.deepEqual(
      t.retirements,
      [{ namespace: 'shop', backend: 'memory', path: 'shop/db', until: t.clock.now() + 300_000 }],
      'reload is told before the write that its Secret changes restart nobody',
    );
  });

  it('TwoPhase: a consumer not ready in time fails the rotation and keeps the previous value', async () => {
    const t = setup(
      rotation(
        { strategy: 'TwoPhase', restart: { readyTimeout: '1m' } },
        { lastRotationTime: '2029-12-31T00:00:00Z', observedGeneration: 1 },
      ),
    );
    t.readers.push(reader('2'));
    t.states.set('api', { state: 'Pending' });
    await t.run();
    t.states.set('api', { state: 'TimedOut', since: NOW });
    t.clock.advance(70_000);
    await t.run();
    const ready = t.current.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(t.current.status?.phase, 'Failed');
    assert.equal(ready?.reason, 'RolloutNotReady');
    assert.match(
      ready?.message ?? '',
      /Deployment api did not become ready with version 2 within 1m; the previous value is kept/,
    );
    assert.equal(t.current.status?.history?.[0]?.outcome, 'Failed');
    t.clock.advance(3_600_000);
    await t.run();
    assert.equal((await t.latest()).data.password_previous, 'old', 'still kept an hour later');

    // It becomes ready after all: the rotation completes.
    t.states.set('api', { state: 'Ready' });
    await t.run();
    assert.equal(t.current.status?.phase, 'Retiring');
    assert.equal(t.current.status?.history?.[0]?.outcome, 'Succeeded');
  });

  it('TwoPhase with rollbackOnFailure: a consumer not ready in time gets the previous value back', async () => {
    const t = setup(
      rotation(
        { strategy: 'TwoPhase', rollbackOnFailure: true, restart: { readyTimeout: '1m' } },
        { lastRotationTime: '2029-12-31T00:00:00Z', observedGeneration: 1 },
      ),
    );
    t.readers.push(reader('2'));
    t.states.set('api', { state: 'Pending' });
    await t.run();
    const failedValue = (await t.latest()).data.password;
    t.states.set('api', { state: 'TimedOut', since: NOW });
    t.clock.advance(70_000);
    await t.run();
    assert.deepEqual(t.writes, ['2', '3'], 'one rollback write');
    const latest = await t.latest();
    assert.deepEqual(
      latest.data,
      { password: 'old', user: 'app' },
      'previous value current, failed one gone',
    );
    const status = t.current.status;
    const ready = status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(status?.phase, 'RolledBack');
    assert.equal(status?.currentVersion, '3');
    assert.equal(status?.previousVersion, undefined);
    assert.equal(ready?.reason, 'RolledBack');
    assert.match(
      ready?.message ?? '',
      /did not become ready with version 2 within 1m; rolled back: .* as version 3/,
    );
    assert.deepEqual(
      status?.history?.map((h) => [h.version, h.outcome]),
      [['2', 'RolledBack']],
    );
    assert.deepEqual(t.events, ['Rotated', 'Warning RolledBack']);
    assert.ok(!JSON.stringify(status).includes(failedValue ?? '-'), 'no value in the status');

    // Once the reader has the rolled-back version, the consumer is asked (once) to restart onto it.
    const before = t.restarts.length;
    t.readers[0] = reader('3', 'hmac-sha256:v1:rolled-back-mac-bbbb');
    t.states.set('api', { state: 'NotRestarted' });
    await t.run();
    await t.run();
    assert.equal(t.restarts.length, before + 1);
    assert.deepEqual(t.restarts.at(-1)?.secrets, { db: 'rolled-back-mac-' });
    assert.equal(t.current.status?.phase, 'RolledBack', 'stays RolledBack until the next rotation');
    assert.deepEqual(t.writes, ['2', '3']);
  });

  it('rollbackOnFailure never overwrites a path written since the rotation', async () => {
    const t = setup(
      rotation(
        { strategy: 'TwoPhase', rollbackOnFailure: true, restart: { readyTimeout: '1m' } },
        { lastRotationTime: '2029-12-31T00:00:00Z', observedGeneration: 1 },
      ),
    );
    t.readers.push(reader('2'));
    t.states.set('api', { state: 'Pending' });
    await t.run();
    await t.backend.write(
      {
        path: 'shop/db',
        data: new Sensitive(new Map([['password', Buffer.from('someone-else')]])),
        cas: '2',
      },
      { namespace: 'shop' },
    );
    t.states.set('api', { state: 'TimedOut', since: NOW });
    t.clock.advance(70_000);
    await t.run();
    assert.deepEqual(t.writes, ['2', '3'], 'only the other writer');
    assert.equal(t.current.status?.phase, 'Failed');
    const ready = t.current.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.reason, 'RollbackFailed');
    assert.match(ready?.message ?? '', /not rolled back: shop\/db changed since \(version 3\)/);
  });

  /** TwoPhase + rollbackOnFailure, rotated to version 2, the consumer timed out: the next run rolls back. */
  async function rollbackDue() {
    const t = setup(
      rotation(
        { strategy: 'TwoPhase', rollbackOnFailure: true, restart: { readyTimeout: '1m' } },
        { lastRotationTime: '2029-12-31T00:00:00Z', observedGeneration: 1 },
      ),
    );
    t.readers.push(reader('2'));
    t.states.set('api', { state: 'Pending' });
    await t.run();
    const failedValue = (await t.latest()).data.password!;
    t.states.set('api', { state: 'TimedOut', since: NOW });
    t.clock.advance(70_000);
    // The operator dies after the rollback write, before its status write.
    t.crashOn((patch) => patch.phase === 'RolledBack');
    await assert.rejects(t.run(), /operator stopped before the status write/);
    assert.deepEqual(t.writes, ['2', '3'], 'the rollback was written');
    assert.equal(t.current.status?.phase, 'RollingOut', 'its status was not');
    assert.equal(t.current.status?.currentVersion, '2');
    t.restartOperator();
    return { t, failedValue };
  }

  function assertRolledBack(t: ReturnType<typeof setup>, failedValue: string) {
    const status = t.current.status;
    const ready = status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(status?.phase, 'RolledBack');
    assert.equal(status?.currentVersion, '3');
    assert.equal(status?.previousVersion, undefined);
    assert.equal(ready?.reason, 'RolledBack');
    assert.match(ready?.message ?? '', /rolled back: the previous value is current again as version 3/);
    assert.deepEqual(
      status?.history?.map((h) => [h.version, h.outcome]),
      [['2', 'RolledBack']],
    );
    assert.deepEqual(t.writes, ['2', '3'], 'nothing written again');
    assert.ok(!t.events.includes('Warning RollbackFailed'), `events: ${t.events.join(', ')}`);
    assert.ok(t.events.includes('Warning RolledBack'), `events: ${t.events.join(', ')}`);
    for (const text of [t.log.text(), JSON.stringify(status)]) {
      assert.ok(!text.includes(failedValue), 'the failed value is neither logged nor in status');
    }
    assert.match(t.log.text(), /Found the rollback already written before a restart/);
  }

  it('rollbackOnFailure: a crash between the rollback write and its status write finishes as RolledBack after a restart', async () => {
    const { t, failedValue } = await rollbackDue();
    // The readers have not synced the rollback (it asked for that after the status write): the
    // consumer is still timed out, the rollback is due again and finds it already written.
    await t.run();
    assertRolledBack(t, failedValue);
    assert.deepEqual((await t.latest()).data, { password: 'old', user: 'app' });
    // And goes on as any rollback: the consumer is restarted onto the rolled-back value.
    t.readers[0] = reader('3', 'hmac-sha256:v1:rolled-back-mac-bbbb');
    t.states.set('api', { state: 'NotRestarted' });
    await t.run();
    assert.deepEqual(t.restarts.at(-1)?.secrets, { db: 'rolled-back-mac-' });
    assert.equal(t.current.status?.phase, 'RolledBack');
  });

  it('rollbackOnFailure: after such a crash, readers that synced the rolled-back version do not turn it into a success', async () => {
    const { t, failedValue } = await rollbackDue();
    // Meanwhile the reader synced version 3 and the consumer became ready with it.
    t.readers[0] = reader('3', 'hmac-sha256:v1:rolled-back-mac-bbbb');
    t.states.set('api', { state: 'Ready' });
    await t.run();
    assertRolledBack(t, failedValue);
    await t.run();
    assert.equal(t.current.status?.phase, 'RolledBack', 'not Retiring: the rotation did not succeed');
  });

  it('accepts an Argo Rollout consumer: restarts it and waits until it is ready', async () => {
    const t = setup(
      rotation(
        {
          consumers: { targets: [{ kind: 'Rollout', name: 'web' }] },
          restart: { debounce: '1s', readyTimeout: '5m' },
        },
        { lastRotationTime: '2029-12-31T00:00:00Z', observedGeneration: 1 },
      ),
    );
    t.readers.push(reader('2'));
    t.states.set('web', { state: 'NotRestarted' });
    await t.run();
    await t.run();
    assert.equal(t.restarts.length, 1);
    assert.deepEqual(t.restarts[0]?.workloads, [{ kind: 'Rollout', name: 'web' }]);
    assert.equal(t.restarts[0]?.group, 'SecretRotation/db');
    t.states.set('web', { state: 'RollingOut', since: NOW });
    await t.run();
    assert.equal(t.current.status?.phase, 'RollingOut');
    assert.match(t.current.status?.conditions?.[0]?.message ?? '', /waiting for Rollout web/);
    t.states.set('web', { state: 'Ready' });
    await t.run();
    const rolled = t.current.status?.conditions?.find((c) => c.type === 'RolledOut');
    assert.equal(t.current.status?.phase, 'Idle');
    assert.equal(rolled?.status, 'True');
    assert.equal(rolled?.message, '1 consumer(s) ready with version 2');
  });

  it('says which consumers it did not find (a Rollout while its CRD is not installed)', async () => {
    const t = setup(
      rotation(
        { consumers: { targets: [{ kind: 'Rollout', name: 'web' }] } },
        { lastRotationTime: '2029-12-31T00:00:00Z', observedGeneration: 1 },
      ),
    );
    t.readers.push(reader('2'));
    await t.run();
    await t.run();
    const rolled = t.current.status?.conditions?.find((c) => c.type === 'RolledOut');
    assert.equal(t.current.status?.phase, 'Idle');
    assert.equal(
      rolled?.message,
      '0 consumer(s) ready with version 2 (not found, not restarted: Rollout web)',
    );
    assert.equal(t.restarts.length, 0);
  });

  it('waits while the workload caches fill; a consumer still unknown when the time is up is not ready', async () => {
    const t = setup(
      rotation(
        { consumers: { targets: [{ kind: 'Rollout', name: 'web' }] }, restart: { readyTimeout: '1m' } },
        { lastRotationTime: '2029-12-31T00:00:00Z', observedGeneration: 1 },
      ),
    );
    t.readers.push(reader('2'));
    t.caches.synced = false;
    t.states.set('web', { state: 'Unknown' });
    await t.run();
    await t.run();
    assert.equal(t.current.status?.phase, 'RollingOut', 'not rolled out while the caches fill');
    t.caches.synced = true;
    await t.run();
    assert.equal(t.current.status?.phase, 'RollingOut', 'an unknown consumer is waited for');
    assert.match(t.current.status?.conditions?.[0]?.message ?? '', /waiting for Rollout web/);
    t.clock.advance(80_000);
    await t.run();
    const ready = t.current.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(t.current.status?.phase, 'Failed');
    assert.equal(ready?.reason, 'RolloutNotReady');
    assert.match(ready?.message ?? '', /Rollout web did not become ready with version 2 within 1m/);
  });

  it('reports an unknown backend without retrying hot', async () => {
    const t = setup(rotation({ backend: 'nope' }));
    const result = await t.run();
    assert.equal(t.current.status?.conditions?.[0]?.reason, 'BackendNotFound');
    assert.deepEqual(result, { requeueAfter: 300_000 });
    assert.deepEqual(
      t.facts.map((f) => [f.type, f.reason]),
      [['RotationFailed', 'BackendNotFound']],
    );
  });

  describe('failures that show', () => {
    const ready = (t: ReturnType<typeof setup>) =>
      t.current.status?.conditions?.find((c) => c.type === 'Ready');
    const warnings = (t: ReturnType<typeof setup>) => t.events.filter((e) => e.startsWith('Warning'));
    const due = () => rotation({}, { lastRotationTime: '2029-12-31T00:00:00Z', observedGeneration: 1 });

    it('a refused status write after the backend write: SecretWriteFailed, one event, the version adopted on retry (written once)', async () => {
      const t = setup(due());
      // An admission rule refusing the status that records the rollout.
      t.refuse((patch) =>
        patch.phase === 'RollingOut'
          ? apiError(403, 'Forbidden', "ValidatingAdmissionPolicy 'freeze' denied request: not now")
          : undefined,
      );
      const r = await t.run();
      assert.deepEqual(t.writes, ['2']);
      assert.equal(ready(t)?.status, 'False');
      assert.equal(ready(t)?.reason, 'SecretWriteFailed');
      assert.match(
        ready(t)?.message ?? '',
        /refused the write of the status of SecretRotation db: Forbidden \(HTTP 403\): .*denied request/,
      );
      assert.equal(t.current.status?.phase, 'Rotating', 'the in-flight rotation is kept');
      assert.ok(r && r.requeueAfter! >= 5 * 60_000);
      // Woken by its own status write, and after the delay: the version is adopted, not written again.
      await t.run();
      for (let i = 0; i < 3; i++) {
        t.clock.advance(5 * 60_000 + 1);
        await t.run();
      }
      assert.deepEqual(t.writes, ['2']);
      assert.deepEqual(warnings(t), ['Warning SecretWriteFailed']);
      t.refuse(undefined);
      t.clock.advance(5 * 60_000 + 1);
      await t.run();
      assert.deepEqual(t.writes, ['2']);
      assert.equal(t.current.status?.phase, 'RollingOut');
      assert.equal(t.current.status?.currentVersion, '2');
    });

    it('lost leadership (a fenced write) ends the reconcile: no condition, no event, not InternalError', async () => {
      const t = setup(due());
      t.refuse(() => new NotLeaderError('not the leader') as unknown as KubeError);
      await assert.rejects(t.run(), /not the leader/);
      assert.deepEqual(t.writes, []);
      assert.deepEqual(warnings(t), []);
    });

    it('a status refused outright (even the conditions): one event, no backend write at all', async () => {
      const t = setup(due());
      t.refuse(() => apiError(422, 'Invalid', 'status: Invalid value'));
      for (let i = 0; i < 3; i++) {
        await t.run();
        t.clock.advance(5 * 60_000 + 1);
      }
      assert.deepEqual(t.writes, [], 'the Rotating status comes first: nothing written without it');
      assert.deepEqual(warnings(t), ['Warning SecretWriteFailed']);
    });

    for (const [what, spec, reason, text] of [
      [
        'an interval of 1ms (stored past CEL)',
        { interval: '1ms' },
        'InvalidSpec',
        /spec\.interval: .*at least 1m/,
      ],
      ['a duration parseDuration throws on', { interval: 'soon' }, 'InvalidSpec', /spec\.interval/],
      [
        'a schedule the pattern allows and croner refuses',
        { interval: undefined, schedule: '5-1 * * * *' },
        'InvalidSchedule',
        /From value is larger than to value/,
      ],
    ] as const) {
      it(`${what}: Ready=False ${reason}, no throw, no backend call, one event, no hot loop`, async () => {
        const t = setup(rotation(spec as Partial<SecretRotation['spec']>));
        const reads: string[] = [];
        const read = t.backend.read.bind(t.backend);
        t.backend.read = async (req, c) => {
          reads.push(req.path);
          return read(req, c);
        };
        const r = await t.run();
        assert.equal(ready(t)?.reason, reason);
        assert.match(ready(t)?.message ?? '', text);
        assert.ok(r && r.requeueAfter! >= 5 * 60_000);
        const writes = t.statusWrites.length;
        for (let i = 0; i < 5; i++) await t.run();
        assert.equal(t.statusWrites.length, writes);
        assert.deepEqual(reads, []);
        assert.deepEqual(t.writes, []);
        assert.equal(warnings(t).length, 1);
      });
    }

    it('a reader that cannot write its Secret shows on the rotation at once', async () => {
      const t = setup(due());
      await t.run();
      const stuck = reader('1');
      stuck.status!.conditions = [
        {
          type: 'Ready',
          status: 'False',
          reason: 'SecretWriteFailed',
          message: 'the apiserver refused the write of Secret db: Invalid (HTTP 422)',
          lastTransitionTime: '2030-01-01T00:00:00Z',
        },
      ];
      t.readers.push(stuck);
      await t.run();
      await t.run();
      assert.equal(ready(t)?.reason, 'VaultSecretNotSynced');
      assert.match(
        ready(t)?.message ?? '',
        /Cannot roll out version 2: VaultSecret db \(SecretWriteFailed: /,
      );
      assert.equal(t.current.status?.phase, 'RollingOut');
      assert.deepEqual(warnings(t), ['Warning VaultSecretNotSynced']);
      assert.deepEqual(t.writes, ['2']);
    });
  });

  describe('rollback asked for by hand (vaultsync.io/rollback-to)', () => {
    const ROLLBACK_TO = 'vaultsync.io/rollback-to';
    const ready = (t: ReturnType<typeof setup>) =>
      t.current.status?.conditions?.find((c) => c.type === 'Ready');
    /** The memory adapter restores nothing itself (the guard does): the tests give it a restore. */
    const restorable = (t: ReturnType<typeof setup>) => t.backend as { restore?: Backend['restore'] };
    const put = (t: ReturnType<typeof setup>, password: string) =>
      t.backend.write(
        { path: 'shop/db', data: new Sensitive(new Map([['password', Buffer.from(password)]])) },
        { namespace: 'shop' },
      );
    /** Versions 1 (old), 2, 3 written by rotations; the rotation Idle at 3; a restore as the guard does it. */
    async function rotatedTwice(annotation?: string) {
      const sr = rotation(
        {},
        {
          phase: 'Idle',
          currentVersion: '3',
          lastRotationTime: '2029-12-31T20:00:00Z',
          nextRotationTime: '2030-01-01T20:00:00Z',
          observedGeneration: 1,
          history: [
            { version: '3', time: '2029-12-31T20:00:00Z', outcome: 'Succeeded' },
            { version: '2', time: '2029-12-31T10:00:00Z', outcome: 'Succeeded' },
          ],
        },
      );
      if (annotation !== undefined) sr.metadata.annotations![ROLLBACK_TO] = annotation;
      const t = setup(sr);
      await put(t, 'canary-second-value');
      await put(t, 'canary-third-value');
      t.writes.length = 0;
      restorable(t).restore = async (req, ctx) => {
        const earlier = await t.backend.read({ path: req.path, version: req.version }, ctx);
        return t.backend.write({ path: req.path, data: earlier.data, ...(req.cas && { cas: req.cas }) }, ctx);
      };
      return t;
    }

    it('writes the earlier value back as the newest version, answers once, and follows it as a rollout', async () => {
      const t = await rotatedTwice('1');
      await t.run();
      assert.deepEqual(t.writes, ['4'], 'one restore, on top of version 3');
      assert.deepEqual((await t.latest()).data, { password: 'old', user: 'app' });
      const s = t.current.status!;
      assert.equal(s.phase, 'RollingOut');
      assert.equal(s.currentVersion, '4');
      assert.equal(s.rollbackToHandled, tokenDigest('1'), 'the digest, not the value');
      assert.equal(s.lastRotationTime, '2030-01-01T00:00:00Z');
      assert.equal(s.nextRotationTime, '2030-01-02T00:00:00Z', 'the interval counts from the rollback');
      assert.deepEqual(s.history?.[0], {
        version: '4',
        time: '2030-01-01T00:00:00Z',
        outcome: 'RolledBack',
        message: 'Rolled back to version 1',
        restoredFrom: '1',
      });
      assert.equal(ready(t)?.reason, 'RollingOut');
      assert.deepEqual(t.refreshes, ['shop/db'], 'its readers read it at once');
      assert.deepEqual(t.events, ['RolledBackTo']);

      // Answered: nothing written again; the consumer restarted once, onto the restored value.
      t.readers.push(reader('4', 'hmac-sha256:v1:restored-mac-cccccc'));
      t.states.set('api', { state: 'NotRestarted' });
      await t.run();
      await t.run();
      assert.equal(t.restarts.length, 1);
      assert.deepEqual(t.restarts[0]?.secrets, { db: 'restored-mac-ccc' });
      t.states.set('api', { state: 'Ready' });
      await t.run();
      assert.equal(t.current.status?.phase, 'Idle');
      assert.equal(ready(t)?.status, 'True');
      assert.deepEqual(
        t.current.status?.history?.map((h) => [h.version, h.outcome, h.restoredFrom]),
        [
          ['4', 'RolledBack', '1'],
          ['3', 'Succeeded', undefined],
          ['2', 'Succeeded', undefined],
        ],
        'the rollback stays marked once rolled out',
      );
      assert.deepEqual(t.writes, ['4']);
      const shown = JSON.stringify(t.current) + t.log.text();
      assert.ok(!/canary|"old"/.test(shown), 'no value in status or logs');
    });

    it('a new value asks again (the API adds a token after #); the same value is not answered twice', async () => {
      const t = await rotatedTwice('2');
      await t.run();
      t.current.metadata.annotations![ROLLBACK_TO] = '2';
      t.restartOperator();
      await t.run();
      assert.deepEqual(t.writes, ['4'], 'the same value after a restart: not again');
      await put(t, 'canary-fifth-value');
      t.writes.length = 0;
      t.current.metadata.annotations![ROLLBACK_TO] = '2#2030-01-01T00:01:00Z-1a2b3c4d';
      await t.run();
      assert.deepEqual(t.writes, ['6']);
      assert.equal((await t.latest()).data.password, 'canary-second-value');
      assert.equal(t.current.status?.rollbackToHandled, tokenDigest('2#2030-01-01T00:01:00Z-1a2b3c4d'));
    });

    it('a restore written just before the operator stopped is adopted after the restart, not written twice', async () => {
      const t = await rotatedTwice('1');
      t.crashOn((patch) => patch.rollbackToHandled !== undefined);
      await assert.rejects(t.run());
      assert.deepEqual(t.writes, ['4']);
      t.restartOperator();
      await t.run();
      assert.deepEqual(t.writes, ['4'], 'found by its keyed MAC');
      assert.equal(t.current.status?.currentVersion, '4');
      assert.equal(t.current.status?.phase, 'RollingOut');
    });

    it('a version that does not exist: RollbackRefused, nothing written, answered once, and it stays shown', async () => {
      const t = await rotatedTwice('9');
      await t.run();
      assert.deepEqual(t.writes, []);
      assert.equal(t.current.status?.phase, 'Failed');
      assert.equal(ready(t)?.reason, 'RollbackRefused');
      assert.equal(ready(t)?.message, 'version 9 of shop/db does not exist; nothing was written');
      assert.equal(t.current.status?.rollbackToHandled, tokenDigest('9'));
      assert.deepEqual(t.events, ['Warning RollbackRefused']);
      await t.run();
      await t.run();
      assert.equal(ready(t)?.reason, 'RollbackRefused', 'not overwritten by the next reconcile');
      assert.deepEqual(t.events, ['Warning RollbackRefused'], 'one Warning');
      assert.equal(t.current.status?.currentVersion, '3');
    });

    it('a restore the guard refuses (outside allowedWritePaths) or a backend that cannot restore: refused with its cause', async () => {
      const t = await rotatedTwice('1');
      restorable(t).restore = async () => {
        throw new BackendError('TenancyDenied', 'namespace "shop" may not write shop/db (allowedWritePaths)');
      };
      await t.run();
      assert.match(
        ready(t)?.message ?? '',
        /refused \(TenancyDenied\): .*allowedWritePaths.*; nothing was written/,
      );
      assert.equal(t.current.status?.phase, 'Failed');
      const u = await rotatedTwice('1');
      delete restorable(u).restore;
      await u.run();
      assert.match(ready(u)?.message ?? '', /backend "memory" \(memory\) cannot restore versions/);
      assert.deepEqual([...t.writes, ...u.writes], []);
    });

    it('a backend that is down leaves the rollback pending: retried, not answered', async () => {
      const t = await rotatedTwice('1');
      restorable(t).restore = async () => {
        throw new BackendError('Unavailable', 'backend down');
      };
      await assert.rejects(t.run(), /backend down/, 'retried with backoff');
      assert.equal(t.current.status?.rollbackToHandled, undefined);
      assert.equal(ready(t)?.reason, 'BackendUnavailable');
    });

    it('the latest version asked for: answered, nothing written, the phase goes on', async () => {
      const t = await rotatedTwice('3');
      await t.run();
      await t.run();
      assert.deepEqual(t.writes, []);
      assert.equal(t.current.status?.rollbackToHandled, tokenDigest('3'));
      assert.equal(t.current.status?.phase, 'Idle');
      assert.equal(ready(t)?.status, 'True');
    });
  });
});
