import assert from 'node:assert/strict';
import { createBackends } from '../backends/registry.ts';
import { createLogger } from '../observability/logger.ts';
import { parseSidecarFile, sidecarConfig } from './config.ts';
import { buildSidecarApp, sidecarRefusal } from './server.ts';

const identity = { namespace: 'team-a', serviceAccount: 'app', audiences: ['vault'] };
const file = parseSidecarFile(
  `
backends:
  - name: mem
    type: memory
    allowedPaths: ["{namespace}/*"]
    data:
      team-a/db: {password: pw-canary, user: app}
      team-b/db: {password: other}
`,
  'f',
);

async function app() {
  const backends = createBackends(await sidecarConfig(file, identity));
  return buildSidecarApp({
    identity,
    backends,
    settings: file.settings,
    logger: createLogger({ level: 'error' }),
  });
}

describe('sidecar server', () => {
  it('admits reads of its own namespace only', () => {
    assert.equal(sidecarRefusal('secretReads', 'team-a', 'team-a'), undefined);
    assert.equal(sidecarRefusal('secretReads', 'team-b', 'team-a')?.statusCode, 403);
    assert.equal(sidecarRefusal('secretWrites', 'team-a', 'team-a')?.code, 'Disabled');
    assert.equal(sidecarRefusal(undefined, 'team-a', 'team-a')?.code, 'Disabled');
  });

  it("serves the API's read routes with the same shapes, without a token", async () => {
    const a = await app();
    const one = await a.inject({ url: '/v1/namespaces/team-a/backends/mem/secrets/team-a/db' });
    assert.equal(one.statusCode, 200);
    assert.deepEqual(one.json(), {
      path: 'team-a/db',
      version: '1',
      data: { password: 'pw-canary', user: 'app' },
    });
    const batch = await a.inject({
      method: 'POST',
      url: '/v1/namespaces/team-a/backends/mem/secrets:batchGet',
      payload: { paths: ['team-a/db', 'team-b/db'] },
    });
    assert.equal(batch.statusCode, 200);
    assert.equal(batch.json().succeeded, 1);
    assert.equal(batch.json().items[1].error.code, 'Forbidden');
    await a.close();
  });

  it("refuses another namespace, other backends' paths, writes and unknown routes", async () => {
    const a = await app();
    const other = await a.inject({ url: '/v1/namespaces/team-b/backends/mem/secrets/team-b/db' });
    assert.equal(other.statusCode, 403);
    assert.match(other.json().message, /serves namespace "team-a" only/);
    const path = await a.inject({ url: '/v1/namespaces/team-a/backends/mem/secrets/team-b/db' });
    assert.equal(path.statusCode, 403);
    assert.equal(path.json().code, 'Forbidden');
    const write = await a.inject({
      method: 'PUT',
      url: '/v1/namespaces/team-a/backends/mem/secrets/team-a/db',
      payload: { data: { a: 'b' } },
    });
    assert.equal(write.statusCode, 404);
    assert.equal(write.json().code, 'Disabled');
    assert.equal((await a.inject({ url: '/v1/namespaces/team-a/backends/nope/secrets/x' })).statusCode, 404);
    assert.equal((await a.inject({ url: '/healthz' })).statusCode, 200);
    for (const r of [other, path, write]) assert.ok(!r.body.includes('canary'));
    await a.close();
  });
});
