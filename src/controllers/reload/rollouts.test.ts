import assert from 'node:assert/strict';
import { FakeClock, settle } from '../../kube/fake-clock.ts';
import { Informer } from '../../kube/informer.ts';
import type { ListResult, ListWatchSource, WatchEvent, WatchParams } from '../../kube/list-watch.ts';
import type { ResourceType } from '../../kube/resources.ts';
import { FakeRest, RecordingLogger, apiError } from '../../kube/testing.ts';
import { ROLLOUT_RECHECK_MS, RolloutCache, discoverRollouts } from './rollouts.ts';
import type { Workload } from '../contracts.ts';

const ROLLOUTS: ResourceType = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Rollout',
  plural: 'rollouts',
  namespaced: true,
};

const rollout = (name: string): Workload => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Rollout',
  metadata: { name, namespace: 'shop', resourceVersion: '1' },
  spec: { replicas: 1 },
});

/** Lists `objects`; watches stay open until aborted. */
class FakeSource implements ListWatchSource<Workload> {
  objects: Workload[] = [];
  lists = 0;
  async list(): Promise<ListResult<Workload>> {
    this.lists++;
    return { items: this.objects.map((o) => structuredClone(o)), resourceVersion: '10' };
  }
  async watch(_p: WatchParams, _e: (e: WatchEvent<Workload>) => void, onDone: (err: unknown) => void) {
    return { abort: () => onDone(new DOMException('aborted', 'AbortError')) };
  }
}

function setup() {
  const clock = new FakeClock(0);
  const log = new RecordingLogger();
  const source = new FakeSource();
  const events: string[] = [];
  const discovery: { answer: ResourceType | undefined | Error; calls: number } = {
    answer: undefined,
    calls: 0,
  };
  const informers: Informer<Workload>[] = [];
  const cache = new RolloutCache({
    discover: async () => {
      discovery.calls++;
      if (discovery.answer instanceof Error) throw discovery.answer;
      return discovery.answer;
    },
    createInformer: (resource) => {
      assert.deepEqual(resource, ROLLOUTS);
      const informer = new Informer<Workload>({ resource, source, clock, logger: log, resyncIntervalMs: 0 });
      informers.push(informer);
      return informer;
    },
    handlers: {
      add: (o) => events.push(`add ${o.metadata?.name}`),
      delete: (o) => events.push(`delete ${o.metadata?.name}`),
    },
    clock,
    logger: log,
  });
  return { clock, log, source, events, discovery, informers, cache };
}

