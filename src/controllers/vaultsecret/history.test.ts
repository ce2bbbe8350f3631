import assert from 'node:assert/strict';
import type { VaultSecret, VaultSecretHistoryEntry } from '../../apis/v1alpha1/index.ts';
import { HistoryMemory, type SyncCause, historyEntry, historyTrigger, syncHistory } from './history.ts';

const cause = (c: Partial<SyncCause>): SyncCause => ({
  first: false,
  syncNow: false,
  asked: undefined,
  due: 'refresh interval elapsed',
  ...c,
});
const entry = (n: number): VaultSecretHistoryEntry => ({
  time: `2030-01-01T00:00:${String(n).padStart(2, '0')}Z`,
  trigger: 'Refresh',
  mac: `mac-${n}`,
  sourceVersions: { 'shop/db': String(n) },
});
const vsWith = (history: VaultSecretHistoryEntry[] | undefined, historyLimit?: number): VaultSecret => ({
  apiVersion: 'vaultsync.io/v1alpha1',
  kind: 'VaultSecret',
  metadata: { name: 'db', namespace: 'shop' },
  spec: {
    backend: 'vault',
    dataFrom: [{ extract: { path: 'shop/db' } }],
    ...(historyLimit !== undefined && { historyLimit }),
  },
  status: { secretMAC: 'mac-0', ...(history && { history }) },
});

describe('VaultSecret history', () => {
  it('records what caused the read: first sync, sync-now, a rotation or rollback, then why it was due', () => {
    assert.equal(historyTrigger(cause({ first: true, syncNow: true })), 'FirstSync');
    assert.equal(historyTrigger(cause({ syncNow: true, asked: 'Rotation' })), 'SyncNow');
    assert.equal(historyTrigger(cause({ asked: 'Rotation' })), 'Rotation');
    assert.equal(historyTrigger(cause({ asked: 'Rollback', due: 'spec changed' })), 'Rollback');
    assert.equal(historyTrigger(cause({ due: 'spec changed' })), 'SpecChanged');
    assert.equal(historyTrigger(cause({ due: 'not ready' })), 'Retry');
    assert.equal(historyTrigger(cause({ due: 'refresh interval elapsed' })), 'Refresh');
    assert.equal(historyTrigger(cause({ due: 'never read' })), 'Refresh');
    assert.equal(historyTrigger(cause({ due: 'Secret drifted' })), 'SecretDrift');
    assert.equal(historyTrigger(cause({ due: undefined })), 'SecretDrift');
  });

  it('an entry holds time, trigger, MAC and the versions by path, at most 16 (the first by path) and a count', () => {
    const versions = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`p/${String(i).padStart(2, '0')}`, `${i}`]),
    );
    const e = historyEntry({ time: 't', trigger: 'Refresh', mac: 'm', sourceVersions: versions });
    assert.equal(Object.keys(e.sourceVersions ?? {}).length, 16);
    assert.equal(e.sourceVersions?.['p/00'], '0');
    assert.equal(e.sourceVersions?.['p/16'], undefined);
    assert.equal(e.omittedSources, 4);
    const small = historyEntry({
      time: 't',
      trigger: 'SyncNow',
      mac: 'm',
      sourceVersions: { 'shop/db': '3' },
    });
    assert.deepEqual(small, { time: 't', trigger: 'SyncNow', mac: 'm', sourceVersions: { 'shop/db': '3' } });
    assert.deepEqual(historyEntry({ time: 't', trigger: 'Refresh', mac: 'm', sourceVersions: {} }), {
      time: 't',
      trigger: 'Refresh',
      mac: 'm',
    });
  });

  it('a change goes first (the status’s MAC and versions, the time of the sync), newest first, 10 kept by default', () => {
    const old = Array.from({ length: 10 }, (_, i) => entry(10 - i));
    const status = { secretMAC: 'mac-11', sourceVersions: { 'shop/db': '11' } };
    const history = syncHistory(vsWith(old), status, cause({}), Date.parse('2030-01-01T00:00:11Z'));
    assert.deepEqual(history?.[0], entry(11));
    assert.equal(history?.length, 10);
    assert.deepEqual(
      history?.slice(0, 2).map((h) => h.mac),
      ['mac-11', 'mac-10'],
    );
    assert.equal(history?.at(-1)?.mac, 'mac-2');
  });

  it('no change adds nothing (the stored history, as it was); a lowered limit or 0 applies on the next write', () => {
    const old = [entry(3), entry(2), entry(1)];
    assert.deepEqual(syncHistory(vsWith(old), {}, undefined, 0), old);
    assert.deepEqual(syncHistory(vsWith(old, 2), {}, undefined, 0), [entry(3), entry(2)]);
    assert.equal(
      syncHistory(vsWith(old, 0), { secretMAC: 'm' }, cause({}), 0),
      undefined,
      'limit 0 keeps none',
    );
    assert.deepEqual(syncHistory(vsWith(undefined, 50), { secretMAC: 'm' }, cause({ first: true }), 0), [
      { time: '1970-01-01T00:00:00Z', trigger: 'FirstSync', mac: 'm' },
    ]);
    assert.equal(syncHistory(vsWith(undefined), {}, undefined, 0), undefined);
  });

  it('a sync that sees an older cached status neither loses the entry just written nor records the change twice', () => {
    const memory = new HistoryMemory();
    const stale = vsWith([entry(1)]);
    const changed = { secretMAC: 'mac-2', sourceVersions: { 'shop/db': '2' } };
    const written = memory.next('shop/db', stale, changed, cause({ asked: 'Rollback' }), 2000);
    assert.deepEqual(
      written?.map((h) => [h.trigger, h.mac]),
      [
        ['Rollback', 'mac-2'],
        ['Refresh', 'mac-1'],
      ],
    );
    // The Secret's event wakes the resource before the informer has the status just written:
    // the same change read again (as drift) keeps the Rollback entry, once.
    const again = memory.next('shop/db', stale, changed, cause({ due: 'Secret drifted' }), 3000);
    assert.deepEqual(again, written);
    // Once the cache has it, the next change goes first as usual.
    const fresh = vsWith(written);
    const next = memory.next('shop/db', fresh, { secretMAC: 'mac-3' }, cause({}), 4000);
    assert.deepEqual(
      next?.map((h) => h.mac),
      ['mac-3', 'mac-2', 'mac-1'],
    );
    memory.forget('shop/db');
    assert.deepEqual(
      syncHistory(stale, changed, undefined, 0),
      [entry(1)],
      'without memory: the cache as it is',
    );
  });
});
