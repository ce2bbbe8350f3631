import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { ReconcileResultLabel } from '../kube/metrics.ts';
import { createMetrics, registerResourceGauges, type ResourceSample } from './metrics.ts';

type Labels = Record<string, string | number>;

/** The value of one series read back through the registry, or undefined when absent. */
async function value(registry: Registry, name: string, labels: Labels = {}): Promise<number | undefined> {
  const family = name.replace(/_(count|sum|bucket)$/, '');
  const json = await registry.getMetricsAsJSON();
  const metric = json.find((m) => m.name === family);
  if (!metric) return undefined;
  const match = metric.values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? family) === name &&
      Object.keys(labels).length === Object.keys(v.labels).length &&
      Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  );
  return match?.value;
}

async function seriesCount(registry: Registry, name: string): Promise<number> {
  const text = await registry.getSingleMetricAsString(name);
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).length;
}

function sample(overrides: Partial<ResourceSample> = {}): ResourceSample {
  return { kind: 'VaultSecret', namespace: 'team-a', name: 'db', ready: true, ...overrides };
}

describe('createMetrics', () => {
  let registry: Registry;
  beforeEach(() => {
    registry = new Registry();
  });

  describe('workqueue', () => {
    it('moves depth, adds, retries and both duration histograms for its queue only', async () => {
      const m = createMetrics(registry);
      const q = m.workqueue('vaultsecret');
      m.workqueue('other');
      q.depth(3);
      q.add();
      q.add();
      q.retry();
      q.queueLatency(0.25);
      q.workDuration(1.5);

      assert.equal(await value(registry, 'workqueue_depth', { name: 'vaultsecret' }), 3);
      assert.equal(await value(registry, 'workqueue_adds_total', { name: 'vaultsecret' }), 2);
      assert.equal(await value(registry, 'workqueue_retries_total', { name: 'vaultsecret' }), 1);
      assert.equal(
        await value(registry, 'workqueue_queue_duration_seconds_count', { name: 'vaultsecret' }),
        1,
      );
      assert.equal(
        await value(registry, 'workqueue_queue_duration_seconds_sum', { name: 'vaultsecret' }),
        0.25,
      );
      assert.equal(
        await value(registry, 'workqueue_work_duration_seconds_count', { name: 'vaultsecret' }),
        1,
      );
      assert.equal(
        await value(registry, 'workqueue_work_duration_seconds_sum', { name: 'vaultsecret' }),
        1.5,
      );
      assert.equal(await value(registry, 'workqueue_adds_total', { name: 'other' }), 0);
      assert.equal(await value(registry, 'workqueue_depth', { name: 'other' }), 0);
    });

    it('returns the same sink for the same queue name', () => {
      const m = createMetrics(registry);
      assert.equal(m.workqueue('q'), m.workqueue('q'));
    });
  });

  describe('controller', () => {
    it('starts every result at 0 so rates work from the first scrape', async () => {
      createMetrics(registry).controller('vaultsecret');
      for (const result of ['success', 'requeue_after', 'error', 'terminal_error']) {
        assert.equal(
          await value(registry, 'controller_runtime_reconcile_total', { controller: 'vaultsecret', result }),
          0,
          result,
        );
      }
      assert.equal(
        await value(registry, 'controller_runtime_active_workers', { controller: 'vaultsecret' }),
        0,
      );
    });

    it('counts reconciles by result, observes their duration and tracks active workers', async () => {
      const c = createMetrics(registry).controller('vaultsecret');
      c.reconcileTotal('success');
      c.reconcileTotal('success');
      c.reconcileTotal('terminal_error');
      c.reconcileDuration(0.2);
      c.activeWorkers(2);

      const labels = (result: string) => ({ controller: 'vaultsecret', result });
      assert.equal(await value(registry, 'controller_runtime_reconcile_total', labels('success')), 2);
      assert.equal(await value(registry, 'controller_runtime_reconcile_total', labels('terminal_error')), 1);
      assert.equal(await value(registry, 'controller_runtime_reconcile_total', labels('error')), 0);
      assert.equal(
        await value(registry, 'controller_runtime_reconcile_time_seconds_count', {
          controller: 'vaultsecret',
        }),
        1,
      );
      assert.equal(
        await value(registry, 'controller_runtime_reconcile_time_seconds_sum', { controller: 'vaultsecret' }),
        0.2,
      );
      assert.equal(
        await value(registry, 'controller_runtime_active_workers', { controller: 'vaultsecret' }),
        2,
      );
    });

    it('folds an unexpected result into error rather than adding a label value', async () => {
      const c = createMetrics(registry).controller('c');
      c.reconcileTotal('bogus' as ReconcileResultLabel);
      assert.equal(
        await value(registry, 'controller_runtime_reconcile_total', { controller: 'c', result: 'error' }),
        1,
      );
      assert.equal(await seriesCount(registry, 'controller_runtime_reconcile_total'), 4);
    });
  });

  describe('backend', () => {
    it('counts requests by outcome and observes their duration in seconds', async () => {
      const m = createMetrics(registry);
      m.request('vault', 'read', 'success', 120);
      m.request('vault', 'read', 'NotFound', 30);
      m.request('vault', 'read', 'success', 80);

      assert.equal(
        await value(registry, 'vaultsync_backend_requests_total', {
          backend: 'vault',
          operation: 'read',
          outcome: 'success',
        }),
        2,
      );
      assert.equal(
        await value(registry, 'vaultsync_backend_requests_total', {
          backend: 'vault',
          operation: 'read',
          outcome: 'NotFound',
        }),
        1,
      );
      const d = { backend: 'vault', operation: 'read' };
      assert.equal(await value(registry, 'vaultsync_backend_request_duration_seconds_count', d), 3);
      assert.ok(
        Math.abs((await value(registry, 'vaultsync_backend_request_duration_seconds_sum', d))! - 0.23) < 1e-9,
      );
    });

    it('counts the operations of finds, restores and deletes, and drops an unknown operation', async () => {
      const m = createMetrics(registry);
      for (const op of ['list', 'list', 'restore', 'delete'] as const) m.request('vault', op, 'success', 1);
      m.request('vault', 'drop-table' as never, 'success', 1);
      const count = (operation: string) =>
        value(registry, 'vaultsync_backend_requests_total', {
          backend: 'vault',
          operation,
          outcome: 'success',
        });
      assert.deepEqual([await count('list'), await count('restore'), await count('delete')], [2, 1, 1]);
      const text = await registry.getSingleMetricAsString('vaultsync_backend_requests_total');
      assert.equal(text.includes('drop-table'), false);
    });

    it('folds an unknown outcome into Unknown', async () => {
      const m = createMetrics(registry);
      m.request('vault', 'write', 'hunter2' as never, 1);
      const text = await registry.getSingleMetricAsString('vaultsync_backend_requests_total');
      assert.equal(text.includes('hunter2'), false);
      assert.equal(
        await value(registry, 'vaultsync_backend_requests_total', {
          backend: 'vault',
          operation: 'write',
          outcome: 'Unknown',
        }),
        1,
      );
    });

    it('counts throttling by source', async () => {
      const m = createMetrics(registry);
      m.throttled('vault', 'local');
      m.throttled('vault', 'remote');
      m.throttled('vault', 'remote');
      assert.equal(
        await value(registry, 'vaultsync_backend_throttled_total', { backend: 'vault', source: 'local' }),
        1,
      );
      assert.equal(
        await value(registry, 'vaultsync_backend_throttled_total', { backend: 'vault', source: 'remote' }),
        2,
      );
    });

    it('maps circuit states to 0 closed, 1 half-open, 2 open', async () => {
      const m = createMetrics(registry);
      const cases = [
        ['open', 2],
        ['half-open', 1],
        ['closed', 0],
      ] as const;
      for (const [state, expected] of cases) {
        m.circuitState('vault', state);
        assert.equal(
          await value(registry, 'vaultsync_backend_circuit_state', { backend: 'vault' }),
          expected,
          state,
        );
      }
    });

    it('counts coalesced reads', async () => {
      const m = createMetrics(registry);
      m.coalesced('vault');
      m.coalesced('vault');
      assert.equal(await value(registry, 'vaultsync_backend_coalesced_total', { backend: 'vault' }), 2);
    });

    it('counts auth events without exposing the identity', async () => {
      const m = createMetrics(registry);
      m.authEvent('vault', 'login', 'role-canary-7f3a');
      m.authEvent('vault', 'renew-failed', 'role-canary-7f3a');
      assert.equal(
        await value(registry, 'vaultsync_backend_auth_events_total', { backend: 'vault', event: 'login' }),
        1,
      );
      assert.equal(
        await value(registry, 'vaultsync_backend_auth_events_total', {
          backend: 'vault',
          event: 'renew-failed',
        }),
        1,
      );
      assert.equal((await registry.metrics()).includes('role-canary-7f3a'), false);
    });

    it('works with methods detached from the object (passed as callbacks)', async () => {
      const { authEvent, coalesced } = createMetrics(registry);
      authEvent('vault', 'renew');
      coalesced('vault');
      assert.equal(
        await value(registry, 'vaultsync_backend_auth_events_total', { backend: 'vault', event: 'renew' }),
        1,
      );
      assert.equal(await value(registry, 'vaultsync_backend_coalesced_total', { backend: 'vault' }), 1);
    });
  });

  it('reports leadership as 1/0, starting at 0', async () => {
    const m = createMetrics(registry);
    assert.equal(await value(registry, 'vaultsync_leader'), 0);
    m.setLeader(true);
    assert.equal(await value(registry, 'vaultsync_leader'), 1);
    m.setLeader(false);
    assert.equal(await value(registry, 'vaultsync_leader'), 0);
  });

  it('never throws on invalid input and records nothing for it', async () => {
    const m = createMetrics(registry);
    const q = m.workqueue('q');
    const c = m.controller('c');
    assert.doesNotThrow(() => {
      q.depth(NaN);
      q.queueLatency(Infinity);
      q.workDuration(-1);
      c.reconcileDuration(NaN);
      c.activeWorkers(Number.NaN);
      m.request('vault', 'read', 'success', NaN);
      m.circuitState('vault', 'melted' as never);
      m.throttled('vault', 'elsewhere' as never);
      m.authEvent('vault', 'stolen' as never, 'x');
    });
    assert.equal(await value(registry, 'workqueue_queue_duration_seconds_count', { name: 'q' }), undefined);
    assert.equal(await value(registry, 'workqueue_work_duration_seconds_count', { name: 'q' }), undefined);
    assert.equal(
      await value(registry, 'controller_runtime_reconcile_time_seconds_count', { controller: 'c' }),
      undefined,
    );
    assert.equal(await seriesCount(registry, 'vaultsync_backend_circuit_state'), 0);
    assert.equal(await seriesCount(registry, 'vaultsync_backend_throttled_total'), 0);
    assert.equal(await seriesCount(registry, 'vaultsync_backend_auth_events_total'), 0);
  });

  it('keeps two registries apart', async () => {
    const other = new Registry();
    const a = createMetrics(registry);
    const b = createMetrics(other);
    a.workqueue('q').add();
    b.setLeader(true);

    assert.equal(await value(registry, 'workqueue_adds_total', { name: 'q' }), 1);
    assert.equal(await value(other, 'workqueue_adds_total', { name: 'q' }), undefined);
    assert.equal(await value(registry, 'vaultsync_leader'), 0);
    assert.equal(await value(other, 'vaultsync_leader'), 1);
  });
});

