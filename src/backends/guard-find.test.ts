// GuardedBackend.find against a fake listing adapter: what a hostile tenant can and cannot get
// from a listing, how one walk is shared, how it is bounded and when it is forgotten.
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { FakeClock } from '../kube/fake-clock.ts';
import { BackendError } from '../resilience/errors.ts';
import { Sensitive } from '../secrets/sensitive.ts';
import { GuardedBackend, type GuardOptions } from './guard.ts';
import { errorOf, guardOptions, RecordingMetrics } from './testing.ts';
import type {
  BackendAdapter,
  CallContext,
  FindRequest,
  ListPage,
  ListRequest,
  ReadRequest,
  RemoteSecret,
  WriteRequest,
} from './types.ts';

/** Lists `paths` (sorted) a page at a time; reads and writes are only counted. */
class ListingAdapter implements BackendAdapter {
  readonly name = 'fake';
  readonly type = 'fake';
  paths: string[] = [];
  pageSize = 2;
  readonly lists: { req: ListRequest; page: string | undefined }[] = [];
  readonly reads: string[] = [];
  writes = 0;
  /** Holds every list call until released (concurrent callers pile up on one walk). */
  gate: Promise<void> | undefined;
  fail: BackendError | undefined;

  identity(): string {
    return 'one-token';
  }
  async list(req: ListRequest, page: string | undefined): Promise<ListPage> {
    this.lists.push({ req, page });
    await this.gate;
    if (this.fail) throw this.fail;
    const all = this.paths.filter((p) => p.startsWith(req.prefix)).sort();
    const from = page === undefined ? 0 : Number(page);
    const next = from + this.pageSize < all.length ? String(from + this.pageSize) : undefined;
    return { paths: all.slice(from, from + this.pageSize), ...(next !== undefined && { next }) };
  }
  async read(req: ReadRequest): Promise<RemoteSecret> {
    this.reads.push(req.path);
    return { data: new Sensitive<ReadonlyMap<string, Buffer>>(new Map()), version: '1' };
  }
  async write(req: WriteRequest): Promise<{ version: string }> {
    this.writes++;
    if (!this.paths.includes(req.path)) this.paths.push(req.path);
    return { version: '2' };
  }
  async check(): Promise<void> {}
  async close(): Promise<void> {}
}

function setup(over: Partial<GuardOptions> = {}) {
  const clock = new FakeClock();
  const adapter = new ListingAdapter();
  const metrics = new RecordingMetrics();
  const backend = new GuardedBackend(
    adapter,
    guardOptions({ rateLimit: { qps: 1000, burst: 1000, maxWait: 10_000 }, ...over }),
    { clock, metrics },
  );
  const find = (req: Partial<FindRequest>, ctx: CallContext = { namespace: 'team-a' }) =>
    backend.find!({ prefix: 'team-a/', maxItems: 100, ...req }, ctx);
  return { clock, adapter, metrics, backend, find };
}

/** Paths of two teams side by side under `apps/<app>/<namespace>/`. */
const twoTeams = ['apps/web/team-a/db', 'apps/web/team-b/db', 'apps/web/team-a/api', 'apps/pay/team-b/key'];

