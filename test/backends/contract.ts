/**
 * The backend contract: what every backend must do, run against each one (fake and real).
 * Each test writes under its own fresh path, so suites can share a server.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { BackendError } from '../../src/resilience/errors.ts';
import { extractProperty } from '../../src/backends/property.ts';
import type { Backend, CallContext, SecretData } from '../../src/backends/types.ts';
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
  /** Releases what `makeBackend` created. */
  cleanup?(): Promise<void>;
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
  });
}
