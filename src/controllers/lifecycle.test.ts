import assert from 'node:assert/strict';
import type { VaultSecret } from '../apis/v1alpha1/index.ts';
import { type KubeEventRecorder, type LifecycleFact, controllerEvents, eventTypeOf } from './lifecycle.ts';

const vs = {
  apiVersion: 'vaultsync.io/v1alpha1',
  kind: 'VaultSecret',
  metadata: { name: 'db', namespace: 'shop' },
} as VaultSecret;
const synced: LifecycleFact = {
  type: 'SecretSynced',
  object: vs,
  reason: 'SecretCreated',
  message: 'Created Secret db',
  secretName: 'db',
};
const failed: LifecycleFact = {
  type: 'SecretSyncFailed',
  object: vs,
  reason: 'BackendUnavailable',
  message: 'down',
  secretName: 'db',
};

function recording(calls: string[]): KubeEventRecorder {
  return {
    normal: async (_o, reason, message) => void calls.push(`normal ${reason} ${message}`),
    warning: async (_o, reason, message) => void calls.push(`warning ${reason} ${message}`),
  };
}

describe('controllerEvents', () => {
  it('records a fact as its Event (failures as Warnings) after handing it to the subscribers, synchronously', async () => {
    const calls: string[] = [];
    const events = controllerEvents(recording(calls), [
      { onLifecycleFact: (f) => void calls.push(`fact ${f.type}`) },
    ]);
    const p = events.fact(synced);
    assert.deepEqual(calls, ['fact SecretSynced', 'normal SecretCreated Created Secret db']);
    await p;
    await events.fact(failed);
    assert.deepEqual(calls.slice(2), ['fact SecretSyncFailed', 'warning BackendUnavailable down']);
  });

  it('passes plain Events through without telling the subscribers', async () => {
    const calls: string[] = [];
    const events = controllerEvents(recording(calls), [{ onLifecycleFact: () => void calls.push('fact') }]);
    await events.normal(vs, 'Restarted', 'x');
    await events.warning(vs, 'RestartSkipped', 'y');
    assert.deepEqual(calls, ['normal Restarted x', 'warning RestartSkipped y']);
  });

  it('never lets a throwing subscriber stop the Event or the other subscribers', async () => {
    const calls: string[] = [];
    const events = controllerEvents(recording(calls), [
      {
        onLifecycleFact: () => {
          throw new Error('boom');
        },
      },
      { onLifecycleFact: (f) => void calls.push(`fact ${f.type}`) },
    ]);
    await events.fact(failed);
    assert.deepEqual(calls, ['fact SecretSyncFailed', 'warning BackendUnavailable down']);
  });

  it('failures are Warnings, the rest Normal', () => {
    assert.equal(eventTypeOf(synced), 'Normal');
    assert.equal(eventTypeOf(failed), 'Warning');
  });
});
