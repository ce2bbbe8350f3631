import assert from 'node:assert/strict';
import type { Condition } from '../../kube/conditions.ts';
import { blockedWarningIsNew, issuanceWarningIsNew, said } from './warnings.ts';

const cond = (type: string, status: Condition['status'], reason: string, message: string): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2030-01-01T00:00:00Z',
});

describe('VaultCertificate: one Warning per change of a failure', () => {
  it('before issuance: new unless Ready=False already says it, or this replica said it while status was refused', () => {
    assert.equal(blockedWarningIsNew(undefined, 'IssuerNotFound', 'm', undefined), true);
    assert.equal(
      blockedWarningIsNew(cond('Ready', 'False', 'IssuerNotFound', 'm'), 'IssuerNotFound', 'm', undefined),
      false,
    );
    assert.equal(
      blockedWarningIsNew(
        cond('Ready', 'False', 'IssuerNotFound', 'm'),
        'IssuerNotFound',
        'other',
        undefined,
      ),
      true,
    );
    assert.equal(
      blockedWarningIsNew(cond('Ready', 'True', 'IssuerNotFound', 'm'), 'IssuerNotFound', 'm', undefined),
      true,
    );
    assert.equal(blockedWarningIsNew(undefined, 'IssuerNotFound', 'm', said('IssuerNotFound', 'm')), false);
  });

  it('a failed issuance: new unless Ready or Issuing (Ready=True while renewal fails) already says it', () => {
    const none = { ready: undefined, issuing: undefined };
    assert.equal(issuanceWarningIsNew(none, 'PermissionDenied', 'denied', undefined), true);
    const inReady = { ready: cond('Ready', 'False', 'PermissionDenied', 'denied'), issuing: undefined };
    assert.equal(issuanceWarningIsNew(inReady, 'PermissionDenied', 'denied', undefined), false);
    const inIssuing = {
      ready: cond('Ready', 'True', 'Issued', 'valid; renewal is failing'),
      issuing: cond(
        'Issuing',
        'True',
        'Renewing',
        'Renewal was due; attempt 2 failed (PermissionDenied): denied. Next attempt in 10s',
      ),
    };
    assert.equal(issuanceWarningIsNew(inIssuing, 'PermissionDenied', 'denied', undefined), false);
    assert.equal(issuanceWarningIsNew(inIssuing, 'BackendUnavailable', 'down', undefined), true);
    assert.equal(
      issuanceWarningIsNew(none, 'PermissionDenied', 'denied', said('PermissionDenied', 'denied')),
      false,
    );
  });
});
