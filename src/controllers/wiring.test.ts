import assert from 'node:assert/strict';
import type { SecretRotation, VaultSecret } from '../apis/v1alpha1/index.ts';
import { resourceSamples } from './wiring.ts';

const cache = <T>(items: T[]) => ({ get: () => undefined, list: () => items });
const ready = (status: string) => ({
  conditions: [{ type: 'Ready', status, reason: 'x', message: '', lastTransitionTime: '' }],
});

describe('resourceSamples', () => {
  it('gives every resource its Ready state (none while Unknown or missing) and last sync', () => {
    const vaultSecrets = [
      {
        metadata: { name: 'a', namespace: 'shop' },
        status: { ...ready('True'), lastSyncTime: '2030-01-01T00:00:00Z' },
      },
      { metadata: { name: 'b', namespace: 'shop' }, status: ready('Unknown') },
      { metadata: { name: 'c', namespace: 'shop' } },
    ] as unknown as VaultSecret[];
    const rotations = [
      {
        metadata: { name: 'r', namespace: 'shop' },
        status: { ...ready('False'), lastRotationTime: '2030-01-02T00:00:00Z' },
      },
    ] as unknown as SecretRotation[];
    const samples = [
      ...resourceSamples(cache(vaultSecrets), cache(rotations), () => [
        { namespace: 'shop', name: 'web', ready: true },
      ]),
    ];
    assert.deepEqual(
      samples.map((s) => [s.kind, s.name, s.ready, s.lastSyncTime]),
      [
        ['VaultSecret', 'a', true, '2030-01-01T00:00:00Z'],
        ['VaultSecret', 'b', undefined, undefined],
        ['VaultSecret', 'c', undefined, undefined],
        ['SecretRotation', 'r', false, '2030-01-02T00:00:00Z'],
        ['VaultCertificate', 'web', true, undefined],
      ],
    );
  });
});
