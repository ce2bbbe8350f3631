import assert from 'node:assert/strict';
import { loadConfig } from '../../config/load.ts';
import type { VaultBackendConfig } from '../../config/schema.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import { FakeClock } from '../../kube/fake-clock.ts';
import { BackendError } from '../../resilience/errors.ts';
import type { KubeSecret, SecretsApi, TokenSource } from '../kube-client.ts';
import type { AuthResult, VaultApi } from './api.ts';
import type { ListRequest } from '../types.ts';
import { VaultBackend, type VaultBackendDeps } from './backend.ts';

/** An in-memory Vault: tokens issued by logins, a set of revoked tokens, KV v2 per path. */
class FakeVault implements VaultApi {
  readonly calls: string[] = [];
  readonly logins: { mount: string; body: Record<string, string> }[] = [];
  readonly revoked = new Set<string>();
  /** Paths the tokens may not read (policy). */
  readonly denied = new Set<string>();
  readonly kv = new Map<string, { data: Record<string, unknown>; version: number }[]>();
  sealed = false;
  #n = 0;

  #authorize(token: Sensitive<string>, path?: string): void {
    if (this.revoked.has(token.reveal()))
      throw new BackendError('PermissionDenied', 'vault: permission denied (HTTP 403)');
    if (path && this.denied.has(path))
      throw new BackendError('PermissionDenied', 'vault: permission denied (HTTP 403)');
  }
  async kvRead(mount: string, path: string, version: number | undefined, token: Sensitive<string>) {
    this.calls.push(`read ${mount}/${path}${version ? `@${version}` : ''} as ${token.reveal()}`);
    this.#authorize(token, path);
    const versions = this.kv.get(path);
    const v = version === undefined ? versions?.at(-1) : versions?.find((x) => x.version === version);
    if (!v) throw new BackendError('NotFound', `vault read "${path}": not found (HTTP 404)`);
    return v;
  }
  async kvWrite(
    mount: string,
    path: string,
    data: Readonly<Record<string, string>>,
    cas: number | undefined,
    token: Sensitive<string>,
  ) {
    this.calls.push(`write ${mount}/${path} cas=${cas} as ${token.reveal()}`);
    this.#authorize(token, path);
    const versions = this.kv.get(path) ?? [];
    const version = versions.length + 1;
    versions.push({ data: { ...data }, version });
    this.kv.set(path, versions);
    return { version };
  }
  /** Keys of a folder, as KV v2 lists them: secrets and sub-folders ("x/") one level down. */
  async kvList(mount: string, folder: string, token: Sensitive<string>) {
    this.calls.push(`list ${mount}/${folder}`);
    this.#authorize(token, folder);
    const keys = new Set<string>();
    for (const path of this.kv.keys()) {
      if (!path.startsWith(folder)) continue;
      const rest = path.slice(folder.length);
      keys.add(rest.includes('/') ? rest.slice(0, rest.indexOf('/') + 1) : rest);
    }
    return [...keys];
  }
  async kvMetadata(mount: string, path: string, token: Sensitive<string>) {
    this.calls.push(`metadata ${mount}/${path}`);
    this.#authorize(token, path);
    if (!this.kv.has(path)) throw new BackendError('NotFound', `vault read metadata of "${path}": not found`);
    return {
      customMetadata: this.tags.get(path) ?? {},
      currentVersion: this.kv.get(path)?.at(-1)?.version ?? 0,
      latestDeleted: this.deleted.has(path),
    };
  }
  async kvDelete(mount: string, path: string, scope: 'latest' | 'all', token: Sensitive<string>) {
    this.calls.push(`delete ${scope} ${mount}/${path}`);
    this.#authorize(token, path);
    if (scope === 'all') this.kv.delete(path);
    else this.deleted.add(path);
  }
  /** custom_metadata per path. */
  readonly tags = new Map<string, Record<string, string>>();
  /** Paths whose newest version is soft-deleted. */
  readonly deleted = new Set<string>();
  async login(mount: string, body: Sensitive<Readonly<Record<string, string>>>): Promise<AuthResult> {
    this.logins.push({ mount, body: { ...body.reveal() } });
    this.calls.push(`login ${mount}`);
    return { token: new Sensitive(`hvs.t${++this.#n}`), leaseDurationS: 3600, renewable: true };
  }
  async renewSelf(token: Sensitive<string>): Promise<AuthResult> {
    this.#authorize(token);
    return { token, leaseDurationS: 3600, renewable: true };
  }
  async lookupSelf(token: Sensitive<string>) {
    this.calls.push(`lookup-self as ${token.reveal()}`);
    this.#authorize(token);
    return { ttlS: 100, renewable: true };
  }
  async health() {
    return { initialized: true, sealed: this.sealed, standby: false };
  }
  close(): void {}
}

