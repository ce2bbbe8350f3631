import assert from 'node:assert/strict';
import { type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { FakeClock, settle } from './fake-clock.ts';
import { Informer } from './informer.ts';
import { enqueueHandlers, isReplay } from './informer-handlers.ts';
import {
  type ListResult,
  type ListWatchSource,
  type WatchEvent,
  type WatchParams,
  mergeListWatch,
} from './list-watch.ts';
import { builtinResources } from './resources.ts';
import { RecordingLogger, apiError } from './testing.ts';

type Obj = KubernetesObject;

const cm = (name: string, rv: string, labels?: Record<string, string>): Obj => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', resourceVersion: rv, labels },
});

interface FakeWatch {
  params: WatchParams;
  aborted: boolean;
  emit(type: WatchEvent<Obj>['type'], object: Obj | object): void;
  close(err?: unknown): void;
}

/** A scripted API server: list answers from `objects` (or `listError`), watches are driven by the test. */
class FakeSource implements ListWatchSource<Obj> {
  objects: Obj[] = [];
  rv = '100';
  listError: unknown;
  watchError: unknown;
  lists = 0;
  watches: FakeWatch[] = [];

  async list(): Promise<ListResult<Obj>> {
    this.lists++;
    if (this.listError) throw this.listError;
    return { items: this.objects.map((o) => structuredClone(o)), resourceVersion: this.rv };
  }

  async watch(params: WatchParams, onEvent: (e: WatchEvent<Obj>) => void, onDone: (err: unknown) => void) {
    if (this.watchError) {
      onDone(this.watchError);
      return { abort() {} };
    }
    let done = false;
    const w: FakeWatch = {
      params,
      aborted: false,
      emit: (type, object) => {
        if (!done) onEvent({ type, object: object as Obj });
      },
      close: (err) => {
        if (done) return;
        done = true;
        onDone(err ?? null);
      },
    };
    this.watches.push(w);
    return {
      abort() {
        w.aborted = true;
        w.close(new DOMException('aborted', 'AbortError'));
      },
    };
  }

  get current(): FakeWatch {
    return this.watches.at(-1)!;
  }
}

