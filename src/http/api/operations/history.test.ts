import assert from 'node:assert/strict';
import type { AuditDetail, RouteParams } from '../access.ts';
import type { Caller } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { historyOperations } from './history.ts';

const change = { time: '2030-01-01T00:00:00Z', trigger: 'Refresh' as const, mac: 'hmac-sha256:x' };
const rotation = { version: '3', time: '2030-01-01T00:00:00Z', outcome: 'Succeeded' as const };
const objects = new Map<string, { status?: { history?: never[] } }>([
  ['shop/db', { status: { history: [change] as never[] } }],
  ['shop/api-key', { status: { history: [rotation] as never[] } }],
  ['shop/new', {}],
]);
const ops = historyOperations({ vaultSecrets: objects, rotations: objects });
const audits: AuditDetail[] = [];
const params = (name: string): RouteParams => ({ namespace: 'shop', name, backend: '', issuer: '' });
const ctx = {
  caller: { username: 'u', groups: [] } as unknown as Caller,
  audit: (d: AuditDetail) => void audits.push(d),
};

describe('history operations', () => {
  it('need get on the resource itself, by name (what kubectl get needs)', () => {
    assert.deepEqual(ops.vaultSecret.access(params('db')), {
      verb: 'get',
      resource: 'vaultsecrets',
      namespace: 'shop',
      name: 'db',
    });
    assert.equal(ops.rotation.access(params('api-key')).resource, 'secretrotations');
    assert.equal(ops.vaultSecret.action, 'vaultsecrets.history');
  });

  it('answer status.history from the cache, newest first as stored; empty when none; audited by name', async () => {
    assert.deepEqual(await ops.vaultSecret.run({ namespace: 'shop', name: 'db' }, ctx), {
      namespace: 'shop',
      name: 'db',
      kind: 'VaultSecret',
      history: [change],
    });
    assert.deepEqual((await ops.rotation.run({ namespace: 'shop', name: 'api-key' }, ctx)).history, [
      rotation,
    ]);
    assert.deepEqual((await ops.vaultSecret.run({ namespace: 'shop', name: 'new' }, ctx)).history, []);
    assert.deepEqual(audits[0], { resource: 'VaultSecret/db' });
  });

  it('a name not in the cache (or in another namespace) is NotFound', async () => {
    await assert.rejects(
      ops.vaultSecret.run({ namespace: 'other', name: 'db' }, ctx),
      (e: unknown) =>
        e instanceof ApiError && e.code === 'NotFound' && /VaultSecret "db" not found/.test(e.message),
    );
  });
});
