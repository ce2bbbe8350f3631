import assert from 'node:assert/strict';
import { MacKeyring } from '../../secrets/mac-keyring.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import {
  type PendingAddition,
  digestsAppliedSince,
  formatPending,
  mergePending,
  workloadDigest,
  workloadDigests,
} from './annotations.ts';
import { macDigest } from '../shared/digests.ts';

const keys = new MacKeyring(new Sensitive<Uint8Array>(Buffer.alloc(32, 3)));
const deployment = (namespace: string, name = 'api') => ({ namespace, kind: 'Deployment', name });

describe('reload digests', () => {
  it('takes the token of a v1 or v2 MAC', () => {
    assert.equal(macDigest('hmac-sha256:v1:abcdefghijklmnopqrstuvwxyz'), 'abcdefghijklmnop');
    assert.equal(macDigest('hmac-sha256:v2:ABCDEFGHIJKLMNOPQRSTUVWXYZ'), 'ABCDEFGHIJKLMNOP');
  });

  it('binds a workload digest to the workload: equal data gives unrelated digests', () => {
    const token = 'sametokensametok';
    const digests = [
      workloadDigest(keys, deployment('team-a'), 'db', token),
      workloadDigest(keys, deployment('team-b'), 'db', token),
      workloadDigest(keys, deployment('team-a', 'web'), 'db', token),
      workloadDigest(keys, { namespace: 'team-a', kind: 'StatefulSet', name: 'api' }, 'db', token),
      workloadDigest(keys, deployment('team-a'), 'cache', token),
    ];
    assert.equal(new Set(digests).size, digests.length);
    for (const d of digests) assert.match(d, new RegExp(`^${keys.keyId}\\.[A-Za-z0-9_-]{22}$`));
    assert.equal(workloadDigest(keys, deployment('team-a'), 'db', token), digests[0]);
    assert.notEqual(workloadDigest(keys, deployment('team-a'), 'db', 'othertokenother1'), digests[0]);
    assert.deepEqual(workloadDigests(keys, deployment('team-a'), { db: token }), { db: digests[0] });
  });

  describe('digestsAppliedSince', () => {
    const wanted = workloadDigests(keys, deployment('team-a'), { db: 'tokentokentoken1' });
    const written = { db: Date.parse('2026-01-01T10:00:00Z') };
    const after = Date.parse('2026-01-01T10:05:00Z');
    const before = Date.parse('2026-01-01T09:55:00Z');

    it('is digestsApplied for digests of the current key', () => {
      assert.equal(digestsAppliedSince(wanted, wanted, keys.keyId, NaN), true);
      const other = workloadDigests(keys, deployment('team-a'), { db: 'tokentokentoken2' });
      // Another digest of the current key is other data, whenever the restart was.
      assert.equal(digestsAppliedSince(other, wanted, keys.keyId, after, written), false);
      assert.equal(digestsAppliedSince({}, wanted, keys.keyId, after, written), false);
      assert.equal(digestsAppliedSince(wanted, {}, keys.keyId, after, written), false);
    });

    it('counts a digest from before the upgrade (v1) or of a retired key only when restarted since the data was written', () => {
      for (const old of ['abcdefghijklmnop', 'Zzzz.abcdefghijklmnopqrstuv']) {
        assert.equal(digestsAppliedSince({ db: old }, wanted, keys.keyId, after, written), true, old);
        assert.equal(digestsAppliedSince({ db: old }, wanted, keys.keyId, before, written), false, old);
        assert.equal(digestsAppliedSince({ db: old }, wanted, keys.keyId, NaN, written), false, old);
        assert.equal(digestsAppliedSince({ db: old }, wanted, keys.keyId, after), false, old);
      }
    });
  });

  it('takes the same data signalled twice as one change: the debounce counts from the first', () => {
    const change = (at: number, digest = 'd1', rotation?: string): PendingAddition => ({
      secrets: { db: digest },
      at,
      group: rotation ? `SecretRotation/${rotation}` : 'VaultSecret/db',
      ...(rotation && { rotation }),
      reason: 'Secret db changed',
    });
    const first = mergePending(undefined, [change(1000)])!;
    const again = mergePending(first, [change(1040)])!;
    assert.equal(again.last, 1000, 'a repeat does not push the debounce later');
    assert.equal(formatPending(again), formatPending(first), 'so the stored record is not rewritten');
    // New data, or a SecretRotation taking the burst over, is news.
    assert.equal(mergePending(first, [change(1040, 'd2')])!.last, 1040);
    assert.equal(mergePending(first, [change(1040, 'd1', 'r')])!.rotation, 'r');
    // Within one batch of unsaved changes too.
    assert.equal(mergePending(undefined, [change(1000), change(1040)])!.last, 1000);
  });
});
