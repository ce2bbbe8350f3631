import assert from 'node:assert/strict';
import { FakeClock } from './fake-clock.ts';
import { EventRecorder } from './events.ts';
import type { RestRequest } from './rest.ts';
import { FakeRest, RecordingLogger, apiError } from './testing.ts';

const secret = {
  apiVersion: 'vaultsync.io/v1alpha1',
  kind: 'VaultSecret',
  metadata: { name: 'db', namespace: 'shop', uid: 'u-1', resourceVersion: '7' },
};

function setup(handler?: (req: RestRequest) => unknown) {
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  const rest = new FakeRest(handler);
  const log = new RecordingLogger();
  const recorder = new EventRecorder({
    client: rest.client(),
    instance: 'vaultsync-0',
    clock,
    logger: log,
    dedupWindowMs: 60_000,
    sanitize: (m) => m.replaceAll('hunter2', '[REDACTED]'),
  });
  return { clock, rest, log, recorder };
}

describe('EventRecorder', () => {
  it('writes a core/v1 Event about the object, reported by vaultsync', async () => {
    const { rest, recorder } = setup();
    await recorder.normal(secret, 'Synced', 'Updated Secret shop/db');
    const req = rest.requests[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/api/v1/namespaces/shop/events');
    const body = req.body as Record<string, unknown>;
    assert.deepEqual(body.involvedObject, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultSecret',
      name: 'db',
      namespace: 'shop',
      uid: 'u-1',
      resourceVersion: '7',
    });
    assert.equal(body.type, 'Normal');
    assert.equal(body.reason, 'Synced');
    assert.equal(body.reportingComponent, 'vaultsync');
    assert.equal(body.reportingInstance, 'vaultsync-0');
    assert.deepEqual(body.source, { component: 'vaultsync' });
    assert.equal(body.firstTimestamp, '2030-01-01T00:00:00Z');
    assert.match((body.metadata as { name: string }).name, /^db\.[0-9a-f]+$/);
  });

  it('drops an identical event inside the window; after it, bumps the count of the Event written', async () => {
    const { clock, rest, recorder } = setup();
    await recorder.warning(secret, 'BackendError', 'vault sealed');
    await recorder.warning(secret, 'BackendError', 'vault sealed');
    assert.equal(rest.requests.length, 1);
    await recorder.warning(secret, 'BackendError', 'vault unreachable');
    assert.equal(rest.requests.length, 2, 'a different message is a different event');
    clock.advance(60_000);
    await recorder.warning(secret, 'BackendError', 'vault sealed');
    assert.equal(rest.requests.length, 3);
    const name = (rest.requests[0]!.body as { metadata: { name: string } }).metadata.name;
    const bump = rest.requests[2]!;
    assert.equal(bump.method, 'PATCH');
    assert.equal(bump.path, `/api/v1/namespaces/shop/events/${name}`);
    assert.deepEqual(bump.body, { count: 2, lastTimestamp: '2030-01-01T00:01:00Z' });
  });

  it('creates the Event anew when the one to bump is gone (expired)', async () => {
    const { clock, rest, recorder } = setup();
    await recorder.warning(secret, 'BackendError', 'vault sealed');
    rest.handler = (req) => {
      if (req.method === 'PATCH') throw apiError(404, 'NotFound');
      return {};
    };
    clock.advance(120_000);
    await recorder.warning(secret, 'BackendError', 'vault sealed');
    assert.deepEqual(
      rest.requests.map((r) => r.method),
      ['POST', 'PATCH', 'POST'],
    );
  });

  it('limits a burst of Normal events of one reason across objects, never Warnings', async () => {
    const { clock, rest, recorder } = setup();
    const vs = (i: number) => ({ ...secret, metadata: { ...secret.metadata, name: `r${i}`, uid: `u${i}` } });
    for (let i = 0; i < 100; i++) await recorder.normal(vs(i), 'SecretCreated', `Created Secret r${i}`);
    assert.equal(rest.requests.length, 25, 'the burst');
    clock.advance(1_000);
    for (let i = 100; i < 110; i++) await recorder.normal(vs(i), 'SecretCreated', `Created Secret r${i}`);
    assert.equal(rest.requests.length, 30, 'five a second after it');
    for (let i = 0; i < 40; i++) await recorder.warning(vs(i), 'BackendError', 'sealed');
    assert.equal(rest.requests.length, 70, 'every Warning');
  });

  it("limits one object's events like client-go's spam filter: 25, then one per 5 minutes", async () => {
    const { clock, rest, recorder } = setup();
    for (let i = 0; i < 30; i++) await recorder.warning(secret, 'Failed', `attempt ${i}`);
    assert.equal(rest.requests.length, 25);
    clock.advance(5 * 60_000);
    await recorder.warning(secret, 'Failed', 'attempt 30');
    await recorder.warning(secret, 'Failed', 'attempt 31');
    assert.equal(rest.requests.length, 26);
  });

  it('passes messages through the sanitiser and caps them', async () => {
    const { rest, recorder } = setup();
    await recorder.warning(secret, 'Failed', `password hunter2 rejected ${'x'.repeat(3000)}`);
    const message = (rest.requests[0]!.body as { message: string }).message;
    assert.ok(!message.includes('hunter2'));
    assert.ok(message.length <= 1025);
  });

  it('never throws when the API server refuses, and logs without the body', async () => {
    const { rest, log, recorder } = setup(() => {
      throw apiError(403, 'Forbidden', 'events is forbidden');
    });
    await recorder.normal(secret, 'Synced', 'x');
    assert.equal(rest.requests.length, 1);
    assert.ok(log.records.some((r) => r.level === 'warn' && r.message === 'Failed to record Event'));
    // A failed event is not remembered: the next identical one is tried again.
    rest.handler = () => ({});
    await recorder.normal(secret, 'Synced', 'x');
    assert.equal(rest.requests.length, 2);
  });

  it('puts events about cluster-scoped objects in the default namespace', async () => {
    const { rest, recorder } = setup();
    await recorder.normal({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, 'Seen', 'x');
    assert.equal(rest.requests[0]!.path, '/api/v1/namespaces/default/events');
  });

  it('remembers a bounded number of events', async () => {
    const clock = new FakeClock(0);
    const rest = new FakeRest();
    const recorder = new EventRecorder({ client: rest.client(), instance: 'i', clock, maxTracked: 3 });
    for (let i = 0; i < 5; i++) await recorder.normal(secret, 'R', `m${i}`);
    await recorder.normal(secret, 'R', 'm0');
    assert.equal(rest.requests.length, 6, 'the oldest entry was evicted, so m0 went out again');
  });
});
