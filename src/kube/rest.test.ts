// The fenced REST client against a real local HTTP server (what reaches the wire is what counts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { LeadershipFence, NotLeaderError, type WriteFence } from './fence.ts';
import { type HttpVerb, createRestClient } from './rest.ts';

interface Seen {
  method: string;
  url: string;
  userAgent: string | undefined;
}

async function apiServer(hold?: (req: IncomingMessage) => boolean) {
  const seen: Seen[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, userAgent: req.headers['user-agent'] });
    req.resume();
    if (hold?.(req)) {
      held.push(res);
      return;
    }
    res.setHeader('Content-Type', 'application/json');
    res.end('{"kind":"ConfigMap"}');
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
  return {
    kc,
    seen,
    close: () => {
      for (const r of held) r.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const path = '/api/v1/namespaces/shop/configmaps/app';
const writes: HttpVerb[] = ['POST', 'PUT', 'PATCH', 'DELETE'];
const body = { metadata: { name: 'app' } };

describe('REST client with a leadership fence', () => {
  it('a deposed leader without the fence WOULD write (the case the fence exists for)', async () => {
    const api = await apiServer();
    try {
      const fence = new LeadershipFence({ renewDeadlineMs: 4000 });
      fence.lose('the Lease is held by replica-b');
      const unfenced = createRestClient(api.kc);
      for (const method of writes) await unfenced.request({ method, path, body });
      assert.equal(api.seen.length, 4, 'every write reached the API server');
    } finally {
      await api.close();
    }
  });

  it('refuses every mutating verb once leadership is lost; nothing reaches the server', async () => {
    const api = await apiServer();
    try {
      const fence = new LeadershipFence({ renewDeadlineMs: 4000 });
      fence.renewed(fence.now());
      const rest = createRestClient(api.kc, { fence });
      await rest.request({ method: 'PATCH', path, body });
      assert.equal(api.seen.length, 1, 'a leader writes');
      fence.lose('stepped down');
      for (const method of writes) await assert.rejects(rest.request({ method, path, body }), NotLeaderError);
      assert.equal(api.seen.length, 1, 'no write after the loss');
      // Reads (GET, LIST, WATCH are all GET) still go out.
      await rest.request({ method: 'GET', path });
      await rest.request({ method: 'GET', path: '/api/v1/namespaces/shop/configmaps', query: { watch: 1 } });
      assert.deepEqual(
        api.seen.map((s) => s.method),
        ['PATCH', 'GET', 'GET'],
      );
    } finally {
      await api.close();
    }
  });

  it('checks after authentication: leadership lost while credentials were fetched → refused', async () => {
    const api = await apiServer();
    try {
      const fence = new LeadershipFence({ renewDeadlineMs: 4000 });
      fence.renewed(fence.now());
      const authenticate = api.kc.applySecurityAuthentication.bind(api.kc);
      api.kc.applySecurityAuthentication = async (ctx) => {
        await authenticate(ctx);
        fence.lose('renew deadline passed during a slow token refresh');
      };
      const rest = createRestClient(api.kc, { fence });
      await assert.rejects(rest.request({ method: 'PUT', path, body }), /slow token refresh/);
      assert.equal(api.seen.length, 0);
    } finally {
      await api.close();
    }
  });

  it('checks again as the request is written: lost while connecting (a freeze there) → nothing sent', async () => {
    const api = await apiServer();
    try {
      // Held at the client's check, lost by the time undici writes the request: what a process
      // frozen during the connect finds on resume, before any of its timers ran.
      const lost = new AbortController();
      let checks = 0;
      const fence: WriteFence = {
        assertHeld() {
          if (++checks === 1) return;
          const err = new NotLeaderError('not the leader: no Lease renewal while frozen');
          lost.abort(err);
          throw err;
        },
        signal: lost.signal,
      };
      const rest = createRestClient(api.kc, { fence });
      await assert.rejects(rest.request({ method: 'PATCH', path, body }), /while frozen/);
      assert.equal(checks, 2, 'checked by the client, then at the write');
      assert.deepEqual(api.seen, [], 'nothing reached the server');
      await rest.request({ method: 'GET', path });
      assert.equal(api.seen.length, 1, 'reads are not fenced');
    } finally {
      await api.close();
    }
  });

  it('writes in the same step as its last check: nothing async is left for a freeze to resume into', async () => {
    const api = await apiServer((req) => req.method === 'PATCH');
    try {
      // The fence passes its check at the write and is lost one microtask later. A request
      // whose bytes were not yet on the socket by then (fetch streams its body asynchronously)
      // would be cut off and never seen; one written synchronously already reached the server.
      const lost = new AbortController();
      let checks = 0;
      const fence: WriteFence = {
        assertHeld() {
          if (++checks === 2) queueMicrotask(() => lost.abort(new NotLeaderError('not the leader: lost')));
        },
        signal: lost.signal,
      };
      const rest = createRestClient(api.kc, { fence });
      await assert.rejects(rest.request({ method: 'PATCH', path, body }), NotLeaderError);
      for (let i = 0; i < 100 && api.seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(
        api.seen.map((s) => s.method),
        ['PATCH'],
        'the checked request was already written',
      );
    } finally {
      await api.close();
    }
  });

  it('aborts a write in flight when leadership is lost, with NotLeader', async () => {
    const api = await apiServer((req) => req.method === 'PATCH');
    try {
      const fence = new LeadershipFence({ renewDeadlineMs: 4000 });
      fence.renewed(fence.now());
      const rest = createRestClient(api.kc, { fence });
      const write = rest.request({ method: 'PATCH', path, body });
      while (api.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
      fence.lose('the Lease is held by replica-b');
      await assert.rejects(write, NotLeaderError);
    } finally {
      await api.close();
    }
  });

  it('sends the User-Agent it was given (the replica identity reaches the audit log)', async () => {
    const api = await apiServer();
    try {
      await createRestClient(api.kc, { userAgent: 'vaultsync/1.2.3 (replica-a)' }).request({
        method: 'POST',
        path,
        body,
      });
      assert.equal(api.seen[0]?.userAgent, 'vaultsync/1.2.3 (replica-a)');
    } finally {
      await api.close();
    }
  });

  it('speaks HTTP/1.1 to an apiserver that offers HTTP/2 too (an HTTP/2 write leaves on a later turn)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rest-h1-'));
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const versions: string[] = [];
    const server = createSecureServer(
      { key: readFileSync(key), cert: readFileSync(cert), allowHTTP1: true },
      (req, res) => {
        versions.push(`${req.method} ${req.httpVersion}`);
        res.setHeader('Content-Type', 'application/json');
        res.end('{}');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [
          { name: 'c', server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caFile: cert },
        ],
        users: [{ name: 'u', token: 't' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      const fence = new LeadershipFence({ renewDeadlineMs: 4000 });
      fence.renewed(fence.now());
      const rest = createRestClient(kc, { fence });
      await rest.request({ method: 'PATCH', path, body });
      await rest.request({ method: 'GET', path });
      assert.deepEqual(versions, ['PATCH 1.1', 'GET 1.1']);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
