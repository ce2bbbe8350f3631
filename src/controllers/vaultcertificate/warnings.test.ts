import assert from 'node:assert/strict';
import type { Condition } from '../../kube/conditions.ts';
import { Failure, warningDue } from '../failure/index.ts';
import { shownIn } from './warnings.ts';

const cond = (type: string, status: Condition['status'], reason: string, message: string): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2030-01-01T00:00:00Z',
});

describe('VaultCertificate: a failed issuance already shown gets no second Warning', () => {
  const denied = new Failure('PermissionDenied', 'denied');
  const due = (conditions: Parameters<typeof shownIn>[0]) =>
    warningDue(shownIn(conditions, denied), undefined, denied);

  it('shown by Ready=False with the same reason and message', () => {
    assert.equal(due({ ready: undefined, issuing: undefined }), true);
    assert.equal(
      due({ ready: cond('Ready', 'False', 'PermissionDenied', 'denied'), issuing: undefined }),
      false,
    );
    assert.equal(
      due({ ready: cond('Ready', 'False', 'PermissionDenied', 'other'), issuing: undefined }),
      true,
    );
  });

  it('shown by Issuing while Ready stays True during a failing renewal', () => {
    const ready = cond('Ready', 'True', 'Issued', 'valid; renewal is failing (PermissionDenied)');
    const quoting = cond(
      'Issuing',
      'True',
      'Renewing',
      'Renewal was due; attempt 2 failed (PermissionDenied): denied. Next attempt in 10s',
    );
    assert.equal(due({ ready, issuing: quoting }), false);
    assert.equal(due({ ready, issuing: undefined }), true);
    const other = cond(
      'Issuing',
      'True',
      'Renewing',
      'Renewal was due; attempt 1 failed (BackendUnavailable): down. Next attempt in 5s',
    );
    assert.equal(due({ ready, issuing: other }), true);
  });
});