class FakeTokens implements TokenSource {
  readonly requests: string[] = [];
  readonly missing = new Set<string>();
  async getServiceAccountToken(
    namespace: string,
    name: string,
    audiences: readonly string[] | undefined,
    seconds: number,
  ) {
    this.requests.push(`${namespace}/${name} aud=${audiences?.join(',') ?? '-'} exp=${seconds}`);
    if (this.missing.has(`${namespace}/${name}`)) {
      throw new BackendError(
        'NotFound',
        `request a token for ServiceAccount ${namespace}/${name}: not found (HTTP 404)`,
      );
    }
    return new Sensitive(`jwt-for-${namespace}-${name}`);
  }
}

async function vaultConfig(auth: string): Promise<VaultBackendConfig> {
  const config = await loadConfig(
    {
      text: `backends: [{name: vault, type: vault, address: "https://vault:8200", allowedNamespaces: ["*"], auth: ${auth}}]`,
    },
    { env: {} },
  );
  return config.backends[0] as VaultBackendConfig;
}

async function make(auth: string, deps: Partial<VaultBackendDeps> = {}) {
  const api = new FakeVault();
  const tokens = new FakeTokens();
  const backend = new VaultBackend(await vaultConfig(auth), {
    clock: new FakeClock(),
    operator: { namespace: 'vaultsync-system', serviceAccountName: 'vaultsync' },
    api,
    tokenSource: tokens,
    ...deps,
  });
  return { api, tokens, backend };
}

const data = (v: Record<string, string>) =>
  new Sensitive<ReadonlyMap<string, Buffer>>(new Map(Object.entries(v).map(([k, x]) => [k, Buffer.from(x)])));

