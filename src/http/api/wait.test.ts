// waitSeconds against the request timeout, over a real socket: a legal wait is always answered
// before the server's timeout closes the connection, and a client that goes away ends the wait
// at once. The cluster is a fake here (a patch that answers after a set delay, a cache that never
// answers): what is under test is the API's timing, not the operator's answer.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../config/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { AuditEntry } from '../../observability/audit.ts';
import { createLogger } from '../../observability/logger.ts';
import { buildApiApp } from './app.ts';
import { maxWaitSeconds } from './schemas.ts';

const caller = { user: 'system:serviceaccount:team-a:app', groups: [] };
const SYNC = '/v1/namespaces/team-a/vaultsecrets/db/sync';

async function setup(requestTimeout: string, opts: { patchDelayMs?: number } = {}) {
  const config = await loadConfig(
    {
      text: `backends: [{name: mem, type: memory, allowedNamespaces: ["team-*"]}]\napi: {requestTimeout: ${requestTimeout}}\n`,
    },
    { env: {} },
  );
  const audit: AuditEntry[] = [];
  let cacheReads = 0;
  const app = await buildApiApp({
    config: config.api!,
    authenticator: { authenticate: async () => caller, known: () => caller },
    authorizer: { authorize: async () => ({ allowed: true }) },
    audit: { record: (e) => void audit.push(e), close: async () => {} },
    logger: createLogger({ transports: [] }),
    triggers: {
      client: {
        resolve: async () => ({
          apiVersion: 'vaultsync.io/v1alpha1',
          kind: 'VaultSecret',
          plural: 'vaultsecrets',
          namespaced: true,
        }),
        rest: {
          request: async () => {
            await new Promise((r) => setTimeout(r, opts.patchDelayMs ?? 0));
            return {};
          },
        },
      } as unknown as KubeClient,
      // The operator never answers: every wait runs to its end.
      vaultSecrets: { get: () => void cacheReads++ },
      rotations: { get: () => undefined },
    },
    backends: { get: () => undefined },
    issuers: { get: () => undefined, names: () => [], close: async () => {} },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, port, audit, cacheReads: () => cacheReads };
}

/** POSTs a body over a fresh connection: the status, or how the connection ended. */
function post(port: number, body: unknown, abortAfterMs?: number): Promise<number | 'dropped' | 'aborted'> {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: SYNC,
        agent: false,
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer t',
          'content-length': data.length,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(abortAfterMs === undefined ? 'dropped' : 'aborted'));
    req.end(data);
    if (abortAfterMs !== undefined) setTimeout(() => req.destroy(), abortAfterMs);
  });
}

describe('HTTP API: waitSeconds and the request timeout', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('allows at most requestTimeout less 5 s (and 60): 25 at the default, more is 400', async () => {
    assert.equal(maxWaitSeconds(30_000), 25);
    assert.equal(maxWaitSeconds(5_000), 0);
    assert.equal(maxWaitSeconds(600_000), 60);
    const bed = await setup('30s');
    app = bed.app;
    const inject = (waitSeconds: number) =>
      bed.app.inject({
        method: 'POST',
        url: SYNC,
        headers: { authorization: 'Bearer t' },
        payload: { waitSeconds },
      });
    assert.equal((await inject(26)).statusCode, 400);
    assert.equal((await inject(0)).statusCode, 202);
  });

  it('answers the longest legal wait before the timeout closes the connection, even after a slow patch', async function () {
    this.timeout(20_000);
    // requestTimeout 8 s: waitSeconds up to 3. The trigger's own patch takes 5 s, so waiting the
    // full 3 s after it would end past the 8 s at which the server drops the idle connection.
    const bed = await setup('8s', { patchDelayMs: 5_000 });
    app = bed.app;
    const started = Date.now();
    const status = await post(bed.port, { waitSeconds: maxWaitSeconds(8_000) });
    assert.equal(status, 202, 'a Pending answer, not a dropped connection');
    assert.ok(Date.now() - started < 8_000);
  });

  it('stops polling as soon as the client goes away, and audits the call as 499', async function () {
    this.timeout(10_000);
    const bed = await setup('30s');
    app = bed.app;
    assert.equal(await post(bed.port, { waitSeconds: 20 }, 300), 'aborted');
    await new Promise((r) => setTimeout(r, 100));
    const readsAtClose = bed.cacheReads();
    assert.ok(readsAtClose > 0, 'the wait was polling');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(bed.cacheReads(), readsAtClose, 'no poll after the client left');
    assert.deepEqual(
      bed.audit.map((e) => [e.action, e.status, e.code]),
      [['vaultsecrets.sync', 499, 'ClientClosedRequest']],
    );
  });
});
