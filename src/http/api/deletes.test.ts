// DELETE .../secrets/{path} driven by inject(), with the real config loader, backend guard
// (tenancy) and memory backend; TokenReview and SubjectAccessReview are fakes (the
// kube-apiserver answers them in test/api-delete.test.ts).
import assert from 'node:assert/strict';
import { createBackends } from '../../backends/registry.ts';
import type { Backend } from '../../backends/types.ts';
import { loadConfig } from '../../config/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { AuditEntry } from '../../observability/audit.ts';
import { createLogger } from '../../observability/logger.ts';
import { buildApiApp } from './app.ts';
import type { AccessRequest, Caller } from './auth.ts';
import { namesToAnnotate } from './operations/deletes.ts';

const CANARY = 'canary-41d7-delete-do-not-leak';
const URL_OF = (path: string, backend = 'mem') => `/v1/namespaces/team-a/backends/${backend}/secrets/${path}`;
const auth = { authorization: 'Bearer good' };

interface SetupOptions {
  deletes?: boolean;
  allow?: (a: AccessRequest) => boolean;
  leader?: boolean;
}

async function setup(opts: SetupOptions = {}) {
  const config = await loadConfig(
    {
      text: `
backends:
  - name: mem
    type: memory
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
    allowedWritePaths: ["{namespace}/app/*"]
    data:
      team-a/db: {password: ${CANARY}}
      team-a/app/one: {password: ${CANARY}}
      team-a/app/two: {password: ${CANARY}}
api:
  secretReads: true
  secretWrites: true
  secretDeletes: ${opts.deletes ?? true}
`,
    },
    { env: {} },
  );
  const backends = createBackends(config);
  const audit: AuditEntry[] = [];
  const caller: Caller = { user: 'system:serviceaccount:team-a:app', groups: [] };
  const authorizations: AccessRequest[] = [];
  const refreshes: string[] = [];
  const patches: { path: string; body: unknown }[] = [];
  // A backend whose type cannot delete.
  const noDelete = (b: Backend): Backend => ({ ...b, read: b.read.bind(b), delete: undefined });
  const app = await buildApiApp({
    config: config.api!,
    authenticator: { authenticate: async () => caller, known: () => caller },
    authorizer: {
      authorize: async (_c, a) => (authorizations.push(a), { allowed: (opts.allow ?? (() => true))(a) }),
    },
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
        rest: { request: async (r: { path: string; body: unknown }) => (patches.push(r), {}) },
      } as unknown as KubeClient,
      vaultSecrets: { get: () => undefined },
      rotations: { get: () => undefined },
    },
    backends: { get: (name) => (name === 'fixed' ? noDelete(backends.get('mem')!) : backends.get(name)) },
    issuers: { get: () => undefined, names: () => [], close: async () => {} },
    readers: {
      requestRefresh: (namespace, backend, path) => {
        refreshes.push(`${namespace}/${backend}/${path}`);
        return path === 'team-a/app/one' ? ['team-a/reads-one', 'team-a/also-one'] : [];
      },
      isLeader: () => opts.leader ?? true,
    },
  });
  const read = (path: string) => backends.get('mem')!.read({ path }, { namespace: 'team-a' });
  return {
    app,
    audit,
    authorizations,
    refreshes,
    patches,
    read,
    close: async () => (await app.close(), await backends.close()),
  };
}

