import assert from 'node:assert/strict';
import { Registry, Counter } from 'prom-client';
import { buildHealthApp } from './health.ts';

describe('health endpoints', () => {
  it('reports each readiness check by name and fails when one is not ok', async () => {
    const app = buildHealthApp({
      registry: new Registry(),
      readiness: [
        { name: 'informers', check: async () => ({ ok: true }) },
        { name: 'leader-election', check: async () => ({ ok: false, detail: 'lease not acquired yet' }) },
      ],
    });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 503);
    const body = res.json() as { checks: { name: string; ok: boolean; latencyMs: number }[] };
    assert.deepEqual(
      body.checks.map((c) => [c.name, c.ok]),
      [
        ['informers', true],
        ['leader-election', false],
      ],
    );
    assert.equal(typeof body.checks[0]?.latencyMs, 'number');
  });

  it('serves Prometheus text from the injected registry', async () => {
    const registry = new Registry();
    new Counter({ name: 'vaultsync_test_total', help: 'test', registers: [registry] }).inc();
    const res = await buildHealthApp({ registry, readiness: [] }).inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /vaultsync_test_total 1/);
  });

  it('is live until told otherwise', async () => {
    let alive = true;
    const app = buildHealthApp({ registry: new Registry(), readiness: [], alive: () => alive });
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    alive = false;
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 503);
  });
});