describe('GuardedBackend.find', () => {
  it('is there only when the adapter lists; delete only when it deletes', () => {
    const { backend } = setup();
    assert.equal(typeof backend.find, 'function');
    assert.equal(backend.delete, undefined);
    const plain = new GuardedBackend(
      Object.assign(new ListingAdapter(), { list: undefined }),
      guardOptions(),
      {
        clock: new FakeClock(),
        metrics: new RecordingMetrics(),
      },
    );
    assert.equal(plain.find, undefined);
  });

  it('refuses a hostile tenant\'s prefix "" or another team\'s folder before any list call, naming only the prefix', async () => {
    const { adapter, metrics, find } = setup();
    adapter.paths = ['team-b/db', 'team-b/secret-plan'];
    for (const prefix of ['', 'team-b/', 'team', 'team-a']) {
      const err = await errorOf(find({ prefix }));
      assert.equal(err.code, 'TenancyDenied', prefix);
      assert.match(
        err.message,
        new RegExp(`^prefix "${prefix}" is not inside the paths allowed for namespace "team-a"`),
      );
      assert.equal(err.message.includes('secret-plan'), false);
    }
    const ns = await errorOf(find({ prefix: 'team-b/' }, { namespace: 'shop' }));
    assert.match(ns.message, /namespace "shop" may not use backend "fake"/);
    assert.equal(adapter.lists.length, 0);
    assert.deepEqual(metrics.requests, Array(5).fill('fake list TenancyDenied'));
  });

  it("never reads nor names another tenant's paths found under an allowed prefix: counted as refused", async () => {
    const { adapter, find } = setup({ allowedPaths: ['apps/*/{namespace}/**'] });
    adapter.paths = twoTeams;
    const found = await find({ prefix: 'apps/' });
    assert.deepEqual(found, {
      paths: ['apps/web/team-a/api', 'apps/web/team-a/db'],
      truncated: false,
      refused: 2,
    });
    assert.equal(adapter.reads.length, 0);
    assert.equal(inspect(found).includes('team-b'), false);
  });

  it('shares one walk between 1,000 concurrent callers, and serves it within maxAgeMs', async () => {
    const { adapter, metrics, clock, find } = setup();
    adapter.paths = ['team-a/a', 'team-a/b', 'team-a/c'];
    let release!: () => void;
    adapter.gate = new Promise((r) => (release = r));
    const callers = Array.from({ length: 1000 }, () => find({}, { namespace: 'team-a', maxAgeMs: 60_000 }));
    await new Promise((r) => setImmediate(r));
    release();
    const results = await Promise.all(callers);
    assert.equal(adapter.lists.length, 2, 'one walk of two pages');
    assert.ok(results.every((r) => r.paths.length === 3));
    assert.equal(metrics.coalescedCount, 999);
    await clock.advanceAsync(30_000);
    await find({}, { namespace: 'team-a', maxAgeMs: 60_000 });
    assert.equal(adapter.lists.length, 2, 'kept result served');
    await clock.advanceAsync(31_000);
    await find({}, { namespace: 'team-a', maxAgeMs: 60_000 });
    assert.equal(adapter.lists.length, 4, 'older than maxAgeMs: listed again');
    await find({}, { namespace: 'team-a', maxAgeMs: 0 });
    assert.equal(adapter.lists.length, 6, 'maxAgeMs 0: a fresh walk');
  });

  it('filters a shared walk for each namespace: each gets only its own paths', async () => {
    const { adapter, find } = setup({ allowedPaths: ['apps/*/{namespace}/**'] });
    adapter.paths = twoTeams;
    const [a, b] = await Promise.all([
      find({ prefix: 'apps/' }, { namespace: 'team-a' }),
      find({ prefix: 'apps/' }, { namespace: 'team-b' }),
    ]);
    assert.equal(adapter.lists.length, 2, 'one walk (two pages) for both');
    assert.deepEqual(a.paths, ['apps/web/team-a/api', 'apps/web/team-a/db']);
    assert.deepEqual(b.paths, ['apps/pay/team-b/key', 'apps/web/team-b/db']);
  });

  it('does not share a walk between different requests', async () => {
    const { adapter, find } = setup();
    adapter.paths = ['team-a/a'];
    await Promise.all([
      find({}),
      find({ name: 'team-a/.*' }),
      find({ tags: { t: '1' } }),
      find({ maxItems: 5 }),
      find({ prefix: 'team-a/a' }),
    ]);
    assert.equal(adapter.lists.length, 5);
  });

  it('matches the name on the whole path, in linear time whatever the nesting', async () => {
    const { adapter, find } = setup();
    adapter.paths = ['team-a/db-main', 'team-a/db-replica', 'team-a/api', `team-a/${'a'.repeat(500)}!`];
    assert.deepEqual((await find({ name: 'team-a/db-.*' })).paths, ['team-a/db-main', 'team-a/db-replica']);
    assert.deepEqual((await find({ name: 'db-.*' })).paths, [], 'a part of the path is not a match');
    const started = performance.now();
    assert.deepEqual((await find({ name: 'team-a/(a+)+' })).paths, []);
    assert.ok(performance.now() - started < 200, 'no catastrophic backtracking');
  });

  it('refuses a name RE2 cannot take, or one too long, before any list call', async () => {
    const { adapter, find } = setup();
    for (const name of ['(a)\\1', '(?=a)b', '(?<!a)b', '(?<n>a)\\k<n>', 'a'.repeat(257), '(']) {
      const err = await errorOf(find({ name }));
      assert.equal(err.code, 'InvalidRequest', name);
      assert.match(err.message, /^name (is not an RE2 regular expression|must be at most 256 characters)/);
    }
    assert.equal((await errorOf(find({ maxItems: 0 }))).code, 'InvalidRequest');
    assert.equal((await errorOf(find({ maxItems: 1001 }))).code, 'InvalidRequest');
    assert.equal(adapter.lists.length, 0);
  });

  it('stops the walk past maxItems matches and says truncated', async () => {
    const { adapter, find } = setup();
    adapter.paths = ['team-a/a', 'team-a/b', 'team-a/c', 'team-a/d', 'team-a/e', 'team-a/f', 'team-a/g'];
    const found = await find({ maxItems: 2 });
    assert.deepEqual(found, { paths: ['team-a/a', 'team-a/b'], truncated: true, refused: 0 });
    assert.equal(adapter.lists.length, 2, 'stopped at the third match, on the second page');
    assert.equal((await find({ maxItems: 7 })).truncated, false);
  });

  it('refuses a listing that grows past 10,000 paths', async () => {
    const { adapter, find } = setup();
    adapter.pageSize = 1000;
    adapter.paths = Array.from({ length: 10_001 }, (_, i) => `team-a/s${i}`);
    const err = await errorOf(find({ name: 'none' }));
    assert.equal(err.code, 'InvalidRequest');
    assert.match(err.message, /listing prefix "team-a\/" went past 10000 paths/);
  });

  it('forgets a kept walk when a write, restore or delete changes a path under its prefix', async () => {
    const { adapter, backend, find } = setup({ coalesce: { ttl: 60_000 } });
    const withDelete = new GuardedBackend(
      Object.assign(adapter, { delete: async () => {} }),
      guardOptions({ coalesce: { ttl: 60_000 } }),
      {
        clock: new FakeClock(),
        metrics: new RecordingMetrics(),
      },
    );
    adapter.paths = ['team-a/app/a'];
    const data = new Sensitive<ReadonlyMap<string, Buffer>>(new Map());
    await find({ prefix: 'team-a/app/' });
    await backend.write({ path: 'team-a/other', data }, { namespace: 'team-a' });
    await find({ prefix: 'team-a/app/' });
    assert.equal(adapter.lists.length, 1, 'a write elsewhere keeps it');
    await backend.write({ path: 'team-a/app/b', data }, { namespace: 'team-a' });
    assert.deepEqual((await find({ prefix: 'team-a/app/' })).paths, ['team-a/app/a', 'team-a/app/b']);
    assert.equal(adapter.lists.length, 2);
    await backend.restore({ path: 'team-a/app/a', version: '1' }, { namespace: 'team-a' });
    await find({ prefix: 'team-a/app/' });
    assert.equal(adapter.lists.length, 3, 'a restore forgets it');
    const f = () => withDelete.find!({ prefix: 'team-a/app/', maxItems: 9 }, { namespace: 'team-a' });
    await f();
    await withDelete.delete!({ path: 'team-a/app/a', scope: 'latest' }, { namespace: 'team-a' });
    await f();
    assert.equal(adapter.lists.length, 5, 'a delete forgets it');
  });

  it('lists through the breaker, and reports each page as a list request', async () => {
    const { adapter, metrics, find } = setup();
    adapter.paths = ['team-a/a', 'team-a/b', 'team-a/c'];
    await find({});
    assert.deepEqual(metrics.requests, ['fake list success', 'fake list success']);
    adapter.fail = new BackendError('Unavailable', 'down', { transient: true });
    for (let i = 0; i < 3; i++) assert.equal((await errorOf(find({ maxItems: 1 + i }))).code, 'Unavailable');
    const open = await errorOf(find({ maxItems: 9 }));
    assert.equal(open.code, 'CircuitOpen');
    assert.equal(adapter.lists.length, 5, 'nothing sent while open');
  });
});