describe('Argo Rollouts cache', () => {
  it('without the CRD: no informer, nothing requested but discovery, synced and healthy, no warning', async () => {
    const t = setup();
    assert.equal(t.cache.discovery(), 'unknown');
    assert.equal(t.cache.settled(), false, 'not settled before discovery answered');
    t.cache.start();
    await settle();
    assert.equal(t.cache.discovery(), 'absent');
    assert.equal(t.cache.served(), false);
    assert.equal(t.cache.settled(), true);
    assert.deepEqual(t.cache.list('shop'), []);
    assert.equal(t.informers.length, 0);
    assert.equal(t.source.lists, 0, 'no list of a resource the server does not have');
    assert.deepEqual(
      { synced: t.cache.status().synced, healthy: t.cache.status().healthy, name: t.cache.status().name },
      { synced: true, healthy: true, name: 'rollouts' },
    );
    assert.deepEqual(
      t.log.records.filter((r) => r.level !== 'info' && r.level !== 'debug'),
      [],
      'no warning or error',
    );
    assert.match(t.log.text(), /Argo Rollouts CRD is not installed/);
    assert.equal(t.cache.answeredWithin(10_000), true);
    t.clock.advance(10_000);
    assert.equal(t.cache.answeredWithin(10_000), false, 'an old answer (a caller asks again)');
    // A question asked after the last answer's request: only a new request answers it.
    const asked = t.clock.now();
    assert.equal(t.cache.answeredSince(asked - 10_000), true);
    assert.equal(t.cache.answeredSince(asked), false);
    await t.cache.recheck();
    assert.equal(t.cache.answeredSince(asked), true);
    await t.cache.stop();
  });

  it('notices a CRD installed later at the next discovery, and a removed one', async () => {
    const t = setup();
    t.cache.start();
    await settle();
    t.source.objects = [rollout('web'), rollout('api')];
    t.discovery.answer = ROLLOUTS;
    t.clock.advance(ROLLOUT_RECHECK_MS - 1);
    await settle();
    assert.equal(t.cache.served(), false, 'not before the next discovery');
    t.clock.advance(1);
    await settle();
    assert.equal(t.cache.discovery(), 'served');
    assert.equal(t.cache.served(), true);
    assert.equal(t.cache.hasSynced(), true);
    assert.equal(t.cache.settled(), true);
    assert.equal(t.cache.get('shop/web')?.metadata?.name, 'web');
    assert.deepEqual(t.events.sort(), ['add api', 'add web']);
    assert.equal(t.cache.status().objects, 2, "the informer's own status from now on");

    // The CRD is deleted: the informer stops and its objects are reported gone.
    t.events.length = 0;
    t.discovery.answer = undefined;
    t.clock.advance(ROLLOUT_RECHECK_MS);
    await settle();
    assert.equal(t.cache.served(), false);
    assert.deepEqual(t.events.sort(), ['delete api', 'delete web']);
    assert.equal(t.cache.get('shop/web'), undefined);
    assert.equal(t.cache.status().synced, true);
    await t.cache.stop();
    assert.equal(t.clock.pendingTimers(), 0, 'no discovery timer left after stop');
  });

  it('recheck() asks discovery at once (one request for concurrent callers)', async () => {
    const t = setup();
    t.cache.start();
    await settle();
    const calls = t.discovery.calls;
    t.discovery.answer = ROLLOUTS;
    const [a, b] = await Promise.all([t.cache.recheck(), t.cache.recheck()]);
    assert.deepEqual([a, b], [true, true]);
    assert.equal(t.discovery.calls, calls + 1);
    assert.equal(t.informers.length, 1);
    assert.equal(await t.cache.recheck(), true);
    assert.equal(t.informers.length, 1, 'one informer, however often it is asked');
    await t.cache.stop();
    assert.equal(await t.cache.recheck(), false, 'nothing after stop');
  });

  it('a failed discovery keeps what was known and is said once', async () => {
    const t = setup();
    t.discovery.answer = apiError(503, 'ServiceUnavailable');
    t.cache.start();
    await settle();
    t.clock.advance(ROLLOUT_RECHECK_MS);
    await settle();
    assert.equal(t.cache.discovery(), 'unknown');
    assert.equal(t.cache.settled(), false, 'a Rollout it cannot see may exist');
    assert.equal(t.cache.status().synced, true, 'readiness does not wait for discovery');
    assert.equal(t.log.records.filter((r) => r.level === 'warn').length, 1);
    t.discovery.answer = ROLLOUTS;
    t.clock.advance(ROLLOUT_RECHECK_MS);
    await settle();
    assert.equal(t.cache.served(), true);
    await t.cache.stop();
  });

  it('discovers the Rollout kind with one uncached request; a missing group version is "not served"', async () => {
    const rest = new FakeRest((req) => {
      assert.equal(req.path, '/apis/argoproj.io/v1alpha1');
      throw apiError(404, 'NotFound');
    });
    assert.equal(await discoverRollouts(rest), undefined);
    rest.handler = () => ({ resources: [{ name: 'analysisruns', kind: 'AnalysisRun', namespaced: true }] });
    assert.equal(await discoverRollouts(rest), undefined);
    rest.handler = () => ({
      resources: [
        { name: 'rollouts', kind: 'Rollout', namespaced: true },
        { name: 'rollouts/status', kind: 'Rollout', namespaced: true },
      ],
    });
    assert.deepEqual(await discoverRollouts(rest), ROLLOUTS);
    assert.equal(rest.requests.length, 3, 'never cached');
    rest.handler = () => {
      throw apiError(500, 'InternalError');
    };
    await assert.rejects(discoverRollouts(rest), /InternalError/);
  });
});