describe('VaultBackend', () => {
  describe('with Kubernetes auth', () => {
    const auth = '{kubernetes: {role: "vs-{namespace}", audiences: [vault], tokenExpiration: 15m}}';

    it("logs in as the resource namespace's ServiceAccount with the templated role", async () => {
      const { api, tokens, backend } = await make(auth);
      await backend.write({ path: 'team-a/db', data: data({ a: '1' }) }, { namespace: 'team-a' });
      await backend.read({ path: 'team-a/db' }, { namespace: 'team-a' });
      assert.deepEqual(tokens.requests, ['team-a/vaultsync aud=vault exp=900']);
      assert.deepEqual(api.logins, [
        { mount: 'kubernetes', body: { role: 'vs-team-a', jwt: 'jwt-for-team-a-vaultsync' } },
      ]);
      assert.equal(backend.identity({ namespace: 'team-a' }), 'team-a/vaultsync');
      assert.equal(backend.identity({ namespace: 'team-a', serviceAccount: 'app' }), 'team-a/app');
    });

    it('logs in once per namespace and ServiceAccount', async () => {
      const { api, backend } = await make(auth);
      api.kv.set('p', [{ data: { a: 1 }, version: 1 }]);
      for (const ns of ['team-a', 'team-b', 'team-a', 'team-b'])
        await backend.read({ path: 'p' }, { namespace: ns });
      await backend.read({ path: 'p' }, { namespace: 'team-a', serviceAccount: 'app' });
      assert.equal(api.logins.length, 3);
    });

    it('uses the operator ServiceAccount when configured so, with audience vault by default', async () => {
      const { tokens, backend } = await make('{kubernetes: {role: vaultsync, serviceAccount: operator}}');
      await assert.rejects(backend.read({ path: 'x' }, { namespace: 'team-a', serviceAccount: 'ignored' }));
      assert.deepEqual(tokens.requests, ['vaultsync-system/vaultsync aud=vault exp=600']);
      assert.equal(backend.identity({ namespace: 'team-b' }), 'vaultsync-system/vaultsync');
    });

    it('says what to do when the ServiceAccount does not exist', async () => {
      const { tokens, backend } = await make(auth);
      tokens.missing.add('team-a/vaultsync');
      await assert.rejects(backend.read({ path: 'x' }, { namespace: 'team-a' }), (err: unknown) => {
        assert.ok(err instanceof BackendError);
        assert.equal(err.code, 'Unauthenticated');
        assert.equal(err.transient, false);
        assert.match(err.message, /^ServiceAccount team-a\/vaultsync not found; create it/);
        return true;
      });
    });

    it('refuses a ServiceAccount name that is not one', async () => {
      const { backend } = await make(auth);
      assert.throws(
        () => backend.identity({ namespace: 'team-a', serviceAccount: 'Bad Name' }),
        (err: unknown) => err instanceof BackendError && err.code === 'InvalidRequest',
      );
    });
  });

  describe('when Vault refuses a cached token', () => {
    it('checks the token, logs in again once and retries', async () => {
      const { api, backend } = await make('{kubernetes: {role: r}}');
      api.kv.set('team-a/db', [{ data: { a: '1' }, version: 1 }]);
      const ctx = { namespace: 'team-a' };
      await backend.read({ path: 'team-a/db' }, ctx);
      api.revoked.add('hvs.t1');
      const secret = await backend.read({ path: 'team-a/db' }, ctx);
      assert.equal(secret.version, '1');
      assert.deepEqual(api.calls, [
        'login kubernetes',
        'read secret/team-a/db as hvs.t1',
        'read secret/team-a/db as hvs.t1',
        'lookup-self as hvs.t1',
        'login kubernetes',
        'read secret/team-a/db as hvs.t2',
      ]);
    });

    it('does not log in again when the token is valid but lacks the policy', async () => {
      const { api, backend } = await make('{kubernetes: {role: r}}');
      api.kv.set('ok', [{ data: {}, version: 1 }]);
      const ctx = { namespace: 'team-a' };
      await backend.read({ path: 'ok' }, ctx);
      api.denied.add('secret-of-others');
      await assert.rejects(
        backend.read({ path: 'secret-of-others' }, ctx),
        (e: unknown) => e instanceof BackendError && e.code === 'PermissionDenied',
      );
      assert.equal(api.logins.length, 1);
      assert.equal(api.calls.at(-1), 'lookup-self as hvs.t1');
    });

    it('does not retry a token it just got', async () => {
      const { api, backend } = await make('{kubernetes: {role: r}}');
      api.denied.add('x');
      await assert.rejects(backend.read({ path: 'x' }, { namespace: 'team-a' }));
      assert.deepEqual(api.calls, ['login kubernetes', 'read secret/x as hvs.t1']);
    });

    it('re-reads a token file after the token was revoked', async () => {
      let file = 'hvs.file1';
      const { api, backend } = await make('{token: {tokenFile: /var/run/vault/token}}', {
        readSecretFile: async (path) => {
          assert.equal(path, '/var/run/vault/token');
          return new Sensitive(file);
        },
      });
      api.kv.set('p', [{ data: { a: 1 }, version: 1 }]);
      await backend.read({ path: 'p' }, { namespace: 'n' });
      api.revoked.add('hvs.file1');
      file = 'hvs.file2';
      await backend.read({ path: 'p' }, { namespace: 'n' });
      assert.equal(api.calls.at(-1), 'read secret/p as hvs.file2');
    });
  });

  describe('with AppRole', () => {
    it('reads the secret_id from a Secret and logs in once', async () => {
      const secrets: SecretsApi = {
        get: async (ns, name): Promise<KubeSecret | undefined> =>
          ns === 'vaultsync-system' && name === 'approle'
            ? { metadata: { name }, data: { 'secret-id': Buffer.from('sid-123\n').toString('base64') } }
            : undefined,
        create: async () => assert.fail(),
        patchData: async () => assert.fail(),
        list: async () => assert.fail(),
        delete: async () => assert.fail(),
        ping: async () => undefined,
      };
      const { api, backend } = await make(
        '{appRole: {roleId: rid, secretIdRef: {name: approle, key: secret-id}}}',
        { secrets },
      );
      api.kv.set('p', [{ data: { a: 1 }, version: 1 }]);
      await backend.read({ path: 'p' }, { namespace: 'a' });
      await backend.read({ path: 'p' }, { namespace: 'b' });
      assert.deepEqual(api.logins, [{ mount: 'approle', body: { role_id: 'rid', secret_id: 'sid-123' } }]);
    });

    it('fails with Unauthenticated when the secret_id Secret lacks the key', async () => {
      const secrets: SecretsApi = {
        get: async (_ns, name) => ({ metadata: { name }, data: {} }),
        create: async () => assert.fail(),
        patchData: async () => assert.fail(),
        list: async () => assert.fail(),
        delete: async () => assert.fail(),
        ping: async () => undefined,
      };
      const { backend } = await make(
        '{appRole: {roleId: rid, secretIdRef: {name: approle, key: sid, namespace: ops}}}',
        { secrets },
      );
      await assert.rejects(backend.read({ path: 'p' }, { namespace: 'a' }), (err: unknown) => {
        assert.ok(err instanceof BackendError);
        assert.equal(err.code, 'Unauthenticated');
        assert.match(err.message, /Secret ops\/approle has no key "sid"/);
        return true;
      });
    });
  });

  describe('reads and writes', () => {
    it('returns every key, JSON-encoding structured values, with the version', async () => {
      const { api, backend } = await make('{token: {value: hvs.root}}');
      api.kv.set('p', [
        { data: { a: 'x' }, version: 1 },
        { data: { a: 'y', nested: { k: [1, 2] }, n: 5 }, version: 2 },
      ]);
      const latest = await backend.read({ path: 'p' }, { namespace: 'n' });
      assert.equal(latest.version, '2');
      assert.deepEqual(Object.fromEntries([...latest.data.reveal()].map(([k, v]) => [k, v.toString()])), {
        a: 'y',
        nested: '{"k":[1,2]}',
        n: '5',
      });
      const pinned = await backend.read({ path: 'p', version: '1' }, { namespace: 'n' });
      assert.equal(pinned.data.reveal().get('a')?.toString(), 'x');
    });

    it('refuses a version that is not a positive integer, and bytes that are not UTF-8', async () => {
      const { api, backend } = await make('{token: {value: hvs.root}}');
      for (const version of ['0', '-1', 'latest', '1.5']) {
        await assert.rejects(
          backend.read({ path: 'p', version }, { namespace: 'n' }),
          (e: unknown) => e instanceof BackendError && e.code === 'InvalidRequest',
        );
      }
      const binary = new Sensitive<ReadonlyMap<string, Buffer>>(new Map([['k', Buffer.from([0xc3, 0x28])]]));
      await assert.rejects(backend.write({ path: 'p', data: binary }, { namespace: 'n' }), /not UTF-8/);
      assert.equal(api.calls.length, 0);
    });

    it('passes check-and-set through', async () => {
      const { api, backend } = await make('{token: {value: hvs.root}}');
      await backend.write({ path: 'p', data: data({ a: '1' }), cas: '0' }, { namespace: 'n' });
      assert.equal(api.calls[0], 'write secret/p cas=0 as hvs.root');
    });

    it('reports a sealed Vault as Unavailable', async () => {
      const { api, backend } = await make('{token: {value: hvs.root}}');
      await backend.check();
      api.sealed = true;
      await assert.rejects(
        backend.check(),
        (e: unknown) => e instanceof BackendError && e.code === 'Unavailable' && /sealed/.test(e.message),
      );
    });
  });

  describe('list and delete', () => {
    const ctx = { namespace: 'n' };
    async function seeded() {
      const made = await make('{token: {value: hvs.root}}');
      for (const path of ['t/db', 't/dbs/one', 't/dbs/deep/a/b/c', 't/web', 't/x/y', 'other/db']) {
        made.api.kv.set(path, [{ data: { a: '1' }, version: 1 }]);
      }
      made.api.tags.set('t/db', { team: 'a', tier: 'db' });
      made.api.tags.set('t/dbs/one', { team: 'a', tier: 'db', extra: 'x' });
      made.api.tags.set('t/web', { team: 'a' });
      return made;
    }
    async function all(backend: VaultBackend, req: ListRequest) {
      const found: string[] = [];
      let page: string | undefined;
      let pages = 0;
      do {
        const answer = await backend.list(req, page, ctx);
        found.push(...answer.paths);
        page = answer.next;
        pages++;
      } while (page !== undefined);
      return { found: found.sort(), pages };
    }

    it('walks folders one page each, depth first, under the prefix only', async () => {
      const { api, backend } = await seeded();
      const { found, pages } = await all(backend, { prefix: 't/' });
      assert.deepEqual(found, ['t/db', 't/dbs/deep/a/b/c', 't/dbs/one', 't/web', 't/x/y']);
      assert.equal(pages, 6);
      assert.deepEqual(
        api.calls.filter((c) => c.startsWith('list')),
        ['t/', 't/dbs/', 't/dbs/deep/', 't/dbs/deep/a/', 't/dbs/deep/a/b/', 't/x/'].map(
          (f) => `list secret/${f}`,
        ),
      );
      assert.equal(
        api.calls.some((c) => c.startsWith('metadata') || c.startsWith('read')),
        false,
      );
    });

    it('lists the parent folder of a prefix that is not one, keeping names that start with it', async () => {
      const { api, backend } = await seeded();
      assert.deepEqual((await all(backend, { prefix: 't/db' })).found, [
        't/db',
        't/dbs/deep/a/b/c',
        't/dbs/one',
      ]);
      assert.equal(api.calls.includes('list secret/t/x/'), false);
    });

    it('descends at most maxDepth folder levels below the prefix', async () => {
      const { backend } = await seeded();
      assert.deepEqual((await all(backend, { prefix: 't/', maxDepth: 0 })).found, ['t/db', 't/web']);
      assert.deepEqual((await all(backend, { prefix: 't/', maxDepth: 1 })).found, [
        't/db',
        't/dbs/one',
        't/web',
        't/x/y',
      ]);
    });

    it('keeps only secrets whose custom_metadata holds every tag', async () => {
      const { api, backend } = await seeded();
      const { found } = await all(backend, { prefix: 't/', tags: { team: 'a', tier: 'db' } });
      assert.deepEqual(found, ['t/db', 't/dbs/one']);
      assert.ok(api.calls.includes('metadata secret/t/web'));
      assert.equal(
        api.calls.some((c) => c.startsWith('read')),
        false,
        'never reads values',
      );
    });

    it('refuses a page token that would list outside the prefix', async () => {
      const { api, backend } = await seeded();
      for (const token of ['[["other/",1]]', '[["t/x/",9]]', 'nonsense', '[]']) {
        await assert.rejects(
          backend.list({ prefix: 't/' }, token, ctx),
          (e: unknown) => e instanceof BackendError && e.code === 'InvalidRequest',
        );
      }
      assert.equal(api.calls.length, 0);
    });

    it('deletes the newest version, or all; a missing path or a deleted newest version is NotFound', async () => {
      const { api, backend } = await seeded();
      await backend.delete({ path: 't/db', scope: 'latest' }, ctx);
      assert.deepEqual(api.calls.slice(-2), ['metadata secret/t/db', 'delete latest secret/t/db']);
      for (const path of ['t/db', 't/missing']) {
        await assert.rejects(
          backend.delete({ path, scope: 'latest' }, ctx),
          (e: unknown) => e instanceof BackendError && e.code === 'NotFound',
        );
      }
      await backend.delete({ path: 't/db', scope: 'all' }, ctx);
      assert.equal(api.kv.has('t/db'), false);
      assert.equal(api.calls.filter((c) => c.startsWith('delete')).length, 2);
    });

    it('restores a version as written (structured values stay so), by check-and-set over the current version even when it is deleted', async () => {
      const { api, backend } = await seeded();
      api.kv.set('t/r', [
        { data: { a: 'one', nested: { k: [1] } }, version: 1 },
        { data: { a: 'two' }, version: 2 },
      ]);
      api.deleted.add('t/r');
      assert.deepEqual(await backend.restore({ path: 't/r', version: '1' }, ctx), { version: 3 + '' });
      assert.deepEqual(api.calls.slice(-3), [
        'read secret/t/r@1 as hvs.root',
        'metadata secret/t/r',
        'write secret/t/r cas=2 as hvs.root',
      ]);
      assert.deepEqual(api.kv.get('t/r')?.at(-1)?.data, { a: 'one', nested: { k: [1] } });
      await backend.restore({ path: 't/r', version: '2', cas: '3' }, ctx);
      assert.equal(api.calls.at(-1), 'write secret/t/r cas=3 as hvs.root');
      assert.equal(
        api.calls.filter((c) => c.startsWith('metadata')).length,
        1,
        'a given cas needs no metadata read',
      );
      for (const bad of [{ version: 'x' }, { version: '1', cas: '-1' }]) {
        await assert.rejects(
          backend.restore({ path: 't/r', ...bad }, ctx),
          (e: unknown) => e instanceof BackendError && e.code === 'InvalidRequest',
        );
      }
    });
  });
});