describe('API: DELETE a secret', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  afterEach(() => ctx.close());

  it('deletes the latest version recoverably, asks its readers to refresh, and audits it', async () => {
    ctx = await setup();
    const res = await ctx.app.inject({ method: 'DELETE', url: URL_OF('team-a/app/one'), headers: auth });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { path: 'team-a/app/one', scope: 'latest', refreshed: 2 });
    await assert.rejects(ctx.read('team-a/app/one'), { code: 'NotFound' });
    assert.deepEqual(ctx.refreshes, ['team-a/mem/team-a/app/one']);
    assert.deepEqual(ctx.patches, [], 'the leader asks its own queue: no annotation written');
    assert.deepEqual(ctx.authorizations.at(-1), {
      verb: 'delete',
      resource: 'backends',
      subresource: 'secrets',
      namespace: 'team-a',
      name: 'mem',
    });
    const line = ctx.audit.at(-1)!;
    assert.equal(line.action, 'secrets.delete');
    assert.equal(line.outcome, 'allowed');
    assert.deepEqual(line.paths, ['team-a/app/one']);
    assert.deepEqual(line.detail, { scope: 'latest', refreshed: 2 });
  });

  it('from a standby, the readers are asked by the sync-now annotation (the leader sees it)', async () => {
    ctx = await setup({ leader: false });
    const res = await ctx.app.inject({ method: 'DELETE', url: URL_OF('team-a/app/one'), headers: auth });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().refreshed, 2);
    assert.deepEqual(
      ctx.patches.map((p) => [p.path, Object.keys((p.body as any).metadata.annotations)]), // eslint-disable-line @typescript-eslint/no-explicit-any
      [
        ['/apis/vaultsync.io/v1alpha1/namespaces/team-a/vaultsecrets/reads-one', ['vaultsync.io/sync-now']],
        ['/apis/vaultsync.io/v1alpha1/namespaces/team-a/vaultsecrets/also-one', ['vaultsync.io/sync-now']],
      ],
    );
  });

  it('scope=all forgets the path; a scope it does not know, or another parameter, is 400', async () => {
    ctx = await setup();
    const all = await ctx.app.inject({
      method: 'DELETE',
      url: `${URL_OF('team-a/app/two')}?scope=all`,
      headers: auth,
    });
    assert.equal(all.statusCode, 200, all.body);
    assert.equal(all.json().scope, 'all');
    await assert.rejects(ctx.read('team-a/app/two'), { code: 'NotFound' });
    for (const query of ['scope=everything', 'scope=latest&force=true']) {
      const bad = await ctx.app.inject({
        method: 'DELETE',
        url: `${URL_OF('team-a/app/one')}?${query}`,
        headers: auth,
      });
      assert.equal(bad.statusCode, 400, query);
      assert.equal(bad.json().code, 'BadRequest');
    }
    assert.ok((await ctx.read('team-a/app/one')).version, 'a refused call deleted nothing');
  });

  it('a path outside allowedWritePaths is 403 (readable or not); a missing one 404; a bad one 400', async () => {
    ctx = await setup();
    const readable = await ctx.app.inject({ method: 'DELETE', url: URL_OF('team-a/db'), headers: auth });
    assert.equal(readable.statusCode, 403);
    assert.match(readable.json().message, /not writable for namespace "team-a".*allowedWritePaths/);
    assert.ok((await ctx.read('team-a/db')).version, 'still there');
    const other = await ctx.app.inject({ method: 'DELETE', url: URL_OF('team-b/app/one'), headers: auth });
    assert.equal(other.statusCode, 403);
    const missing = await ctx.app.inject({ method: 'DELETE', url: URL_OF('team-a/app/none'), headers: auth });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'NotFound');
    const bad = await ctx.app.inject({ method: 'DELETE', url: URL_OF('team-a/app//one'), headers: auth });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(ctx.refreshes, [], 'nobody refreshed for a delete that did not happen');
    assert.ok(!JSON.stringify([readable.body, ctx.audit]).includes(CANARY));
  });

  it('needs RBAC delete (update is not enough), then api.secretDeletes (404 Disabled)', async () => {
    ctx = await setup({ allow: (a) => a.verb === 'update' || a.verb === 'get' });
    const writerOnly = await ctx.app.inject({
      method: 'DELETE',
      url: URL_OF('team-a/app/one'),
      headers: auth,
    });
    assert.equal(writerOnly.statusCode, 403);
    assert.match(
      writerOnly.json().message,
      /may not delete backends\/secrets\.vaultsync\.io "mem" in namespace "team-a"/,
    );
    await ctx.close();
    ctx = await setup({ deletes: false });
    const off = await ctx.app.inject({ method: 'DELETE', url: URL_OF('team-a/app/one'), headers: auth });
    assert.equal(off.statusCode, 404);
    assert.equal(off.json().code, 'Disabled');
    assert.match(off.json().message, /api\.secretDeletes: true/);
    assert.ok((await ctx.read('team-a/app/one')).version, 'nothing deleted');
  });

  it('501 NotImplemented for a backend that cannot delete; 404 for a backend not configured', async () => {
    ctx = await setup();
    const fixed = await ctx.app.inject({
      method: 'DELETE',
      url: URL_OF('team-a/app/one', 'fixed'),
      headers: auth,
    });
    assert.equal(fixed.statusCode, 501);
    assert.equal(fixed.json().code, 'NotImplemented');
    assert.match(fixed.json().message, /backend "mem" \(type memory\) cannot delete/);
    const unknown = await ctx.app.inject({
      method: 'DELETE',
      url: URL_OF('team-a/app/one', 'nope'),
      headers: auth,
    });
    assert.equal(unknown.statusCode, 404);
    assert.ok((await ctx.read('team-a/app/one')).version);
  });

  it('names to annotate: none on the leader, every reader by name on a standby', () => {
    assert.deepEqual(namesToAnnotate(['ns/a', 'ns/b'], true), []);
    assert.deepEqual(namesToAnnotate(['ns/a', 'ns/b.c'], false), ['a', 'b.c']);
  });
});