function setup(
  opts: {
    resyncIntervalMs?: number;
    watchTimeoutSeconds?: number;
    watchdogGraceMs?: number;
    unhealthyAfterMs?: number;
  } = {},
) {
  const clock = new FakeClock(0);
  const source = new FakeSource();
  const log = new RecordingLogger();
  const events: string[] = [];
  const informer = new Informer<Obj>({
    resource: builtinResources.ConfigMap,
    source,
    clock,
    random: () => 0,
    logger: log,
    resyncIntervalMs: opts.resyncIntervalMs ?? 0,
    watchTimeoutSeconds: opts.watchTimeoutSeconds,
    watchdogGraceMs: opts.watchdogGraceMs,
    unhealthyAfterMs: opts.unhealthyAfterMs,
    backoff: { baseMs: 1000, capMs: 30_000, jitter: 'none' },
  });
  informer.addHandlers({
    add: (o) => events.push(`add ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
    update: (old, o) =>
      events.push(
        `update ${o.metadata?.name}@${old.metadata?.resourceVersion}->${o.metadata?.resourceVersion}`,
      ),
    delete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  return { clock, source, log, events, informer };
}

describe('Informer', () => {
  let toStop: Informer<Obj>[] = [];
  afterEach(async () => {
    await Promise.all(toStop.map((i) => i.stop()));
    toStop = [];
  });
  const start = <T extends { informer: Informer<Obj> }>(t: T) => {
    t.informer.start();
    toStop.push(t.informer);
    return t;
  };

  it('lists, reports synced, then watches from the list version with bookmarks', async () => {
    const t = setup();
    t.source.objects = [cm('a', '1'), cm('b', '2')];
    start(t);
    await t.informer.waitForSync();
    await settle();
    assert.equal(t.informer.hasSynced(), true);
    assert.deepEqual(t.events, ['add a@1', 'add b@2']);
    assert.equal(t.source.current.params.resourceVersion, '100');
    assert.ok(t.source.current.params.timeoutSeconds >= 300);
    assert.equal(t.informer.get('ns/a')?.metadata?.resourceVersion, '1');
  });

  it('applies watch events to the cache and calls add, update and delete', async () => {
    const t = start(setup());
    await settle();
    t.source.current.emit('ADDED', cm('a', '101'));
    t.source.current.emit('MODIFIED', cm('a', '102'));
    t.source.current.emit('DELETED', cm('a', '103'));
    t.source.current.emit('ADDED', cm('b', '104', { app: 'x' }));
    assert.deepEqual(t.events, ['add a@101', 'update a@101->102', 'delete a', 'add b@104']);
    assert.deepEqual(t.informer.keys(), ['ns/b']);
    assert.deepEqual(
      t.informer.listByLabels({ app: 'x' }).map((o) => o.metadata?.name),
      ['b'],
    );
    assert.deepEqual(t.informer.listByLabels({ app: 'y' }), []);
  });

  it('resumes from the last seen version (bookmarks included) after a clean close', async () => {
    const t = start(setup());
    await settle();
    t.source.current.emit('ADDED', cm('a', '101'));
    t.source.current.emit('BOOKMARK', { kind: 'ConfigMap', metadata: { resourceVersion: '150' } });
    t.clock.advance(10_000);
    t.source.current.close();
    await settle();
    assert.equal(t.source.watches.length, 2);
    assert.equal(t.source.current.params.resourceVersion, '150');
    assert.equal(t.source.lists, 1, 'no relist needed');
  });

  it('relists at once when the watch reports 410 Gone', async () => {
    const t = start(setup({ resyncIntervalMs: 600_000 }));
    await settle();
    t.source.objects = [cm('a', '120')];
    t.source.current.emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' });
    await settle();
    assert.equal(t.source.lists, 2);
    assert.deepEqual(t.events, ['add a@120']);
    assert.equal(t.source.watches.length, 2);
  });

  it('backs off when 410 Gone keeps coming right after each relist', async () => {
    const t = start(setup());
    await settle();
    const gone = { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' };
    t.source.current.emit('ERROR', gone);
    await settle();
    t.source.current.emit('ERROR', gone);
    await settle();
    assert.equal(t.source.lists, 2, 'relisted at once after the first 410 only');
    await t.clock.advanceAsync(1000);
    assert.equal(t.source.lists, 3);
  });

  it('restarts after any other error with growing backoff, and recovers', async () => {
    const t = start(setup());
    await settle();
    t.source.watchError = apiError(500, 'InternalError', 'etcd down');
    t.source.current.close(apiError(500, 'InternalError', 'etcd down'));
    await settle();
    const attemptsAt = (ms: number) => t.clock.advanceAsync(ms).then(() => t.source.watches.length);
    assert.equal(t.source.watches.length, 1);
    await t.clock.advanceAsync(1000); // 1st retry after 1 s fails at once
    await t.clock.advanceAsync(1999);
    assert.equal(t.informer.status().consecutiveFailures, 2, 'second retry waits 2 s');
    t.source.watchError = undefined;
    assert.equal(await attemptsAt(1), 2);
    t.source.current.emit('ADDED', cm('c', '200'));
    assert.equal(t.informer.status().consecutiveFailures, 0);
    assert.deepEqual(t.events, ['add c@200']);
  });

  it('keeps retrying a failing list instead of giving up', async () => {
    const t = setup();
    t.source.listError = apiError(403, 'Forbidden', 'configmaps is forbidden');
    start(t);
    await settle();
    await t.clock.advanceAsync(1000 + 2000 + 4000);
    assert.equal(t.source.lists, 4);
    assert.equal(t.informer.hasSynced(), false);
    assert.match(t.informer.status().lastError ?? '', /Forbidden/);
    t.source.listError = undefined;
    await t.clock.advanceAsync(8000);
    assert.equal(t.informer.hasSynced(), true);
  });

  it('resync replays the cache to the handlers as update(obj, obj), asking the server nothing', async () => {
    const t = setup({ resyncIntervalMs: 600_000, watchTimeoutSeconds: 3600 });
    t.source.objects = [cm('a', '1'), cm('b', '2')];
    start(t);
    await settle();
    t.source.current.emit('MODIFIED', cm('b', '102'));
    t.events.length = 0;
    const replays: [Obj, Obj][] = [];
    t.informer.addHandlers({ update: (old, o) => replays.push([old, o]) });
    // Changed on the server without an event: a replay hands over the cache as it is.
    t.source.objects = [cm('a', '9'), cm('new', '10')];
    await t.clock.advanceAsync(600_000);
    assert.deepEqual(t.events.sort(), ['update a@1->1', 'update b@102->102']);
    assert.ok(replays.every(([old, o]) => old === o && isReplay(old, o)));
    assert.equal(t.source.lists, 1, 'no relist');
    assert.equal(t.source.watches.length, 1, 'the watch goes on');
    assert.equal(t.source.current.aborted, false);
    await t.clock.advanceAsync(600_000);
    assert.equal(t.events.length, 4, 'again every period');
    assert.equal(t.source.lists, 1);
  });

  it('does not replay with resync 0, nor before the first sync', async () => {
    const off = setup({ resyncIntervalMs: 0, watchTimeoutSeconds: 3600 });
    off.source.objects = [cm('a', '1')];
    start(off);
    await settle();
    assert.deepEqual(off.events, ['add a@1']);
    off.events.length = 0;
    await off.clock.advanceAsync(3_000_000);
    assert.deepEqual(off.events, []);

    const t = setup({ resyncIntervalMs: 1000 });
    t.source.listError = apiError(503, 'ServiceUnavailable');
    start(t);
    await t.clock.advanceAsync(3000);
    assert.equal(t.informer.hasSynced(), false);
    assert.deepEqual(t.events, []);
  });

  it('relists after an ERROR event that is not 410, once the backoff has passed', async () => {
    const t = setup();
    t.source.objects = [cm('a', '1')];
    start(t);
    await settle();
    t.source.current.emit('ERROR', { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd' });
    await settle();
    assert.equal(t.source.lists, 1, 'backing off first');
    t.source.objects = [cm('a', '2')];
    await t.clock.advanceAsync(1000);
    assert.equal(t.source.lists, 2);
    assert.deepEqual(t.events, ['add a@1', 'update a@1->2']);
  });

  it('backs off before relisting after an ERROR event the server sends as a timeout', async () => {
    const t = start(setup());
    await settle();
    t.clock.advance(10_000);
    t.source.current.emit('ERROR', { kind: 'Status', code: 504, reason: 'Timeout', message: 'slow etcd' });
    await settle();
    assert.equal(t.source.lists, 1, 'not at once');
    assert.equal(t.source.watches.length, 1);
    await t.clock.advanceAsync(1000);
    assert.equal(t.source.lists, 2);
  });

  it('re-watches from its version, without a relist, after a broken connection', async () => {
    const t = start(setup());
    await settle();
    t.source.current.emit('ADDED', cm('a', '101'));
    t.clock.advance(10_000);
    t.source.current.close(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await t.clock.advanceAsync(1000);
    assert.equal(t.source.watches.length, 2);
    assert.equal(t.source.current.params.resourceVersion, '101');
    assert.equal(t.source.lists, 1);
  });

  it('replaces a watch that stays silent past its own timeout; events and bookmarks count as life', async () => {
    const t = start(setup({ watchTimeoutSeconds: 100, watchdogGraceMs: 20_000 }));
    await settle();
    assert.equal(t.source.current.params.timeoutSeconds, 100);
    await t.clock.advanceAsync(100_000);
    t.source.current.emit('BOOKMARK', { metadata: { resourceVersion: '120' } });
    await t.clock.advanceAsync(110_000);
    assert.equal(t.source.watches.length, 1, 'the bookmark showed it alive');
    assert.equal(t.informer.healthy(), true);
    assert.equal(t.source.lists, 1);
    t.source.objects = [cm('missed', '130')];
    t.source.rv = '130';
    await t.clock.advanceAsync(10_000);
    assert.equal(t.source.watches[0]!.aborted, true);
    assert.ok(t.log.records.some((r) => r.level === 'warn' && r.message === 'Replaced a stuck watch'));
    assert.equal(t.source.lists, 2, 'relisted at once');
    assert.deepEqual(t.events, ['add missed@130']);
    assert.equal(t.source.watches.length, 2);
    assert.equal(t.source.current.params.resourceVersion, '130', 'watching from the new list');
  });

  it('gives up on a watch that never connects, then backs off', async () => {
    const t = start(setup({ watchTimeoutSeconds: 100, watchdogGraceMs: 20_000 }));
    await settle();
    const real = t.source.watch.bind(t.source);
    t.source.watch = () => new Promise(() => {}); // the connect hangs forever
    t.source.current.close(apiError(503, 'ServiceUnavailable'));
    await t.clock.advanceAsync(1000); // backoff, then the hanging attempt
    await t.clock.advanceAsync(120_000);
    t.source.watch = real;
    assert.match(t.informer.status().lastError ?? '', /not established/);
    const before = t.source.watches.length;
    await t.clock.advanceAsync(4000);
    assert.equal(t.source.watches.length, before + 1);
  });

  it('backs off instead of looping when watches close at once without events', async () => {
    const t = start(setup());
    await settle();
    for (let i = 0; i < 3; i++) {
      t.source.current.close();
      await settle();
    }
    const n = t.source.watches.length;
    assert.ok(n <= 3, `at most one immediate retry per backoff step (got ${n})`);
    await t.clock.advanceAsync(1000);
    assert.ok(t.source.watches.length > n);
  });

  it('stays healthy through a short outage and reports unhealthy after a long one', async () => {
    const t = start(setup({ unhealthyAfterMs: 60_000 }));
    await settle();
    assert.equal(t.informer.healthy(), true);
    t.source.watchError = apiError(503, 'ServiceUnavailable');
    t.source.listError = apiError(503, 'ServiceUnavailable');
    t.source.current.close(apiError(503, 'ServiceUnavailable'));
    await t.clock.advanceAsync(59_000);
    assert.equal(t.informer.healthy(), true, 'short outages do not flip readiness');
    await t.clock.advanceAsync(2_000);
    assert.equal(t.informer.healthy(), false);
    assert.equal(t.informer.status().synced, true);
    t.source.watchError = undefined;
    await t.clock.advanceAsync(30_000);
    assert.equal(t.informer.healthy(), true, 'healthy again once a watch is connected');
  });

  it('keeps going when a handler throws or rejects', async () => {
    const t = start(setup());
    t.informer.addHandlers({
      add: () => {
        throw new Error('handler bug');
      },
      update: async () => {
        throw new Error('async handler bug');
      },
    });
    await settle();
    t.source.current.emit('ADDED', cm('a', '101'));
    t.source.current.emit('MODIFIED', cm('a', '102'));
    await settle();
    assert.deepEqual(t.events, ['add a@101', 'update a@101->102']);
    assert.equal(t.log.records.filter((r) => r.message === 'Informer handler failed').length, 2);
  });

  it('replays the cache to handlers added after the sync', async () => {
    const t = setup();
    t.source.objects = [cm('a', '1')];
    start(t);
    await t.informer.waitForSync();
    const keys: string[] = [];
    t.informer.addHandlers(enqueueHandlers((k) => keys.push(k)));
    assert.deepEqual(keys, ['ns/a']);
  });

  it('drops managedFields and the last-applied annotation before caching', async () => {
    const t = setup();
    const big = cm('a', '1');
    big.metadata!.managedFields = [{ manager: 'kubectl' }];
    big.metadata!.annotations = {
      'kubectl.kubernetes.io/last-applied-configuration': '{"data":"x"}',
      keep: 'me',
    };
    t.source.objects = [big];
    start(t);
    await t.informer.waitForSync();
    const cached = t.informer.get('ns/a')!;
    assert.equal(cached.metadata?.managedFields, undefined);
    assert.deepEqual(cached.metadata?.annotations, { keep: 'me' });
  });

  it('stops cleanly: the watch is aborted and no timer is left behind', async () => {
    const t = setup({ resyncIntervalMs: 600_000 });
    t.informer.start();
    await settle();
    await t.informer.stop();
    assert.equal(t.source.current.aborted, true);
    assert.equal(t.clock.pendingTimers(), 0);
    assert.equal(t.informer.healthy(), false);
  });
});

describe('Informer over several namespaces', () => {
  const inNs = (namespace: string, name: string, rv: string): Obj => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, resourceVersion: rv },
  });

  function setupMerged() {
    const clock = new FakeClock(0);
    const a = new FakeSource();
    const b = new FakeSource();
    a.objects = [inNs('a', 'one', '10')];
    a.rv = '11';
    b.objects = [inNs('b', 'two', '20')];
    b.rv = '21';
    const events: string[] = [];
    const informer = new Informer<Obj>({
      resource: builtinResources.ConfigMap,
      source: mergeListWatch([a, b]),
      clock,
      random: () => 0,
      logger: new RecordingLogger(),
      resyncIntervalMs: 0,
      backoff: { baseMs: 1000, capMs: 30_000, jitter: 'none' },
    });
    informer.addHandlers({
      add: (o) => events.push(`add ${o.metadata?.namespace}/${o.metadata?.name}`),
      update: (_old, o) => events.push(`update ${o.metadata?.namespace}/${o.metadata?.name}`),
      delete: (o) => events.push(`delete ${o.metadata?.namespace}/${o.metadata?.name}`),
    });
    return { clock, a, b, events, informer };
  }

  let toStop: Informer<Obj>[] = [];
  afterEach(async () => {
    await Promise.all(toStop.map((i) => i.stop()));
    toStop = [];
  });
  const start = <T extends { informer: Informer<Obj> }>(t: T) => {
    t.informer.start();
    toStop.push(t.informer);
    return t;
  };

  it('lists every namespace into one cache and watches each from its own version', async () => {
    const t = start(setupMerged());
    await t.informer.waitForSync();
    await settle();
    assert.deepEqual(t.informer.keys().sort(), ['a/one', 'b/two']);
    assert.deepEqual(
      t.informer.list('b').map((o) => o.metadata?.name),
      ['two'],
    );
    assert.equal(t.a.current.params.resourceVersion, '11');
    assert.equal(t.b.current.params.resourceVersion, '21');
    t.a.current.emit('ADDED', inNs('a', 'three', '12'));
    t.b.current.emit('MODIFIED', inNs('b', 'two', '22'));
    assert.deepEqual(t.events, ['add a/one', 'add b/two', 'add a/three', 'update b/two']);
    assert.equal(t.informer.status().objects, 3);
  });

  it('ends all watches when one part closes, and resumes each from its own last version', async () => {
    const t = start(setupMerged());
    await settle();
    t.a.current.emit('ADDED', inNs('a', 'three', '12'));
    t.b.current.emit('BOOKMARK', { kind: 'ConfigMap', metadata: { resourceVersion: '30' } });
    t.clock.advance(10_000);
    t.a.current.close();
    assert.equal(t.b.current.aborted, true, 'the other part stops with it');
    await settle();
    assert.equal(t.a.watches.length, 2);
    assert.equal(t.b.watches.length, 2);
    assert.equal(t.a.current.params.resourceVersion, '12');
    assert.equal(t.b.current.params.resourceVersion, '30');
    assert.equal(t.a.lists + t.b.lists, 2, 'no relist needed');
  });

  it('relists every namespace when one reports 410 Gone; events after the end are dropped', async () => {
    const t = start(setupMerged());
    await settle();
    const first = t.b.current;
    t.a.current.emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' });
    first.emit('ADDED', inNs('b', 'late', '99')); // the part was aborted: nothing arrives
    await settle();
    assert.equal(t.a.lists, 2);
    assert.equal(t.b.lists, 2);
    assert.equal(t.informer.get('b/late'), undefined);
    assert.equal(t.b.current.params.resourceVersion, '21', 'from the new list, not the dropped event');
  });

  it('stops the started parts and backs off when one part cannot watch', async () => {
    const t = start(setupMerged());
    await settle();
    t.b.watchError = apiError(403, 'Forbidden', 'secrets is forbidden');
    t.clock.advance(10_000);
    t.a.current.close(); // a normal end: watched again at once, and b fails to start
    await settle();
    assert.equal(t.a.watches.length, 2);
    assert.equal(t.a.current.aborted, true);
    assert.equal(t.informer.status().consecutiveFailures, 1);
    assert.match(t.informer.status().lastError ?? '', /forbidden/);
    t.b.watchError = undefined;
    await t.clock.advanceAsync(1000);
    assert.equal(t.a.current.aborted, false, 'watching again after the backoff');
  });

  it('stop aborts every part', async () => {
    const t = setupMerged();
    t.informer.start();
    await settle();
    await t.informer.stop();
    assert.equal(t.a.current.aborted, true);
    assert.equal(t.b.current.aborted, true);
  });

  it('with kubeConfig and namespaces, requests only those namespaces (list and watch)', async () => {
    const requests: string[] = [];
    const open = new Set<ServerResponse>();
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const watch = url.searchParams.get('watch') === 'true';
      requests.push(`${watch ? 'watch' : 'list'} ${url.pathname}`);
      const ns = /^\/api\/v1\/namespaces\/([^/]+)\/secrets$/.exec(url.pathname)?.[1];
      if (!ns) {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'forbidden' }));
        return;
      }
      assert.equal(url.searchParams.get('labelSelector'), 'app=x');
      res.writeHead(200, { 'content-type': 'application/json' });
      if (!watch) {
        const item = { metadata: { name: `s-${ns}`, namespace: ns, resourceVersion: '5' } };
        res.end(JSON.stringify({ kind: 'SecretList', metadata: { resourceVersion: '7' }, items: [item] }));
        return;
      }
      open.add(res); // a quiet watch, held open until the informer stops
      req.on('close', () => open.delete(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const informer = new Informer<Obj>({
      resource: builtinResources.Secret,
      kubeConfig: kc,
      namespaces: ['a', 'b', 'a'],
      labelSelector: 'app=x',
      resyncIntervalMs: 0,
    });
    try {
      informer.start();
      await informer.waitForSync();
      assert.deepEqual(informer.keys().sort(), ['a/s-a', 'b/s-b']);
      await eventuallyTrue(() => requests.filter((r) => r.startsWith('watch')).length === 2);
      assert.deepEqual(requests.sort(), [
        'list /api/v1/namespaces/a/secrets',
        'list /api/v1/namespaces/b/secrets',
        'watch /api/v1/namespaces/a/secrets',
        'watch /api/v1/namespaces/b/secrets',
      ]);
      assert.equal(informer.healthy(), true);
    } finally {
      await informer.stop();
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

async function eventuallyTrue(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
