import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { tokenDigest } from '../../../apis/v1alpha1/trigger-token.ts';
import { FakeRest } from '../../../kube/testing.ts';
import { ROLLBACK, rollbackOperation } from './rollback.ts';
import { triggerState } from './triggers.ts';
import type { OperationContext } from './types.ts';

const ready = (status: 'True' | 'False', reason: string) => [
  { type: 'Ready', status, reason, message: 'why', lastTransitionTime: '2030-01-01T00:00:00Z' },
];

function setup() {
  const patches: { path: string; body: unknown }[] = [];
  let status: Record<string, unknown> | undefined;
  const rest = new FakeRest((req) => {
    if (req.method === 'GET' && req.path === '/apis/vaultsync.io/v1alpha1') {
      return { resources: [{ name: 'secretrotations', kind: 'SecretRotation', namespaced: true }] };
    }
    if (req.method === 'PATCH') patches.push({ path: req.path, body: req.body });
    return {};
  });
  const op = rollbackOperation(
    {
      client: rest.client(),
      vaultSecrets: { get: () => undefined },
      rotations: { get: () => ({ status }) },
      pollMs: 5,
    },
    { requestTimeoutMs: 30_000 },
  );
  const audits: unknown[] = [];
  const ctx: OperationContext = {
    caller: { user: 'u', groups: [] },
    audit: (d) => void audits.push(d),
  };
  return { op, patches, audits, ctx, answer: (s: Record<string, unknown>) => void (status = s) };
}

describe('rollback through the API', () => {
  it('asks RBAC for create on secretrotations/rollback, for the object named', () => {
    const { op } = setup();
    assert.equal(op.action, 'secretrotations.rollback');
    assert.deepEqual(op.access({ namespace: 'shop', name: 'db', backend: '', issuer: '' }), {
      verb: 'create',
      resource: 'secretrotations',
      subresource: 'rollback',
      namespace: 'shop',
      name: 'db',
    });
  });

  it('takes a version and a wait, nothing else', () => {
    const body = setup().op.schema.body!;
    assert.ok(Value.Check(body, { toVersion: '2' }));
    assert.ok(Value.Check(body, { toVersion: 'f1e2d3c4-b5a6-4789-9012-3456789abcde', waitSeconds: 10 }));
    for (const bad of [
      {},
      { toVersion: '' },
      { toVersion: '2#x' },
      { toVersion: '../1' },
      { toVersion: '2', x: 1 },
    ])
      assert.ok(!Value.Check(body, bad), JSON.stringify(bad));
    assert.ok(!Value.Check(body, { toVersion: '2', waitSeconds: 26 }), 'the wait is bounded by the timeout');
  });

  it('writes the annotation rollback-to: the version, then a fresh token; audits the version asked for', async () => {
    const { op, patches, audits, ctx } = setup();
    const first = await op.run({ namespace: 'shop', name: 'db', toVersion: '2' }, ctx);
    const second = await op.run({ namespace: 'shop', name: 'db', toVersion: '2' }, ctx);
    assert.match(first.token, /^2#\d{4}-\d\d-\d\dT.*-[0-9a-f]{8}$/);
    assert.notEqual(first.token, second.token, 'the same version twice is two rollbacks');
    assert.deepEqual(patches[0], {
      path: '/apis/vaultsync.io/v1alpha1/namespaces/shop/secretrotations/db',
      body: { metadata: { annotations: { 'vaultsync.io/rollback-to': first.token } } },
    });
    assert.deepEqual(first.results, [{ name: 'db', state: 'Pending' }]);
    assert.deepEqual(audits[0], { resource: 'SecretRotation/db', detail: { toVersion: '2' } });
  });

  it('answers Done once rolled out, Failed when refused, Pending while its consumers roll out', () => {
    const token = '2#t';
    const answered = (reason: string, value: 'True' | 'False') => ({
      status: { rollbackToHandled: tokenDigest(token), conditions: ready(value, reason) },
    });
    assert.equal(
      triggerState(ROLLBACK, { status: { rotateNowHandled: tokenDigest(token) } }, token),
      'Pending',
    );
    assert.equal(triggerState(ROLLBACK, answered('RollingOut', 'False'), token), 'Pending');
    assert.equal(triggerState(ROLLBACK, answered('Rotated', 'True'), token), 'Done');
    assert.equal(triggerState(ROLLBACK, answered('RollbackRefused', 'False'), token), 'Failed');
  });

  it('with a wait, answers as soon as the leader has: refused is Failed with its reason', async () => {
    const { op, ctx, patches, answer } = setup();
    const call = op.run({ namespace: 'shop', name: 'db', toVersion: '9', waitSeconds: 5 }, ctx);
    await new Promise((r) => setTimeout(r, 30));
    const written = (patches[0]?.body as { metadata: { annotations: Record<string, string> } }).metadata
      .annotations['vaultsync.io/rollback-to']!;
    answer({ rollbackToHandled: tokenDigest(written), conditions: ready('False', 'RollbackRefused') });
    const started = Date.now();
    const result = await call;
    assert.ok(Date.now() - started < 1000, 'not the whole wait');
    assert.deepEqual(result.results, [
      { name: 'db', state: 'Failed', reason: 'RollbackRefused', message: 'why' },
    ]);
  });
});
