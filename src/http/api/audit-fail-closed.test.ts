// audit.failClosed with the real audit sink on a path that cannot be written: a secret read is
// refused with 503 (its value never sent) and no further call reaches its handler; without
// failClosed the call is answered and the failure logged. Authentication and authorisation are
// fakes here (test/api.test.ts has the kube-apiserver answer them).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { createBackends } from '../../backends/registry.ts';
import { loadConfig } from '../../config/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { createAuditLog } from '../../observability/audit.ts';
import { createLogger } from '../../observability/logger.ts';
import { buildApiApp } from './app.ts';

const CANARY = 'canary-audit-5d1e-do-not-send';
const caller = { user: 'system:serviceaccount:team-a:app', groups: [] };
const READ = '/v1/namespaces/team-a/backends/mem/secrets/team-a/db';

async function setup(auditPath: string, failClosed: boolean) {
  const config = await loadConfig(
    {
      text: `
backends:
  - name: mem
    type: memory
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
    data: {team-a/db: {password: ${CANARY}}}
api: {secretReads: true}
audit: {sink: file, path: ${auditPath}, failClosed: ${failClosed}}
`,
    },
    { env: {} },
  );
  const backends = createBackends(config);
  let reads = 0;
  const logs: string[] = [];
  const app = await buildApiApp({
    config: config.api!,
    authenticator: { authenticate: async () => caller, known: () => caller },
    authorizer: { authorize: async () => ({ allowed: true }) },
    audit: createAuditLog(config.audit!),
    logger: createLogger({
      transports: [
        new winston.transports.Stream({
          stream: new Writable({ write: (c, _e, done) => (logs.push(String(c)), done()) }),
        }),
      ],
    }),
    triggers: {
      client: {} as KubeClient,
      vaultSecrets: { get: () => undefined },
      rotations: { get: () => undefined },
    },
    backends: {
      get: (name) => {
        reads++;
        return backends.get(name);
      },
    },
    issuers: { get: () => undefined, names: () => [], close: async () => {} },
  });
  const get = () => app.inject({ method: 'GET', url: READ, headers: { authorization: 'Bearer t' } });
  return {
    app,
    get,
    reads: () => reads,
    logs,
    close: async () => (await app.close(), await backends.close()),
  };
}

describe('HTTP API: audit.failClosed', () => {
  let dir: string;
  let unwritable: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vaultsync-audit-fc-'));
    writeFileSync(join(dir, 'not-a-dir'), '');
    unwritable = join(dir, 'not-a-dir', 'audit.log');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses with 503 AuditUnavailable when the line cannot be written; the value is never sent', async () => {
    const ctx = await setup(unwritable, true);
    try {
      const first = await ctx.get();
      assert.equal(first.statusCode, 503);
      assert.equal(first.json<{ code: string }>().code, 'AuditUnavailable');
      assert.ok(!first.body.includes(CANARY));
      const readsBefore = ctx.reads();
      const second = await ctx.get();
      assert.equal(second.statusCode, 503);
      assert.equal(ctx.reads(), readsBefore, 'refused before its handler ran');
      assert.ok(ctx.logs.some((l) => l.includes('Could not write the audit log')));
    } finally {
      await ctx.close();
    }
  });

  it('without failClosed answers the call and logs the failure once', async () => {
    const ctx = await setup(unwritable, false);
    try {
      const res = await ctx.get();
      assert.equal(res.statusCode, 200);
      await ctx.get();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(ctx.logs.filter((l) => l.includes('Could not write the audit log')).length, 1);
      assert.ok(!ctx.logs.join('').includes(CANARY));
    } finally {
      await ctx.close();
    }
  });

  it('with a writable sink, failClosed answers normally', async () => {
    const ctx = await setup(join(dir, 'audit.log'), true);
    try {
      assert.equal((await ctx.get()).statusCode, 200);
    } finally {
      await ctx.close();
    }
  });
});
