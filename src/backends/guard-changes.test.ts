// GuardedBackend.restore and .delete against a fake adapter: tenancy as a write, the fallback
// restore by read + check-and-set, the adapter's own restore, metrics and forgotten reads.
import assert from 'node:assert/strict';
import { FakeClock } from '../kube/fake-clock.ts';
import { BackendError, checkAndSetFailed } from '../resilience/errors.ts';
import { Sensitive } from '../secrets/sensitive.ts';
import { GuardedBackend } from './guard.ts';
import { errorOf, guardOptions, RecordingMetrics } from './testing.ts';
import type {
  BackendAdapter,
  DeleteRequest,
  ReadRequest,
  RemoteSecret,
  RestoreRequest,
  WriteRequest,
} from './types.ts';

const value = (v: string) => new Sensitive<ReadonlyMap<string, Buffer>>(new Map([['k', Buffer.from(v)]]));

/** Versions 1..n of one path, values `v1`..`vn`; every call is logged. */
class VersionedAdapter implements BackendAdapter {
  readonly name = 'fake';
  readonly type = 'fake';
  readonly calls: string[] = [];
  readonly values: string[] = ['v1', 'v2', 'v3'];
  deleted: DeleteRequest[] = [];

  identity(): string {
    return 'id';
  }
  async read(req: ReadRequest): Promise<RemoteSecret> {
    this.calls.push(`read ${req.version ?? 'latest'}`);
    const n = req.version === undefined ? this.values.length : Number(req.version);
    const v = this.values[n - 1];
    if (v === undefined) throw new BackendError('NotFound', `no version ${n}`);
    return { data: value(v), version: String(n) };
  }
  async write(req: WriteRequest): Promise<{ version: string }> {
    this.calls.push(`write cas=${req.cas ?? '-'}`);
    if (req.cas !== undefined && req.cas !== String(this.values.length)) {
      throw checkAndSetFailed('"x"', req.cas, `found ${this.values.length}`, this.name);
    }
    this.values.push(req.data.reveal().get('k')!.toString());
    return { version: String(this.values.length) };
  }
  async delete(req: DeleteRequest): Promise<void> {
    this.calls.push(`delete ${req.scope}`);
    this.deleted.push(req);
  }
  async check(): Promise<void> {}
  async close(): Promise<void> {}
}

const options = () =>
  guardOptions({ allowedWritePaths: ['{namespace}/rotated/*'], coalesce: { ttl: 60_000 } });

function setup(adapter: BackendAdapter = new VersionedAdapter()) {
  const metrics = new RecordingMetrics();
  const backend = new GuardedBackend(adapter, options(), { clock: new FakeClock(), metrics });
  return { metrics, backend };
}

const ctx = { namespace: 'team-a' };
const path = 'team-a/rotated/db';

describe('GuardedBackend.restore', () => {
  it('reads the version and writes it by check-and-set over the latest (Vault KV semantics)', async () => {
    const adapter = new VersionedAdapter();
    const { backend, metrics } = setup(adapter);
    assert.deepEqual(await backend.restore({ path, version: '1' }, ctx), { version: '4' });
    assert.deepEqual(adapter.calls, ['read 1', 'read latest', 'write cas=3']);
    assert.equal(adapter.values.at(-1), 'v1');
    assert.deepEqual(metrics.requests, ['fake read success', 'fake read success', 'fake restore success']);
  });

  it("writes over the caller's cas when given: a stale one is a Conflict and changes nothing", async () => {
    const adapter = new VersionedAdapter();
    const { backend } = setup(adapter);
    const err = await errorOf(backend.restore({ path, version: '1', cas: '2' }, ctx));
    assert.equal(err.code, 'Conflict');
    assert.deepEqual(adapter.calls, ['read 1', 'write cas=2']);
    assert.equal(adapter.values.length, 3);
  });

  it('refuses a path outside allowedWritePaths before any call, readable or not', async () => {
    const adapter = new VersionedAdapter();
    const { backend, metrics } = setup(adapter);
    for (const p of ['team-a/db', 'team-b/rotated/db']) {
      assert.equal((await errorOf(backend.restore({ path: p, version: '1' }, ctx))).code, 'TenancyDenied');
    }
    assert.deepEqual(adapter.calls, []);
    assert.deepEqual(metrics.requests, ['fake restore TenancyDenied', 'fake restore TenancyDenied']);
  });

  it("uses the adapter's own restore when it has one (AWS moves AWSCURRENT)", async () => {
    const adapter = Object.assign(new VersionedAdapter(), {
      restore: async (req: RestoreRequest) => {
        adapter.calls.push(`restore ${req.version}`);
        return { version: req.version };
      },
    });
    const { backend, metrics } = setup(adapter);
    assert.deepEqual(await backend.restore({ path, version: '2' }, ctx), { version: '2' });
    assert.deepEqual(adapter.calls, ['restore 2']);
    assert.deepEqual(metrics.requests, ['fake restore success']);
  });

  it('forgets what was read of the path, even when the restore fails', async () => {
    const adapter = new VersionedAdapter();
    const { backend } = setup(adapter);
    await backend.read({ path }, ctx);
    await backend.read({ path }, ctx);
    assert.equal(adapter.calls.length, 1, 'kept');
    await errorOf(backend.restore({ path, version: '9' }, ctx));
    await backend.restore({ path, version: '1' }, ctx);
    const latest = await backend.read({ path }, ctx);
    assert.equal(latest.data.reveal().get('k')?.toString(), 'v1');
  });
});

describe('GuardedBackend.delete', () => {
  it('deletes through the guard with write tenancy, and forgets what was read', async () => {
    const adapter = new VersionedAdapter();
    const { backend, metrics } = setup(adapter);
    assert.equal(
      (await errorOf(backend.delete!({ path: 'team-a/db', scope: 'all' }, ctx))).code,
      'TenancyDenied',
    );
    assert.deepEqual(adapter.deleted, []);
    await backend.read({ path }, ctx);
    await backend.delete!({ path, scope: 'latest' }, ctx);
    await backend.read({ path }, ctx);
    assert.deepEqual(adapter.calls, ['read latest', 'delete latest', 'read latest']);
    assert.deepEqual(metrics.requests, [
      'fake delete TenancyDenied',
      'fake read success',
      'fake delete success',
      'fake read success',
    ]);
  });
});
