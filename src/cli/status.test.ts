import assert from 'node:assert/strict';
import type { SecretRotation, VaultCertificate, VaultSecret } from '../apis/v1alpha1/index.ts';
import { describeNext, formatStatus, nextRefresh, statusRow } from './status.ts';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const ready = (status: 'True' | 'False', reason: string, message = '') => ({
  type: 'Ready',
  status,
  reason,
  message,
  lastTransitionTime: '2026-01-01T11:00:00Z',
});

const vs: VaultSecret = {
  apiVersion: 'vaultsync.io/v1alpha1',
  kind: 'VaultSecret',
  metadata: { name: 'db', namespace: 'team-a' },
  spec: { backend: 'vault', refreshInterval: '1h', data: [] },
  status: { conditions: [ready('True', 'Synced')], lastRefreshTime: '2026-01-01T11:30:00Z' },
};
const vc: VaultCertificate = {
  apiVersion: 'vaultsync.io/v1alpha1',
  kind: 'VaultCertificate',
  metadata: { name: 'web', namespace: 'team-a' },
  spec: { secretName: 'web-tls', issuer: { backend: 'local-ca' } },
  status: {
    conditions: [ready('False', 'TenancyDenied', 'no')],
    notBefore: '2026-01-01T10:00:00Z',
    renewalTime: '2026-01-02T12:00:00Z',
  },
};
const sr = {
  apiVersion: 'vaultsync.io/v1alpha1',
  kind: 'SecretRotation',
  metadata: { name: 'pw', namespace: 'team-b' },
  spec: { suspend: true },
  status: { lastRotationTime: '2026-01-01T06:00:00Z', nextRotationTime: '2026-01-01T18:00:00Z' },
} as unknown as SecretRotation;

describe('kubectl vaultsync: status', () => {
  it('reads Ready, reason, last sync and next refresh of a VaultSecret', () => {
    assert.deepEqual(statusRow(vs, NOW), {
      kind: 'VaultSecret',
      namespace: 'team-a',
      name: 'db',
      ready: 'True',
      reason: 'Synced',
      message: '',
      lastSync: '2026-01-01T11:30:00Z',
      next: { what: 'refresh', at: '2026-01-01T12:30:00.000Z' },
    });
  });

  it('takes renewal and rotation times from status; no condition yet is Unknown', () => {
    assert.deepEqual(statusRow(vc, NOW).next, { what: 'renewal', at: '2026-01-02T12:00:00Z' });
    assert.equal(statusRow(vc, NOW).lastSync, '2026-01-01T10:00:00Z');
    const row = statusRow(sr, NOW);
    assert.equal(row.ready, 'Unknown');
    assert.deepEqual(row.next, { what: 'rotation', at: '2026-01-01T18:00:00Z', note: 'suspended' });
    assert.equal(describeNext(row.next, NOW), 'in 6h (suspended)');
  });

  it('next refresh: the end of the window after the last recorded read, else within the interval; never with interval 0', () => {
    assert.deepEqual(nextRefresh('2026-01-01T11:40:00Z', '30m', NOW), {
      what: 'refresh',
      at: '2026-01-01T12:10:00.000Z',
    });
    // Reads that changed nothing are not in status: past the interval, the next is within one.
    assert.equal(describeNext(nextRefresh('2026-01-01T11:00:00Z', '30m', NOW), NOW), 'within 30m');
    assert.match(describeNext(nextRefresh('2026-01-01T11:00:00Z', '0', NOW), NOW), /^never/);
    assert.equal(describeNext(nextRefresh(undefined, '1h', NOW), NOW), 'not read yet');
  });

  it('prints a table, with a NAMESPACE column for -A, and the rows as JSON', () => {
    const rows = [statusRow(vs, NOW), statusRow(vc, NOW)];
    const table = formatStatus(rows, 'table', NOW, false);
    assert.match(table, /^KIND\s+NAME\s+READY\s+REASON\s+LAST SYNC\s+NEXT\n/);
    assert.match(table, /VaultSecret\s+db\s+True\s+Synced\s+30m ago\s+refresh in 30m\n/);
    assert.match(table, /VaultCertificate\s+web\s+False\s+TenancyDenied\s+2h ago\s+renewal in 24h\n/);
    assert.match(formatStatus(rows, 'table', NOW, true), /^NAMESPACE\s+KIND/);
    assert.equal(JSON.parse(formatStatus(rows, 'json', NOW, false)).items[1].reason, 'TenancyDenied');
    assert.equal(formatStatus([], 'table', NOW, false), 'No vaultsync resources found.\n');
  });
});
