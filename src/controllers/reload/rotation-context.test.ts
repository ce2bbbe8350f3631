import assert from 'node:assert/strict';
import type { SecretRotation, VaultSecret } from '../../apis/v1alpha1/index.ts';
import { Retirements, rotationContext, rotationPolicy } from './rotation-context.ts';

const T0 = Date.parse('2030-01-02T14:00:00Z');
const vs = (path: string, version?: string) =>
  ({
    metadata: { name: 'db', namespace: 'shop' },
    spec: { backend: 'vault', dataFrom: [{ extract: { path, ...(version && { version }) } }] },
  }) as unknown as VaultSecret;
const rotation = {
  metadata: { name: 'db-password', namespace: 'shop' },
  spec: { backend: 'vault', path: 'shop/db', schedule: '@daily', restart: { maxUnavailableTargets: 3 } },
} as unknown as SecretRotation;

describe('rotation context of a Secret change', () => {
  it('names the rotation writing a path the VaultSecret reads at its latest version', () => {
    const r = new Retirements();
    assert.deepEqual(rotationContext(vs('shop/db'), [rotation], r, T0), { rotation: 'db-password' });
    assert.equal(rotationContext(vs('shop/db', '3'), [rotation], r, T0), undefined, 'pinned version');
    assert.equal(rotationContext(vs('shop/api'), [rotation], r, T0), undefined);
  });

  it('suppresses the change while the rotation retires the previous value, and only then', () => {
    const r = new Retirements();
    r.expect({ namespace: 'shop', backend: 'vault', path: 'shop/db' }, T0 + 30_000);
    assert.deepEqual(rotationContext(vs('shop/db'), [rotation], r, T0), {
      rotation: 'db-password',
      suppress: true,
    });
    assert.deepEqual(rotationContext(vs('shop/db'), [rotation], r, T0 + 30_000), { rotation: 'db-password' });
    assert.equal(r.retiring('other', 'vault', 'shop/db', T0), false, 'another namespace');
  });

  it('reads the rotation’s restart settings while it exists', () => {
    const cache = {
      get: (key: string) => (key === 'shop/db-password' ? rotation : undefined),
      list: () => [],
    };
    assert.equal(rotationPolicy(cache, 'shop', 'db-password')?.maxUnavailable, 3);
    assert.equal(rotationPolicy(cache, 'shop', 'gone'), undefined);
  });
});
