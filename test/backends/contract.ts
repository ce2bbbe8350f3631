/**
 * The backend contract: what every backend must do, run against each one (fake and real).
 * Each test writes under its own fresh path, so suites can share a server.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { BackendError } from '../../src/resilience/errors.ts';
import { extractProperty } from '../../src/backends/property.ts';
import type { Backend, CallContext, FindRequest, SecretData } from '../../src/backends/types.ts';
import type { BackendMetrics, BackendOperation } from '../../src/resilience/metrics.ts';
import { Sensitive } from '../../src/secrets/sensitive.ts';

export interface ContractSubject {
  readonly backend: Backend;
  /** Context of an allowed caller. */
  readonly ctx: CallContext;
  /** A fresh path allowed for `ctx` (unique per call), e.g. `team-a/contract-1a2b-db`. */
  path(name: string): string;
  /** A fresh path `ctx` may read but not write (outside allowedWritePaths), when the setup has one. */
  readOnlyPath?(name: string): string;
  /** Whether older versions stay readable after a write (Vault, memory: yes; Kubernetes: no). */
  readonly keepsOldVersions: boolean;
  /** For backends that can list (`backend.find`): how the setup tags paths and pages. */
  readonly listing?: ListingSubject;
  /** Releases what `makeBackend` created. */
  cleanup?(): Promise<void>;
}

/** What the listing cases need beyond `backend.find`; each case skips what is left out. */
export interface ListingSubject {
  /**
   * Sets these tags on an existing path with the service's own API, as an admin would (Vault
   * `custom_metadata`, AWS and Azure tags, Google and kubernetes labels, memory `setTags`).
   */
  tag?(path: string, tags: Readonly<Record<string, string>>): Promise<void>;
  /** The adapter's page size, when the setup made it small: the paging case lists more than this. */
  readonly pageSize?: number;
  /** List requests sent so far (`countingMetrics().count('list')`), to see the paging happen. */
  listRequests?(): number;
  /** A prefix outside `ctx`'s allowedPaths (another team's folder), when the rules have one. */
  readonly foreignPrefix?: string;
}

/**
 * BackendMetrics that count the requests sent per operation (`createBackends(config, { metrics
 * })`); tenancy refusals, which send nothing, are not counted.
 */
export function countingMetrics(): BackendMetrics & { count(op: BackendOperation): number } {
  const counts = new Map<BackendOperation, number>();
  return {
    request: (_backend, op, outcome) => {
      if (outcome !== 'TenancyDenied') counts.set(op, (counts.get(op) ?? 0) + 1);
    },
    throttled: () => undefined,
    circuitState: () => undefined,
    coalesced: () => undefined,
    count: (op) => counts.get(op) ?? 0,
  };
}

export function secretData(values: Record<string, string>): SecretData {
  return new Sensitive<ReadonlyMap<string, Buffer>>(
    new Map(Object.entries(values).map(([k, v]) => [k, Buffer.from(v, 'utf8')])),
  );
}

function decoded(data: SecretData): Record<string, string> {
  return Object.fromEntries([...data.reveal()].map(([k, v]) => [k, v.toString('utf8')]));
}

