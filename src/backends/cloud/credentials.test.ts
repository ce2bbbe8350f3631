import assert from 'node:assert/strict';
import { BackendError } from '../../resilience/errors.ts';
import type { KubeSecret, SecretsApi } from '../kube-client.ts';
import { secretRefReader } from './credentials.ts';

function secretsApi(get: (ns: string, name: string) => Promise<KubeSecret | undefined>): SecretsApi {
  return {
    get,
    create: async () => assert.fail('not used'),
    patchData: async () => assert.fail('not used'),
    list: async () => assert.fail('not used'),
    delete: async () => assert.fail('not used'),
    ping: async () => {},
  };
}

describe('secretRefReader', () => {
  it('reads a key, in the operator namespace by default, trimming one newline', async () => {
    const seen: string[] = [];
    const reader = secretRefReader(
      secretsApi(async (ns, name) => {
        seen.push(`${ns}/${name}`);
        return { metadata: { name }, data: { id: Buffer.from('AKID\n').toString('base64') } };
      }),
      'vaultsync',
      'aws',
    );
    assert.equal((await reader.read({ name: 'keys', key: 'id' }, 'the key')).reveal(), 'AKID');
    await reader.read({ name: 'keys', key: 'id', namespace: 'other' }, 'the key');
    assert.deepEqual(seen, ['vaultsync/keys', 'other/keys']);
  });

  it('fails with Unauthenticated naming the Secret and key', async () => {
    const reader = secretRefReader(
      secretsApi(async (_ns, name) => (name === 'keys' ? { metadata: { name }, data: {} } : undefined)),
      'vaultsync',
      'aws',
    );
    await assert.rejects(reader.read({ name: 'keys', key: 'id' }, 'the key'), (err: unknown) => {
      assert.ok(err instanceof BackendError);
      assert.equal(err.code, 'Unauthenticated');
      assert.equal(err.message, 'cannot read the key: Secret vaultsync/keys has no key "id"');
      return true;
    });
    await assert.rejects(
      reader.read({ name: 'gone', key: 'id' }, 'the key'),
      /Secret vaultsync\/gone not found/,
    );
  });

  it('keeps an unreachable apiserver transient', async () => {
    const reader = secretRefReader(
      secretsApi(async () => {
        throw new BackendError('Unavailable', 'connection refused');
      }),
      'vaultsync',
      'aws',
    );
    await assert.rejects(
      reader.read({ name: 'keys', key: 'id' }, 'the key'),
      (err: unknown) => err instanceof BackendError && err.code === 'Unavailable' && err.transient,
    );
  });
});
