import assert from 'node:assert/strict';
import { MacKeyring } from '../../secrets/mac-keyring.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import type { PendingRestart } from './annotations.ts';
import {
  combinePending,
  decodeRecord,
  encodeRecord,
  owedRestart,
  recordChanged,
  recordKey,
} from './pending-records.ts';
import type { WorkloadRef } from '../contracts.ts';

const key = (byte: number) => new Sensitive<Uint8Array>(Buffer.alloc(32, byte));
const keys = new MacKeyring(key(1));
const T0 = Date.parse('2030-01-02T14:00:00Z');
const api: WorkloadRef = { kind: 'Deployment', namespace: 'team-a', name: 'api' };
const pending = (over: Partial<PendingRestart> = {}): PendingRestart => ({
  secrets: { db: 'AAAAAAAAAAAAAAAA' },
  first: T0,
  last: T0 + 1000,
  group: 'VaultSecret/db',
  reasons: ['Secret db changed'],
  ...over,
});

describe('pending restart records', () => {
  it('keys a record by namespace, kind and name, hashed when too long for a ConfigMap key', () => {
    assert.equal(recordKey(api), 'team-a.Deployment.api');
    assert.equal(recordKey({ ...api, name: 'a.b-c' }), 'team-a.Deployment.a.b-c');
    const long = { ...api, name: 'x'.repeat(253) };
    const k = recordKey(long);
    assert.ok(k.length <= 253, 'a valid ConfigMap data key');
    assert.match(k, /^team-a\.Deployment\.[0-9a-f]{64}$/);
    assert.notEqual(recordKey({ ...long, name: 'y'.repeat(253) }), k);
  });

  it('reads back what it stored', () => {
    const p = pending({ rotation: 'db-rotation', group: 'SecretRotation/db-rotation' });
    const decoded = decodeRecord(keys, recordKey(api), encodeRecord(keys, api, p));
    assert.deepEqual(decoded, { ok: true, ref: api, pending: p });
  });

  it('ignores a record vaultsync did not make: edited, moved to another workload, another key, garbage', () => {
    const value = encodeRecord(keys, api, pending());
    const raw = JSON.parse(value) as { workload: string; pending: string; mac: string };

    const edited = JSON.stringify({ ...raw, pending: raw.pending.replace('AAAA', 'BBBB') });
    assert.deepEqual(decodeRecord(keys, recordKey(api), edited), { ok: false, why: 'BadMac' });

    // The same record claimed for another workload (key and workload both changed): its MAC is
    // bound to the workload it was made for.
    const web: WorkloadRef = { ...api, name: 'web' };
    const moved = JSON.stringify({ ...raw, workload: 'team-a/Deployment/web' });
    assert.deepEqual(decodeRecord(keys, recordKey(web), moved), { ok: false, why: 'BadMac' });
    // Under a key that is not its workload's.
    assert.deepEqual(decodeRecord(keys, recordKey(web), value), { ok: false, why: 'Malformed' });

    const other = new MacKeyring(key(2));
    assert.deepEqual(decodeRecord(other, recordKey(api), value), { ok: false, why: 'BadMac' });

    for (const junk of ['', 'null', '{}', '[1]', 'not json', JSON.stringify({ ...raw, mac: 7 })]) {
      assert.deepEqual(decodeRecord(keys, recordKey(api), junk), { ok: false, why: 'Malformed' }, junk);
    }
  });

  it('still reads a record made with a MAC key being rotated out', () => {
    const value = encodeRecord(keys, api, pending());
    const rotated = new MacKeyring(key(2), [key(1)]);
    assert.equal(decodeRecord(rotated, recordKey(api), value).ok, true);
  });

  it('combines a stored record with an earlier release’s annotation', () => {
    const annotation = pending({
      secrets: { db: 'OLDOLDOLDOLDOLDO', cache: 'CCCCCCCCCCCCCCCC' },
      first: T0 - 60_000,
      last: T0 - 30_000,
      reasons: ['Secret cache changed'],
    });
    const stored = pending();
    const both = combinePending(stored, annotation);
    assert.deepEqual(both, {
      secrets: { db: 'AAAAAAAAAAAAAAAA', cache: 'CCCCCCCCCCCCCCCC' },
      first: T0 - 60_000,
      last: T0 + 1000,
      group: 'VaultSecret/db',
      reasons: ['Secret cache changed', 'Secret db changed'],
    });
    assert.deepEqual(combinePending(annotation, stored), both, 'order does not matter');
    assert.equal(combinePending(undefined, stored), stored);
    assert.equal(combinePending(stored, undefined), stored);
    assert.equal(combinePending(undefined, undefined), undefined);
  });

  it('lets a SecretRotation’s group win when either record has one', () => {
    const rotation = pending({ last: T0, rotation: 'r', group: 'SecretRotation/r' });
    const later = pending({ last: T0 + 5000, group: 'VaultSecret/db' });
    const both = combinePending(later, rotation)!;
    assert.equal(both.rotation, 'r');
    assert.equal(both.group, 'SecretRotation/r');
  });

  it('keeps an unreadable annotation’s restart owed without inventing a time', () => {
    // parsePending of a broken annotation: a restart is owed, nothing else known.
    const broken: PendingRestart = { secrets: {}, first: 0, last: 0, group: 'unknown', reasons: [] };
    const both = combinePending(broken, pending())!;
    assert.equal(both.first, T0);
    assert.equal(both.last, T0 + 1000);
  });

  it('tells whether a record would change what is stored', () => {
    assert.equal(recordChanged(undefined, pending()), true);
    assert.equal(recordChanged(pending(), pending()), false);
    assert.equal(recordChanged(pending(), pending({ last: T0 + 2000 })), true);
    assert.equal(recordChanged(pending(), pending({ secrets: { db: 'BBBBBBBBBBBBBBBB' } })), true);
  });
});

describe('owedRestart', () => {
  it('is the stored record, an earlier release’s annotation and the unsaved changes, as one', () => {
    const T = Date.parse('2030-01-02T14:00:00Z');
    const stored = {
      secrets: { db: 'a' },
      first: T,
      last: T,
      group: 'VaultSecret/db',
      reasons: ['Secret db changed'],
    };
    const legacy = JSON.stringify({
      secrets: { api: 'b' },
      first: new Date(T - 1000).toISOString(),
      group: 'VaultSecret/api',
      reasons: ['old'],
    });
    const owed = owedRestart(stored, legacy, [
      { secrets: { db: 'c' }, at: T + 5000, group: 'SecretRotation/pw', rotation: 'pw', reason: 'rotated' },
    ]);
    assert.deepEqual(owed, {
      secrets: { api: 'b', db: 'c' },
      first: T - 1000,
      last: T + 5000,
      group: 'SecretRotation/pw',
      rotation: 'pw',
      reasons: ['old', 'Secret db changed', 'rotated'],
    });
    assert.equal(owedRestart(undefined, undefined, []), undefined);
  });
});
