import assert from 'node:assert/strict';
import { statusEqual, withRemovals } from './status-write.ts';

describe('VaultSecret status write', () => {
  it('sends a field or map key the new status no longer has as null (a merge patch keeps what it omits)', () => {
    assert.deepEqual(
      withRemovals(
        { secretMAC: 'm', history: [{ time: 't' }], sourceVersions: { a: '1', b: '2' } },
        { secretMAC: 'n', sourceVersions: { a: '2' } },
      ),
      { secretMAC: 'n', history: null, sourceVersions: { a: '2', b: null } },
    );
  });

  it('adds nothing when nothing was removed; arrays are sent whole; undefined counts as removed', () => {
    const next = { conditions: [{ type: 'Ready' }], history: [{ time: 't2' }, { time: 't1' }] };
    assert.deepEqual(withRemovals({ history: [{ time: 't1' }] }, next), next);
    assert.deepEqual(withRemovals({ a: 1 }, { a: undefined }), { a: null });
    assert.deepEqual(withRemovals({}, { a: 1 }), { a: 1 });
  });

  it('equality ignores key order and absent fields', () => {
    assert.ok(statusEqual({ secretMAC: 'm', lastSyncTime: 't' }, { lastSyncTime: 't', secretMAC: 'm' }));
    assert.ok(statusEqual(undefined, {}));
    assert.ok(!statusEqual({ history: [] }, {}));
  });
});