describe('registerResourceGauges', () => {
  let registry: Registry;
  let objects: ResourceSample[];
  beforeEach(() => {
    registry = new Registry();
    objects = [];
    registerResourceGauges(registry, () => objects);
  });

  const key = (name: string) => ({ kind: 'VaultSecret', namespace: 'team-a', name });

  it('reads the source at scrape time, not at registration', async () => {
    objects.push(sample({ name: 'db', ready: true, lastSyncTime: '2025-01-02T03:04:05Z' }));
    objects.push(sample({ name: 'cache', ready: false }));

    assert.equal(await value(registry, 'vaultsync_resource_ready', key('db')), 1);
    assert.equal(await value(registry, 'vaultsync_resource_ready', key('cache')), 0);
    assert.equal(
      await value(registry, 'vaultsync_resource_last_sync_timestamp_seconds', key('db')),
      Date.UTC(2025, 0, 2, 3, 4, 5) / 1000,
    );
    assert.equal(
      await value(registry, 'vaultsync_resource_last_sync_timestamp_seconds', key('cache')),
      undefined,
    );
  });

  it('follows changes between scrapes and drops deleted objects', async () => {
    objects.push(sample({ name: 'db', ready: false, lastSyncTime: '2025-01-01T00:00:00Z' }));
    objects.push(sample({ name: 'gone', ready: true, lastSyncTime: '2025-01-01T00:00:00Z' }));
    assert.equal(await seriesCount(registry, 'vaultsync_resource_ready'), 2);

    objects = [sample({ name: 'db', ready: true, lastSyncTime: '2025-01-01T00:01:00Z' })];
    assert.equal(await value(registry, 'vaultsync_resource_ready', key('db')), 1);
    assert.equal(await value(registry, 'vaultsync_resource_ready', key('gone')), undefined);
    assert.equal(
      await value(registry, 'vaultsync_resource_last_sync_timestamp_seconds', key('gone')),
      undefined,
    );
    assert.equal(await seriesCount(registry, 'vaultsync_resource_ready'), 1);
    assert.equal(await seriesCount(registry, 'vaultsync_resource_last_sync_timestamp_seconds'), 1);
  });

  it('leaves ready absent while unknown and skips unparsable sync times', async () => {
    objects.push(sample({ name: 'new', ready: undefined, lastSyncTime: 'not a time' }));
    assert.equal(await seriesCount(registry, 'vaultsync_resource_ready'), 0);
    assert.equal(await seriesCount(registry, 'vaultsync_resource_last_sync_timestamp_seconds'), 0);
  });

  it('serves empty gauges instead of failing the scrape when the source throws', async () => {
    const failing = new Registry();
    registerResourceGauges(failing, () => {
      throw new Error('cache not ready');
    });
    const text = await failing.metrics();
    assert.match(text, /# TYPE vaultsync_resource_ready gauge/);
    assert.equal(await seriesCount(failing, 'vaultsync_resource_ready'), 0);
  });

  it('registers on the given registry only', async () => {
    const other = new Registry();
    registerResourceGauges(other, () => [sample({ name: 'elsewhere' })]);
    objects.push(sample({ name: 'here' }));
    assert.equal(await value(registry, 'vaultsync_resource_ready', key('elsewhere')), undefined);
    assert.equal(await value(other, 'vaultsync_resource_ready', key('elsewhere')), 1);
  });
});
