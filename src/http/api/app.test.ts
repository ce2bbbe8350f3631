// The API app driven by inject(), with the real config loader, backend guard (tenancy) and a
// memory backend. Authentication and authorisation are fakes here (the kube-apiserver answers
// them in test/api.test.ts); everything else is the code that runs in the operator.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import winston from 'winston';
import { Writable } from 'node:stream';
import { createBackends } from '../../backends/registry.ts';
import { loadConfig } from '../../config/index.ts';
import type { IssuerRegistry } from '../../issuers/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { KubeError } from '../../kube/errors.ts';
import type { AuditEntry } from '../../observability/audit.ts';
import { createLogger } from '../../observability/logger.ts';
import { buildApiApp } from './app.ts';
import type { AccessRequest, Caller } from './auth.ts';

const CANARY = 'canary-7f3a9c-do-not-leak';
const OPENAPI_FILE = new URL('../../../docs/api/openapi.json', import.meta.url);

const noIssuers: IssuerRegistry = { get: () => undefined, names: () => [], close: async () => {} };

async function setup(apiYaml = '', allow: (a: AccessRequest) => boolean = () => true) {
  const config = await loadConfig(
    {
      text: `
backends:
  - name: mem
    type: memory
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
    data:
      team-a/db: {password: ${CANARY}, user: app}
      team-b/db: {password: other}
api:
  secretReads: true
${apiYaml}
`,
    },
    { env: {} },
  );
  const backends = createBackends(config);
  const audit: AuditEntry[] = [];
  const logs: string[] = [];
  const caller: Caller = {
    user: 'system:serviceaccount:team-a:app',
    groups: ['system:serviceaccounts'],
    serviceAccount: { namespace: 'team-a', name: 'app' },
  };
  // A fake TokenReview: 'good' is valid; a token answered once is then known (as the cache would).
  const reviews: string[] = [];
  const authorizations: AccessRequest[] = [];
  const reviewed = new Set<string>();
  const app = await buildApiApp({
    config: config.api!,
    authenticator: {
      authenticate: async (token) => {
        reviews.push(token);
        if (token !== 'good') return undefined;
        reviewed.add(token);
        return caller;
      },
      known: (token) => (reviewed.has(token) ? caller : undefined),
    },
    authorizer: {
      authorize: async (_c, a) => {
        authorizations.push(a);
        return { allowed: allow(a) };
      },
    },
    audit: { record: (e) => void audit.push(e), close: async () => {} },
    logger: createLogger({
      transports: [
        new winston.transports.Stream({
          stream: new Writable({ write: (c, _e, done) => (logs.push(String(c)), done()) }),
        }),
      ],
    }),
    triggers: {
      // No cluster here: every object is absent, as the apiserver would say.
      client: {
        resolve: async (apiVersion: string, kind: string) => ({
          apiVersion,
          kind,
          plural: `${kind.toLowerCase()}s`,
          namespaced: true,
        }),
        rest: {
          request: async () => {
            throw new KubeError({ code: 'NotFound', status: 404, message: 'NotFound: not found' });
          },
        },
      } as unknown as KubeClient,
      vaultSecrets: { get: () => undefined },
      rotations: { get: () => undefined },
    },
    backends,
    issuers: noIssuers,
  });
  return {
    app,
    audit,
    logs,
    reviews,
    authorizations,
    close: async () => (await app.close(), await backends.close()),
  };
}

const auth = { authorization: 'Bearer good' };

