import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { Sensitive } from '../../secrets/sensitive.ts';
import { BackendError } from '../../resilience/errors.ts';
import { createVaultApi, type VaultApi } from './api.ts';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A scripted HTTP server standing in for Vault. */
async function fakeVault(handler: (req: Seen, res: http.ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const json = (
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const token = new Sensitive('hvs.TESTTOKEN000000000000000000');

describe('createVaultApi (node-vault with our transport)', () => {
  let server: Awaited<ReturnType<typeof fakeVault>>;
  let api: VaultApi;
  const saved = { ...process.env };

  afterEach(async () => {
    api?.close();
    await server?.close();
    for (const k of ['VAULT_TOKEN', 'VAULT_NAMESPACE', 'VAULT_PREFIX', 'VAULT_SKIP_VERIFY']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('reads KV v2 with the given token and namespace, never those of the environment', async () => {
    process.env.VAULT_TOKEN = 'hvs.ENVCANARY';
    process.env.VAULT_NAMESPACE = 'env-ns';
    process.env.VAULT_PREFIX = '/env-prefix';
    server = await fakeVault((req, res) => {
      if (req.url.startsWith('/v1/sys/health')) return json(res, 200, { initialized: true, sealed: false });
      if (req.url.endsWith('/login'))
        return json(res, 200, { auth: { client_token: 'hvs.X', lease_duration: 60 } });
      json(res, 200, { data: { data: { password: 'pw', n: 1 }, metadata: { version: 4 } } });
    });
    api = createVaultApi({ address: server.address, namespace: 'team', allowHttp: true });
    const got = await api.kvRead('secret', 'shop/db@x', 4, token);
    assert.deepEqual(got, { data: { password: 'pw', n: 1 }, version: 4 });
    const req = server.seen[0];
    assert.equal(req?.method, 'GET');
    assert.equal(req?.url, '/v1/secret/data/shop/db%40x?version=4');
    assert.equal(req?.headers['x-vault-token'], token.reveal());
    assert.equal(req?.headers['x-vault-namespace'], 'team');

    await api.health();
    await api.login('kubernetes', new Sensitive({ role: 'r', jwt: 'j' }));
    for (const s of server.seen) assert.notEqual(s.headers['x-vault-token'], 'hvs.ENVCANARY');
    assert.equal(server.seen[1]?.headers['x-vault-token'], undefined);
    assert.equal(server.seen[2]?.headers['x-vault-token'], undefined);
  });

  it('writes KV v2 with check-and-set and returns the new version', async () => {
    server = await fakeVault((_req, res) => json(res, 200, { data: { version: 7 } }));
    api = createVaultApi({ address: server.address, allowHttp: true });
    assert.deepEqual(await api.kvWrite('kv/team', 'a/b', { k: 'v' }, 6, token), { version: 7 });
    assert.equal(server.seen[0]?.url, '/v1/kv/team/data/a/b');
    assert.deepEqual(JSON.parse(server.seen[0]?.body ?? ''), { data: { k: 'v' }, options: { cas: 6 } });
  });

  it('lists a metadata folder (GET ?list=true), a missing one as empty, and maps a refusal', async () => {
    server = await fakeVault((req, res) => {
      if (req.url.startsWith('/v1/secret/metadata/none/')) return json(res, 404, { errors: [] });
      if (req.url.startsWith('/v1/secret/metadata/denied/'))
        return json(res, 403, { errors: ['permission denied'] });
      json(res, 200, { data: { keys: ['db', 'dbs/', 7, ''] } });
    });
    api = createVaultApi({ address: server.address, allowHttp: true });
    assert.deepEqual(await api.kvList('secret', 'team a/', token), ['db', 'dbs/']);
    assert.equal(server.seen[0]?.method, 'GET');
    assert.equal(server.seen[0]?.url, '/v1/secret/metadata/team%20a/?list=true');
    assert.deepEqual(await api.kvList('secret', '', token), ['db', 'dbs/']);
    assert.equal(server.seen[1]?.url, '/v1/secret/metadata/?list=true');
    assert.deepEqual(await api.kvList('secret', 'none/', token), []);
    await assert.rejects(
      api.kvList('secret', 'denied/', token),
      (e: unknown) =>
        e instanceof BackendError && e.code === 'PermissionDenied' && /list "denied\/"/.test(e.message),
    );
  });

  it('reads metadata: string tags, and whether the newest version is deleted', async () => {
    const meta = (deletion: string) => ({
      data: {
        current_version: 2,
        custom_metadata: { team: 'a', n: 5 },
        versions: { '1': { deletion_time: '' }, '2': { deletion_time: deletion, destroyed: false } },
      },
    });
    server = await fakeVault((req, res) =>
      req.url.endsWith('/gone')
        ? json(res, 404, { errors: [] })
        : json(res, 200, meta(req.url.endsWith('/del') ? '2026-01-01T00:00:00Z' : '')),
    );
    api = createVaultApi({ address: server.address, allowHttp: true });
    assert.deepEqual(await api.kvMetadata('secret', 't/live', token), {
      customMetadata: { team: 'a' },
      currentVersion: 2,
      latestDeleted: false,
    });
    assert.equal(server.seen[0]?.url, '/v1/secret/metadata/t/live');
    assert.equal((await api.kvMetadata('secret', 't/del', token)).latestDeleted, true);
    await assert.rejects(
      api.kvMetadata('secret', 't/gone', token),
      (e: unknown) => e instanceof BackendError && e.code === 'NotFound',
    );
  });

  it('deletes the newest version at data/, everything at metadata/', async () => {
    server = await fakeVault((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    api = createVaultApi({ address: server.address, allowHttp: true });
    await api.kvDelete('kv/team', 'a/b', 'latest', token);
    await api.kvDelete('kv/team', 'a/b', 'all', token);
    assert.deepEqual(
      server.seen.map((r) => `${r.method} ${r.url} ${r.headers['x-vault-token'] === token.reveal()}`),
      ['DELETE /v1/kv/team/data/a/b true', 'DELETE /v1/kv/team/metadata/a/b true'],
    );
  });

  it('logs in without a token and returns the new token wrapped', async () => {
    server = await fakeVault((_req, res) =>
      json(res, 200, { auth: { client_token: 'hvs.NEWTOKEN', lease_duration: 3600, renewable: true } }),
    );
    api = createVaultApi({ address: server.address, allowHttp: true });
    const result = await api.login('kubernetes', new Sensitive({ role: 'vaultsync', jwt: 'eyJ.x.y' }));
    assert.equal(result.token.reveal(), 'hvs.NEWTOKEN');
    assert.equal(result.leaseDurationS, 3600);
    assert.equal(result.renewable, true);
    assert.equal(inspect(result).includes('NEWTOKEN'), false);
    assert.equal(server.seen[0]?.url, '/v1/auth/kubernetes/login');
    assert.deepEqual(JSON.parse(server.seen[0]?.body ?? ''), { role: 'vaultsync', jwt: 'eyJ.x.y' });
  });

  it('turns a 429 into Throttled with the Retry-After of the answer', async () => {
    server = await fakeVault((_req, res) =>
      json(res, 429, { errors: ['rate limit quota exceeded'] }, { 'retry-after': '12' }),
    );
    api = createVaultApi({ address: server.address, allowHttp: true });
    await assert.rejects(api.kvRead('secret', 'a', undefined, token), (err: unknown) => {
      assert.ok(err instanceof BackendError);
      assert.equal(err.code, 'Throttled');
      assert.equal(err.retryAfterMs, 12_000);
      return true;
    });
  });

  it('maps error answers without the token', async () => {
    server = await fakeVault((_req, res) =>
      json(res, 403, { errors: ['1 error occurred:\n\t* permission denied\n\n'] }),
    );
    api = createVaultApi({ address: server.address, allowHttp: true });
    await assert.rejects(api.kvRead('secret', 'shop/db', undefined, token), (err: unknown) => {
      assert.ok(err instanceof BackendError);
      assert.equal(err.code, 'PermissionDenied');
      assert.equal(err.message, 'vault read "shop/db": 1 error occurred: * permission denied (HTTP 403)');
      assert.equal(
        `${JSON.stringify(err)}${inspect(err, { showHidden: true, depth: 20 })}`.includes('TESTTOKEN'),
        false,
      );
      return true;
    });
  });

  it('answers NotFound for a deleted version and InvalidRequest for a non-KV-v2 answer', async () => {
    let answer: unknown = {
      data: { data: null, metadata: { version: 2, deletion_time: '2025-01-01T00:00:00Z' } },
    };
    server = await fakeVault((_req, res) => json(res, 200, answer));
    api = createVaultApi({ address: server.address, allowHttp: true });
    await assert.rejects(
      api.kvRead('secret', 'a', 2, token),
      (e: unknown) => e instanceof BackendError && e.code === 'NotFound',
    );
    answer = { data: { password: 'kv1-style' } };
    await assert.rejects(
      api.kvRead('secret', 'a', undefined, token),
      (e: unknown) => e instanceof BackendError && e.code === 'InvalidRequest',
    );
  });

  it('reports health, sealed included', async () => {
    server = await fakeVault((_req, res) =>
      json(res, 503, { initialized: true, sealed: true, standby: false }),
    );
    api = createVaultApi({ address: server.address, allowHttp: true });
    assert.deepEqual(await api.health(), { initialized: true, sealed: true, standby: false });
    assert.match(server.seen[0]?.url ?? '', /^\/v1\/sys\/health\?standbyok=true/);
  });

  it('aborts a request in flight with the signal', async () => {
    server = await fakeVault(() => undefined); // never answers
    api = createVaultApi({ address: server.address, allowHttp: true });
    const ac = new AbortController();
    const pending = api.kvRead('secret', 'a', undefined, token, ac.signal);
    await new Promise((r) => setTimeout(r, 20));
    const reason = new Error('stop');
    ac.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
  });

  it('refuses http:// unless allowed, without sending anything', async () => {
    server = await fakeVault((_req, res) => json(res, 200, {}));
    api = createVaultApi({ address: server.address, allowHttp: false });
    await assert.rejects(
      api.kvRead('secret', 'a', undefined, token),
      (e: unknown) => e instanceof BackendError && e.code === 'InvalidRequest',
    );
    assert.equal(server.seen.length, 0);
  });

  it('maps a refused connection to Unavailable', async () => {
    server = await fakeVault(() => undefined);
    const address = server.address;
    await server.close();
    api = createVaultApi({ address, allowHttp: true });
    await assert.rejects(api.kvRead('secret', 'a', undefined, token), (e: unknown) => {
      assert.ok(e instanceof BackendError);
      assert.equal(e.code, 'Unavailable');
      assert.match(e.message, /connection refused/);
      return true;
    });
  });
});
