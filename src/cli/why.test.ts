import assert from 'node:assert/strict';
import type { VaultSyncResource } from '../apis/v1alpha1/index.ts';
import { issuanceBackoff } from '../controllers/vaultcertificate/renewal.ts';
import { explain, formatExplanation, lastChange, nextRetry, refusalOf } from './why.ts';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const TENANCY =
  'path "team-b/db" is not allowed for namespace "team-a" on backend "vault" (allowedPaths: {namespace}/**; for this namespace: team-a/**)';

const vaultSecret = (status: string, reason: string, message: string) =>
  ({
    apiVersion: 'vaultsync.io/v1alpha1',
    kind: 'VaultSecret',
    metadata: { name: 'db', namespace: 'team-a', uid: 'u1' },
    spec: { backend: 'vault' },
    status: {
      conditions: [{ type: 'Ready', status, reason, message, lastTransitionTime: '2026-01-01T11:58:00Z' }],
    },
  }) as unknown as VaultSyncResource;

describe('kubectl vaultsync: why', () => {
  it('names the tenancy rule that refused, quoted from the message', () => {
    assert.deepEqual(refusalOf('TenancyDenied', TENANCY), {
      by: 'tenancy',
      backend: 'vault',
      rule: 'allowedPaths: {namespace}/**; for this namespace: team-a/**',
      explanation: refusalOf('TenancyDenied', TENANCY)!.explanation,
    });
    const ns = refusalOf(
      'TenancyDenied',
      'namespace "x" may not use backend "vault" (allowedNamespaces: team-*)',
    );
    assert.equal(ns?.rule, 'allowedNamespaces: team-*');
  });

  it("tells the backend's refusal and the apiserver's from vaultsync's", () => {
    assert.equal(
      refusalOf('PermissionDenied', 'vault read team-a/db: permission denied (HTTP 403)')?.by,
      'backend',
    );
    assert.equal(
      refusalOf('SecretWriteFailed', 'secrets "db" is forbidden: admission webhook')?.by,
      'kubernetes',
    );
    assert.equal(refusalOf('SecretWriteFailed', 'the Secret type cannot change'), undefined);
    assert.equal(refusalOf('BackendUnavailable', 'connection refused'), undefined);
  });

  it('next retry: user errors every 5 minutes after the failure, transient ones within 30s', () => {
    const vs = vaultSecret('False', 'TenancyDenied', TENANCY);
    const since = Date.parse('2026-01-01T11:58:00Z');
    assert.equal(nextRetry(vs, 'TenancyDenied', since, NOW).at, '2026-01-01T12:03:00.000Z');
    assert.equal(nextRetry(vs, 'TenancyDenied', since, since + 6 * 60_000).at, '2026-01-01T12:08:00.000Z');
    assert.equal(nextRetry(vs, 'BackendUnavailable', since, NOW).at, undefined);
    assert.match(nextRetry(vs, 'BackendUnavailable', since, NOW).text, /within 30s/);
  });

  it("next retry of a certificate: the operator's own back-off from status", () => {
    const vc = {
      kind: 'VaultCertificate',
      metadata: { name: 'api', namespace: 'team-a', uid: 'u2' },
      status: { failedIssuanceAttempts: 3, lastFailureTime: '2026-01-01T11:59:00Z' },
    } as unknown as VaultSyncResource;
    const at = Date.parse('2026-01-01T11:59:00Z') + issuanceBackoff(3, 'u2');
    assert.equal(nextRetry(vc, 'BackendUnavailable', undefined, NOW).at, new Date(at).toISOString());
  });

  it('explains a failure with its events, and says when there is nothing to explain', () => {
    const events = [
      {
        type: 'Warning',
        reason: 'TenancyDenied',
        message: TENANCY,
        count: 2,
        lastTimestamp: '2026-01-01T11:58:00Z',
      },
    ];
    const x = explain(vaultSecret('False', 'TenancyDenied', TENANCY), events, NOW);
    assert.equal(x.healthy, false);
    assert.equal(x.refusedBy?.by, 'tenancy');
    assert.equal(x.events[0]!.count, 2);
    const text = formatExplanation(x, 'table', NOW);
    assert.match(text, /^VaultSecret team-a\/db: Ready=False\n/);
    assert.match(text, /Refused by:\s+the tenancy rules of backend "vault"/);
    assert.match(text, /Rule:\s+allowedPaths: \{namespace\}\/\*\*; for this namespace: team-a\/\*\*/);
    assert.match(text, /Next retry:\s+in 3m/);
    assert.match(text, /2m ago\s+Warning\s+TenancyDenied\s+path "team-b\/db".*\(x2\)/);
    assert.equal(JSON.parse(formatExplanation(x, 'json', NOW)).refusedBy.backend, 'vault');

    const ok = explain(vaultSecret('True', 'Synced', 'in sync'), [], NOW);
    assert.equal(ok.healthy, true);
    assert.equal(ok.nextRetry, undefined);
    assert.match(formatExplanation(ok, 'table', NOW), /nothing to explain, Ready=True/);
  });

  it('explains a certificate that stays Ready while its renewal fails, from the latest Warning', () => {
    const vc = {
      kind: 'VaultCertificate',
      metadata: { name: 'api', namespace: 'team-a', uid: 'u2' },
      status: {
        failedIssuanceAttempts: 1,
        lastFailureTime: '2026-01-01T11:59:00Z',
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Issued',
            message: 'renewal failing',
            lastTransitionTime: '2026-01-01T10:00:00Z',
          },
        ],
      },
    } as unknown as VaultSyncResource;
    const x = explain(
      vc,
      [{ type: 'Warning', reason: 'PermissionDenied', message: 'denied by issuer "pki"' }],
      NOW,
    );
    assert.deepEqual(x.failure, { reason: 'PermissionDenied', message: 'denied by issuer "pki"' });
    assert.equal(x.refusedBy?.by, 'backend');
    assert.match(formatExplanation(x, 'table', NOW), /Failing:\s+PermissionDenied: denied by issuer "pki"/);
  });

  it('shows the last change from status.history: versions and outcome, never a value', () => {
    const vs = vaultSecret('True', 'Synced', 'ok') as { status: Record<string, unknown> };
    vs.status.history = [
      {
        time: '2026-01-01T11:00:00Z',
        trigger: 'Rotation',
        mac: 'hmac-sha256:v2:x',
        sourceVersions: { 'team-a/db': '4' },
      },
      { time: '2026-01-01T10:00:00Z', trigger: 'FirstSync', mac: 'hmac-sha256:v2:y' },
    ];
    const x = explain(vs as unknown as VaultSyncResource, [], NOW);
    assert.deepEqual(x.lastChange, { time: '2026-01-01T11:00:00Z', what: 'Rotation team-a/db@4' });
    assert.match(
      formatExplanation(x, 'table', NOW),
      /Last change: +60m ago \(2026-01-01T11:00:00Z\): Rotation team-a\/db@4/,
    );
    const rotation = {
      kind: 'SecretRotation',
      metadata: { name: 'db', namespace: 'team-a' },
      spec: {},
      status: { history: [{ version: '5', time: 't', outcome: 'RolledBack', restoredFrom: '2' }] },
    } as unknown as VaultSyncResource;
    assert.equal(lastChange(rotation)?.what, 'version 5 (the value of version 2) RolledBack');
    assert.equal(lastChange(vaultSecret('True', 'Synced', 'ok')), undefined);
  });
});
