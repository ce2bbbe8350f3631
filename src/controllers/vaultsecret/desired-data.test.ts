import assert from 'node:assert/strict';
import type { VaultSecretSpec } from '../../apis/v1alpha1/index.ts';
import { dataFromObject } from '../../backends/property.ts';
import type { RemoteSecret } from '../../backends/types.ts';
import { sourceKey, sourceRefs } from '../shared/source-refs.ts';
import { desiredSecretData } from './desired-data.ts';

const remote = (obj: Record<string, unknown>, version = '1'): RemoteSecret => ({
  data: dataFromObject(obj),
  version,
});
const text = (data: ReadonlyMap<string, Buffer>) =>
  Object.fromEntries([...data].map(([k, v]) => [k, v.toString('utf8')]));

describe('desired Secret data', () => {
  const fetched = new Map([
    ['shop/db', remote({ password: 'pw', user: 'app' })],
    ['shop/db@2', remote({ password: 'old', user: 'app' }, '2')],
    ['shop/common', remote({ region: 'eu', user: 'shared' })],
    ['shop/single', remote({ token: 't' })],
  ]);

  it('reads each remote secret once, pinned versions apart', () => {
    const spec: VaultSecretSpec = {
      backend: 'vault',
      data: [
        { secretKey: 'a', remoteRef: { path: 'shop/db', property: 'password' } },
        { secretKey: 'b', remoteRef: { path: 'shop/db', property: 'user' } },
        { secretKey: 'c', remoteRef: { path: 'shop/db', property: 'password', version: '2' } },
      ],
    };
    assert.deepEqual(sourceRefs(spec).map(sourceKey), ['shop/db', 'shop/db@2']);
  });

  it('copies dataFrom keys, then lets data keys override them', () => {
    const spec: VaultSecretSpec = {
      backend: 'vault',
      dataFrom: [{ extract: { path: 'shop/common' } }],
      data: [{ secretKey: 'user', remoteRef: { path: 'shop/db', property: 'user' } }],
    };
    assert.deepEqual(text(desiredSecretData(spec, fetched).reveal()), { region: 'eu', user: 'app' });
  });

  it('uses the only value, or all keys as JSON, when no property is named', () => {
    const spec: VaultSecretSpec = {
      backend: 'vault',
      data: [
        { secretKey: 'token', remoteRef: { path: 'shop/single' } },
        { secretKey: 'all', remoteRef: { path: 'shop/db' } },
      ],
    };
    assert.deepEqual(text(desiredSecretData(spec, fetched).reveal()), {
      token: 't',
      all: '{"password":"pw","user":"app"}',
    });
  });

  it('writes only the templated keys when templates are set', () => {
    const spec: VaultSecretSpec = {
      backend: 'vault',
      data: [
        {
          secretKey: 'password',
          remoteRef: { path: 'shop/db@2'.split('@')[0] as string, property: 'password', version: '2' },
        },
      ],
      target: { template: { data: { url: 'postgres://app:{{ password }}@db' } } },
    };
    assert.deepEqual(text(desiredSecretData(spec, fetched).reveal()), { url: 'postgres://app:old@db' });
  });

  it('refuses templates over the limits before rendering anything (TemplateError)', () => {
    const big = new Map([['shop/big', remote({ a: 'x'.repeat(16 * 1024) })]]);
    const spec = (template: string): VaultSecretSpec => ({
      backend: 'vault',
      data: [{ secretKey: 'a', remoteRef: { path: 'shop/big', property: 'a' } }],
      target: { template: { data: { bomb: template } } },
    });
    assert.throws(() => desiredSecretData(spec('{{a}}'.repeat(20_000)), big), {
      name: 'TemplateError',
      message: 'templates use more than 1000 placeholders, the limit per Secret',
    });
    assert.throws(() => desiredSecretData(spec('{{a}}'.repeat(100)), big), {
      name: 'TemplateError',
      message: 'templates would render more than 1 MiB, the limit per Secret',
    });
  });

  it('fails with NotFound naming the property, never a value', () => {
    const spec: VaultSecretSpec = {
      backend: 'vault',
      data: [{ secretKey: 'x', remoteRef: { path: 'shop/db', property: 'missing' } }],
    };
    assert.throws(
      () => desiredSecretData(spec, fetched),
      (err: Error & { code?: string }) =>
        err.code === 'NotFound' && /missing/.test(err.message) && !/pw/.test(err.message),
    );
  });
});