async function rejectsWith(promise: Promise<unknown>, code: BackendError['code']): Promise<BackendError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof BackendError, `expected BackendError ${code}, got ${inspect(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.fail(`expected a BackendError ${code}`);
}

export function runBackendContract(name: string, makeBackend: () => Promise<ContractSubject>): void {
  describe(`backend contract: ${name}`, function () {
    let s: ContractSubject;
    const run = randomBytes(3).toString('hex');
    let n = 0;
    const fresh = (label: string) => s.path(`c${run}-${++n}-${label}`);

    before(async function () {
      s = await makeBackend();
    });
    after(async function () {
      await s?.cleanup?.();
      await s?.backend.close();
    });

    it('reports itself reachable', async () => {
      await s.backend.check();
    });

    it('reads back what it wrote, with the new version', async () => {
      const path = fresh('db');
      const written = await s.backend.write(
        { path, data: secretData({ username: 'app', password: 'pw-one' }) },
        s.ctx,
      );
      assert.equal(typeof written.version, 'string');
      assert.notEqual(written.version, '');
      const secret = await s.backend.read({ path }, s.ctx);
      assert.deepEqual(decoded(secret.data), { username: 'app', password: 'pw-one' });
      assert.equal(secret.version, written.version);
    });

    it('gives a new version on every write and reads the latest by default', async () => {
      const path = fresh('rotate');
      const v1 = await s.backend.write({ path, data: secretData({ password: 'pw-one' }) }, s.ctx);
      const v2 = await s.backend.write({ path, data: secretData({ password: 'pw-two' }) }, s.ctx);
      assert.notEqual(v2.version, v1.version);
      const latest = await s.backend.read({ path }, s.ctx);
      assert.equal(latest.version, v2.version);
      assert.deepEqual(decoded(latest.data), { password: 'pw-two' });
    });

    it('reads a pinned version', async () => {
      const path = fresh('pinned');
      const v1 = await s.backend.write({ path, data: secretData({ password: 'pw-one' }) }, s.ctx);
      const v2 = await s.backend.write({ path, data: secretData({ password: 'pw-two' }) }, s.ctx);
      const current = await s.backend.read({ path, version: v2.version }, s.ctx);
      assert.deepEqual(decoded(current.data), { password: 'pw-two' });
      assert.equal(current.version, v2.version);
      if (s.keepsOldVersions) {
        const old = await s.backend.read({ path, version: v1.version }, s.ctx);
        assert.deepEqual(decoded(old.data), { password: 'pw-one' });
        assert.equal(old.version, v1.version);
      } else {
        await rejectsWith(s.backend.read({ path, version: v1.version }, s.ctx), 'NotFound');
      }
    });

    it('extracts a property, and a path into a JSON value', async () => {
      const path = fresh('props');
      await s.backend.write(
        {
          path,
          data: secretData({
            password: 'pw-x',
            config: '{"db":{"port":5432,"user":"app"}}',
            'tls.crt': 'CERT',
          }),
        },
        s.ctx,
      );
      const secret = await s.backend.read({ path }, s.ctx);
      assert.equal(extractProperty(secret, 'password').reveal().toString(), 'pw-x');
      assert.equal(extractProperty(secret, 'tls.crt').reveal().toString(), 'CERT');
      assert.equal(extractProperty(secret, 'config.db.user').reveal().toString(), 'app');
      assert.equal(extractProperty(secret, 'config.db.port').reveal().toString(), '5432');
      assert.equal(extractProperty(secret, 'config.db').reveal().toString(), '{"port":5432,"user":"app"}');
      const missing = (() => {
        try {
          extractProperty(secret, 'nope', path);
        } catch (err) {
          return err;
        }
      })();
      assert.ok(missing instanceof BackendError && missing.code === 'NotFound');
      assert.match(missing.message, /keys: config, password, tls\.crt/);
      assert.equal(missing.message.includes('pw-x'), false);
    });

    it('answers NotFound for a path that does not exist', async () => {
      const err = await rejectsWith(s.backend.read({ path: fresh('missing') }, s.ctx), 'NotFound');
      assert.equal(err.transient, false);
      assert.equal(err.backend, s.backend.name);
    });

    it('answers NotFound for a version that does not exist', async () => {
      const path = fresh('noversion');
      await s.backend.write({ path, data: secretData({ a: '1' }) }, s.ctx);
      await rejectsWith(s.backend.read({ path, version: '999999' }, s.ctx), 'NotFound');
    });

    it('writes with check-and-set only over the expected version (Conflict otherwise)', async () => {
      const path = fresh('cas');
      const v1 = await s.backend.write({ path, data: secretData({ a: '1' }), cas: '0' }, s.ctx);
      await rejectsWith(s.backend.write({ path, data: secretData({ a: 'x' }), cas: '0' }, s.ctx), 'Conflict');
      const v2 = await s.backend.write({ path, data: secretData({ a: '2' }), cas: v1.version }, s.ctx);
      await rejectsWith(
        s.backend.write({ path, data: secretData({ a: 'y' }), cas: v1.version }, s.ctx),
        'Conflict',
      );
      const latest = await s.backend.read({ path }, s.ctx);
      assert.equal(latest.version, v2.version);
      assert.deepEqual(decoded(latest.data), { a: '2' });
    });

    it('keeps values out of what it prints', async () => {
      const path = fresh('print');
      await s.backend.write({ path, data: secretData({ password: 'pw-canary-77' }) }, s.ctx);
      const secret = await s.backend.read({ path }, s.ctx);
      for (const text of [JSON.stringify(secret), inspect(secret, { depth: 10 }), String(secret.data)]) {
        assert.equal(text.includes('pw-canary-77'), false);
      }
    });

    it('refuses a namespace its tenancy rules do not allow, before any request', async () => {
      const err = await rejectsWith(
        s.backend.read({ path: fresh('tenancy') }, { namespace: 'not-allowed-ns' }),
        'TenancyDenied',
      );
      assert.match(err.message, /allowedNamespaces/);
    });

    it('refuses a write outside allowedWritePaths before any request, and writes nothing', async function () {
      if (!s.readOnlyPath) this.skip();
      const path = s.readOnlyPath(`c${run}-${++n}-readonly`);
      const err = await rejectsWith(
        s.backend.write({ path, data: secretData({ a: '1' }) }, s.ctx),
        'TenancyDenied',
      );
      assert.match(err.message, /is not writable for namespace .* \(allowedWritePaths: /);
      await rejectsWith(s.backend.read({ path }, s.ctx), 'NotFound');
    });

    runListingCases(() => s, fresh);
    const readOnly = () => s.readOnlyPath?.(`c${run}-${++n}-readonly`);
    runRestoreCases(() => s, fresh, readOnly);
    runDeleteCases(() => s, fresh, readOnly);
  });
}

type Fresh = (label: string) => string;

/** The backend's find, or a skip when it cannot list. */
function finder(ctx: Mocha.Context, s: ContractSubject): NonNullable<Backend['find']> {
  const find = s.backend.find;
  if (!find) ctx.skip();
  return (req, c) => find.call(s.backend, req, c);
}

/** `count` fresh paths under one fresh prefix: `<prefix>a`, `<prefix>b`, ... (names any backend takes). */
async function writeUnder(
  s: ContractSubject,
  fresh: Fresh,
  count: number,
): Promise<{ prefix: string; paths: string[] }> {
  const prefix = `${fresh('list')}-`;
  const paths = Array.from({ length: count }, (_, i) => `${prefix}${String.fromCharCode(97 + (i % 26))}${i}`);
  for (const path of paths) await s.backend.write({ path, data: secretData({ v: path }) }, s.ctx);
  return { prefix, paths: paths.sort() };
}

function runListingCases(subject: () => ContractSubject, fresh: Fresh): void {
  describe('listing (find)', function () {
    const find = async (ctx: Mocha.Context, req: Omit<FindRequest, 'maxItems'> & { maxItems?: number }) =>
      finder(ctx, subject())({ maxItems: 100, ...req }, { ...subject().ctx, maxAgeMs: 0 });

    it('finds the paths under a prefix, sorted, and none outside it', async function () {
      const s = subject();
      const { prefix, paths } = await writeUnder(s, fresh, 3);
      const outside = fresh('lisx');
      await s.backend.write({ path: outside, data: secretData({ v: '1' }) }, s.ctx);
      const found = await find(this, { prefix });
      assert.deepEqual(found, { paths, truncated: false, refused: 0 });
    });

    it('filters by a regular expression on the whole path', async function () {
      const { prefix, paths } = await writeUnder(subject(), fresh, 3);
      const found = await find(this, { prefix, name: '.*-[ac][0-9]+' });
      assert.deepEqual(found.paths, [paths[0], paths[2]]);
      // The whole path must match: a pattern for a part of it finds nothing.
      assert.deepEqual((await find(this, { prefix, name: '[ac][0-9]+' })).paths, []);
    });

    it('returns at most maxItems and says there were more', async function () {
      const { prefix, paths } = await writeUnder(subject(), fresh, 3);
      const found = await find(this, { prefix, maxItems: 2 });
      assert.equal(found.truncated, true);
      assert.equal(found.paths.length, 2);
      for (const path of found.paths) assert.ok(paths.includes(path), `${path} is not one written`);
    });

    it('finds by tags: every pair must match', async function () {
      const s = subject();
      const tag = s.listing?.tag;
      if (!tag) this.skip();
      const { prefix, paths } = await writeUnder(s, fresh, 3);
      const [gold, plain] = paths as [string, string, string];
      await tag.call(s.listing, gold, { team: 'pay', tier: 'gold' });
      await tag.call(s.listing, plain, { team: 'pay' });
      assert.deepEqual((await find(this, { prefix, tags: { team: 'pay' } })).paths, [gold, plain]);
      assert.deepEqual((await find(this, { prefix, tags: { team: 'pay', tier: 'gold' } })).paths, [gold]);
      assert.deepEqual((await find(this, { prefix, tags: { team: 'none' } })).paths, []);
    });

    it('walks more than one page', async function () {
      const s = subject();
      const pageSize = s.listing?.pageSize;
      if (pageSize === undefined) this.skip();
      const { prefix, paths } = await writeUnder(s, fresh, 2 * pageSize + 1);
      const before = s.listing?.listRequests?.();
      const found = await find(this, { prefix });
      assert.deepEqual(found.paths, paths);
      const after = s.listing?.listRequests?.();
      if (before !== undefined && after !== undefined) assert.ok(after - before > 1, 'one list request');
    });

    it('sees a write under the prefix at once (cached finds are forgotten)', async function () {
      const s = subject();
      const find = finder(this, s);
      const { prefix, paths } = await writeUnder(s, fresh, 1);
      assert.deepEqual((await find({ prefix, maxItems: 10 }, s.ctx)).paths, paths);
      const added = `${prefix}z`;
      await s.backend.write({ path: added, data: secretData({ v: '1' }) }, s.ctx);
      assert.deepEqual((await find({ prefix, maxItems: 10 }, s.ctx)).paths, [...paths, added]);
    });

    it("refuses a prefix outside the caller's paths, or a namespace not allowed, before any request", async function () {
      const s = subject();
      const requests = () => s.listing?.listRequests?.() ?? 0;
      const before = requests();
      if (s.listing?.foreignPrefix !== undefined) {
        const err = await rejectsWith(find(this, { prefix: s.listing.foreignPrefix }), 'TenancyDenied');
        assert.match(err.message, /^prefix ".*" is not inside the paths allowed/);
      }
      await rejectsWith(
        finder(this, s)({ prefix: '', maxItems: 10 }, { namespace: 'not-allowed-ns' }),
        'TenancyDenied',
      );
      assert.equal(requests(), before);
    });

    it('refuses a name that is not RE2 (backreference, lookahead)', async function () {
      for (const name of ['(a)\\1', '(?=a).*']) {
        const err = await rejectsWith(find(this, { prefix: fresh('re'), name }), 'InvalidRequest');
        assert.match(err.message, /RE2/);
      }
    });
  });
}

function runRestoreCases(
  subject: () => ContractSubject,
  fresh: Fresh,
  readOnly: () => string | undefined,
): void {
  describe('restore (rollback)', function () {
    const restorer = (ctx: Mocha.Context, s: ContractSubject) => {
      const restore = s.backend.restore;
      if (!restore || !s.keepsOldVersions) ctx.skip();
      return restore.bind(s.backend);
    };

    it('makes an earlier value the newest, at the version it returns', async function () {
      const s = subject();
      const restore = restorer(this, s);
      const path = fresh('restore');
      const v1 = await s.backend.write({ path, data: secretData({ password: 'pw-one' }) }, s.ctx);
      const v2 = await s.backend.write({ path, data: secretData({ password: 'pw-two' }) }, s.ctx);
      const restored = await restore({ path, version: v1.version }, s.ctx);
      assert.notEqual(restored.version, v2.version);
      const latest = await s.backend.read({ path }, s.ctx);
      assert.equal(latest.version, restored.version);
      assert.deepEqual(decoded(latest.data), { password: 'pw-one' });
    });

    it('restores by check-and-set: over a version that is not the latest, Conflict and no change', async function () {
      const s = subject();
      const restore = restorer(this, s);
      const path = fresh('restorecas');
      const v1 = await s.backend.write({ path, data: secretData({ password: 'pw-one' }) }, s.ctx);
      const v2 = await s.backend.write({ path, data: secretData({ password: 'pw-two' }) }, s.ctx);
      await rejectsWith(restore({ path, version: v1.version, cas: v1.version }, s.ctx), 'Conflict');
      const latest = await s.backend.read({ path }, s.ctx);
      assert.equal(latest.version, v2.version);
      assert.deepEqual(decoded(latest.data), { password: 'pw-two' });
      const restored = await restore({ path, version: v1.version, cas: v2.version }, s.ctx);
      assert.deepEqual(decoded((await s.backend.read({ path }, s.ctx)).data), { password: 'pw-one' });
      assert.equal((await s.backend.read({ path }, s.ctx)).version, restored.version);
    });

    it('refuses a restore outside allowedWritePaths before any request', async function () {
      const s = subject();
      const restore = s.backend.restore;
      const path = readOnly();
      if (!restore || path === undefined) this.skip();
      const err = await rejectsWith(restore.call(s.backend, { path, version: '1' }, s.ctx), 'TenancyDenied');
      assert.match(err.message, /allowedWritePaths/);
    });
  });
}

function runDeleteCases(
  subject: () => ContractSubject,
  fresh: Fresh,
  readOnly: () => string | undefined,
): void {
  describe('delete', function () {
    const deleter = (ctx: Mocha.Context, s: ContractSubject) => {
      const remove = s.backend.delete;
      if (!remove) ctx.skip();
      return remove.bind(s.backend);
    };

    it('deletes the latest version: reads answer NotFound', async function () {
      const s = subject();
      const remove = deleter(this, s);
      const path = fresh('del');
      await s.backend.write({ path, data: secretData({ password: 'pw-one' }) }, s.ctx);
      await s.backend.write({ path, data: secretData({ password: 'pw-two' }) }, s.ctx);
      await remove({ path, scope: 'latest' }, s.ctx);
      await rejectsWith(s.backend.read({ path }, s.ctx), 'NotFound');
    });

    it('deletes all: reads answer NotFound and a find no longer lists it', async function () {
      const s = subject();
      const remove = deleter(this, s);
      const { prefix, paths } = await writeUnder(s, fresh, 2);
      const [gone, kept] = paths as [string, string];
      await remove({ path: gone, scope: 'all' }, s.ctx);
      await rejectsWith(s.backend.read({ path: gone }, s.ctx), 'NotFound');
      const find = s.backend.find;
      if (find) {
        const found = await find.call(s.backend, { prefix, maxItems: 10 }, { ...s.ctx, maxAgeMs: 0 });
        assert.deepEqual(found.paths, [kept]);
      }
    });

    it('refuses a delete outside allowedWritePaths before any request', async function () {
      const s = subject();
      const remove = deleter(this, s);
      const path = readOnly();
      if (path === undefined) this.skip();
      const err = await rejectsWith(remove({ path, scope: 'all' }, s.ctx), 'TenancyDenied');
      assert.match(err.message, /allowedWritePaths/);
    });
  });
}