describe('HTTP API app', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  let app: FastifyInstance;
  beforeEach(async () => {
    ctx = await setup();
    app = ctx.app;
  });
  afterEach(() => ctx.close());

  it('401 without a token or with a bad one, audited as unauthenticated', async () => {
    const none = await app.inject({
      method: 'GET',
      url: '/v1/namespaces/team-a/backends/mem/secrets/team-a/db',
    });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().code, 'Unauthenticated');
    const bad = await app.inject({
      method: 'GET',
      url: '/v1/namespaces/team-a/backends/mem/secrets/team-a/db',
      headers: { authorization: 'Bearer nope' },
    });
    assert.equal(bad.statusCode, 401);
    assert.deepEqual(
      ctx.audit.map((e) => [e.action, e.outcome, e.status]),
      [
        ['secrets.get', 'unauthenticated', 401],
        ['secrets.get', 'unauthenticated', 401],
      ],
    );
  });

  it("reads a secret through the tenancy rules; another namespace's path is 403", async () => {
    const ok = await app.inject({
      method: 'GET',
      url: '/v1/namespaces/team-a/backends/mem/secrets/team-a/db',
      headers: auth,
    });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json().data, { password: CANARY, user: 'app' });
    const other = await app.inject({
      method: 'GET',
      url: '/v1/namespaces/team-a/backends/mem/secrets/team-b/db',
      headers: auth,
    });
    assert.equal(other.statusCode, 403);
    assert.equal(other.json().code, 'Forbidden');
    const audit = JSON.stringify(ctx.audit);
    assert.ok(audit.includes('"team-a/db"') && audit.includes('"team-b/db"'));
    assert.ok(!audit.includes(CANARY), 'no value in the audit log');
    assert.ok(!ctx.logs.join('').includes(CANARY), 'no value in the log');
  });

  it('batchGet reports an error per failed item and succeeds for the rest', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/namespaces/team-a/backends/mem/secrets:batchGet',
      headers: auth,
      payload: { paths: ['team-a/db', 'team-a/missing', 'team-b/db', 'team-a/../x'] },
    });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(
      body.items.map((i: { path: string; error?: { code: string } }) => [i.path, i.error?.code ?? 'ok']),
      [
        ['team-a/db', 'ok'],
        ['team-a/missing', 'NotFound'],
        ['team-b/db', 'Forbidden'],
        ['team-a/../x', 'BadRequest'],
      ],
    );
    assert.equal(body.succeeded, 1);
    assert.equal(body.failed, 3);
    assert.ok(!JSON.stringify(body.items.slice(1)).includes(CANARY));
  });

  it('403 when RBAC says no, naming the permission; reads and writes are off unless enabled', async () => {
    await ctx.close();
    ctx = await setup('', (a) => a.verb !== 'get');
    const denied = await ctx.app.inject({
      method: 'GET',
      url: '/v1/namespaces/team-a/backends/mem/secrets/team-a/db',
      headers: auth,
    });
    assert.equal(denied.statusCode, 403);
    assert.match(
      denied.json().message,
      /may not get backends\/secrets\.vaultsync\.io "mem" in namespace "team-a"/,
    );
    const write = await ctx.app.inject({
      method: 'PUT',
      url: '/v1/namespaces/team-a/backends/mem/secrets/team-a/db',
      headers: auth,
      payload: { data: { password: 'x' } },
    });
    assert.equal(write.statusCode, 404);
    assert.equal(write.json().code, 'Disabled');
  });

  it('rollback: POST …/secretrotations/{name}:rollback asks RBAC for secretrotations/rollback, checks the version', async () => {
    const url = '/v1/namespaces/team-a/secretrotations/db:rollback';
    const missing = await app.inject({ method: 'POST', url, headers: auth, payload: { toVersion: '2' } });
    assert.equal(missing.statusCode, 404, 'reached the operation: no such SecretRotation here');
    assert.equal(missing.json().code, 'NotFound');
    assert.deepEqual(ctx.authorizations.at(-1), {
      verb: 'create',
      resource: 'secretrotations',
      subresource: 'rollback',
      namespace: 'team-a',
      name: 'db',
    });
    const bad = await app.inject({ method: 'POST', url, headers: auth, payload: { toVersion: '2#x' } });
    assert.equal(bad.statusCode, 400);
    const other = await app.inject({ method: 'POST', url: `${url}x`, headers: auth, payload: {} });
    assert.equal(other.statusCode, 404);
    assert.match(other.json().message, /no such endpoint/);
    assert.equal(ctx.audit.at(-2)?.action, 'secretrotations.rollback');
  });

  it('limits each caller to the configured requests per window', async () => {
    await ctx.close();
    ctx = await setup('  rateLimit: {max: 3, window: 1m}');
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await ctx.app.inject({
        method: 'GET',
        url: '/v1/namespaces/team-a/backends/mem/secrets/team-a/db',
        headers: auth,
      });
      codes.push(r.statusCode);
      if (r.statusCode === 429) assert.ok(Number(r.headers['retry-after']) > 0, 'Retry-After is sent');
    }
    assert.deepEqual(codes, [200, 200, 200, 429, 429]);
  });

  it('limits a caller before the SubjectAccessReview and before its body is parsed', async () => {
    await ctx.close();
    ctx = await setup('  rateLimit: {max: 2, window: 1m}');
    const batch = (payload: string) =>
      ctx.app.inject({
        method: 'POST',
        url: '/v1/namespaces/team-a/backends/mem/secrets:batchGet',
        headers: { ...auth, 'content-type': 'application/json' },
        payload,
      });
    assert.equal((await batch('{"paths": ["team-a/db"]}')).statusCode, 200);
    assert.equal((await batch('{"paths": [')).statusCode, 400, 'under the limit the body is parsed');
    const limited = await batch('{"paths": [');
    assert.equal(limited.statusCode, 429, 'over the limit: refused before the (broken) body is read');
    assert.equal(limited.json().code, 'TooManyRequests');
    assert.match(limited.json().message, /rate limit of 2 requests per 1m exceeded/);
    assert.equal(ctx.authorizations.length, 2, 'no SubjectAccessReview for the limited request');
  });

  it('serves no /healthz, /readyz or /metrics: those are on the health port only', async () => {
    for (const url of ['/healthz', '/readyz', '/readyz?exclude=backends', '/metrics']) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().code, 'NotFound');
    }
  });

  it('limits requests per address before any TokenReview; no token never causes one', async () => {
    await ctx.close();
    ctx = await setup('  rateLimit: {unauthenticated: {max: 10, window: 1m}}');
    const url = '/v1/namespaces/team-a/backends/mem/secrets/team-a/db';
    const codes = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const headers =
        i % 3 === 0
          ? {}
          : i % 3 === 1
            ? { authorization: `Bearer garbage-${i}` }
            : { authorization: 'Bearer x' };
      const res = await ctx.app.inject({ method: 'GET', url, headers });
      codes.set(res.statusCode, (codes.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode === 429) assert.ok(Number(res.headers['retry-after']) > 0);
    }
    assert.deepEqual([...codes.keys()].sort(), [401, 429]);
    assert.equal(codes.get(401), 10, 'the first 10 from the address are answered');
    assert.ok(ctx.reviews.length <= 10, `${ctx.reviews.length} reviews`);
    assert.ok(!ctx.reviews.includes(''), 'a request without a token is never reviewed');
    // Another address is not affected; neither is a caller whose token is already known.
    const other = await ctx.app.inject({ method: 'GET', url, headers: auth, remoteAddress: '10.0.0.9' });
    assert.equal(other.statusCode, 200);
    const known = await ctx.app.inject({ method: 'GET', url, headers: auth });
    assert.equal(known.statusCode, 200, 'a cached token does not pay for the address');
    assert.equal(ctx.reviews.filter((t) => t === 'good').length, 1);
  });

  it('names the audience when a token is refused', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/v1/namespaces/team-a/backends/mem/secrets/team-a/db',
      headers: { authorization: 'Bearer apiserver-token' },
    });
    assert.equal(res.statusCode, 401);
    assert.match(res.json().message, /not valid for audience "vaultsync"/);
  });

  it('rejects bodies over the limit with 413 and wrong types with 400', async () => {
    await ctx.close();
    ctx = await setup('  bodyLimit: 2048');
    const big = await ctx.app.inject({
      method: 'POST',
      url: '/v1/namespaces/team-a/backends/mem/secrets:batchGet',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ paths: ['x'.repeat(4096)] }),
    });
    assert.equal(big.statusCode, 413);
    const wrong = await ctx.app.inject({
      method: 'POST',
      url: '/v1/namespaces/team-a/backends/mem/secrets:batchGet',
      headers: auth,
      payload: { paths: 'team-a/db' },
    });
    assert.equal(wrong.statusCode, 400);
    assert.equal(wrong.json().code, 'BadRequest');
  });

  it('fuzz: malformed bodies, paths and types give 4xx only, never 5xx, and never echo a value', async function () {
    this.timeout(60_000);
    const segment = fc.oneof(
      fc.constantFrom('..', '.', '%2F', '%2e%2e', '', 'team-a', 'db', '%00', '~', '*', ':batchGet', 'ñ'),
      fc.string({ maxLength: 20 }).map(encodeURIComponent),
    );
    const url = fc.tuple(
      fc.constantFrom(
        '/v1/namespaces/team-a/backends/mem/secrets/',
        '/v1/namespaces/team-a/backends/mem/secrets:batchGet',
        '/v1/namespaces/team-a/vaultsecrets/x/sync',
        '/v1/namespaces/team-a/vaultsecrets:sync',
        '/v1/namespaces/team-a/secretrotations/x/rotate',
        '/v1/namespaces/team-a/issuers/ca/certificates:issue',
        '/v1/namespaces/',
        '/v1/',
      ),
      fc.array(segment, { maxLength: 4 }),
    );
    const body = fc.oneof(
      fc.json(),
      fc.string({ maxLength: 200 }),
      fc.constant('{"paths": ['),
      fc.constant('x'.repeat(2_000_000)),
      fc.record({
        paths: fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 5 }),
      }),
      fc.record({
        data: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())),
        cas: fc.anything(),
      }),
      fc.record({
        labelSelector: fc.oneof(fc.string(), fc.integer()),
        waitSeconds: fc.oneof(fc.integer(), fc.string()),
      }),
    );
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
        url,
        body,
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
        async (method, [prefix, segments], payload, contentType) => {
          const path = prefix.endsWith('/') || segments.length === 0 ? prefix : `${prefix}/`;
          const res = await app.inject({
            method: method as 'GET',
            url: path + segments.join('/'),
            headers: { ...auth, 'content-type': contentType },
            ...(method === 'GET' ? {} : { payload }),
          });
          seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
          assert.ok(
            res.statusCode < 500,
            `${method} ${path}${segments.join('/')} → ${res.statusCode} ${res.body}`,
          );
          if (res.statusCode >= 400) {
            assert.equal(typeof res.json().code, 'string');
            assert.ok(!res.body.includes(CANARY));
          }
        },
      ),
      { numRuns: 400 },
    );
    // The run reached validation, tenancy and the handlers, not only the router.
    for (const code of [400, 404]) {
      assert.ok(seen.has(code), `no ${code} among ${[...seen.keys()].join(', ')}`);
    }
  });

  it('serves /openapi.json generated from the route schemas, equal to docs/api/openapi.json', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.ok(doc.paths['/v1/namespaces/{namespace}/backends/{backend}/secrets:batchGet']);
    assert.ok(doc.paths['/v1/namespaces/{namespace}/vaultsecrets/{name}/sync']);
    const checkedIn = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'));
    assert.deepEqual(doc, checkedIn, 'docs/api/openapi.json is stale: run make generate');
  });
});
