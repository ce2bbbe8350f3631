import assert from 'node:assert/strict';
import { tokenDigest } from '../../../apis/v1alpha1/trigger-token.ts';
import { SECRET_ROTATION, VAULT_SECRET, triggerState } from './triggers.ts';

const ready = (status: 'True' | 'False', reason: string) => [
  { type: 'Ready', status, reason, message: '', lastTransitionTime: '2030-01-01T00:00:00Z' },
];

describe('trigger answers', () => {
  it('a VaultSecret answers a token by its digest in status', () => {
    const token = 'x'.repeat(300);
    assert.equal(triggerState(VAULT_SECRET, undefined, token), 'Pending');
    assert.equal(
      triggerState(VAULT_SECRET, { status: { syncNowHandled: tokenDigest('other') } }, token),
      'Pending',
    );
    const answered = { status: { syncNowHandled: tokenDigest(token), conditions: ready('True', 'Synced') } };
    assert.equal(triggerState(VAULT_SECRET, answered, token), 'Done');
    const failed = {
      status: { syncNowHandled: tokenDigest(token), conditions: ready('False', 'InvalidKey') },
    };
    assert.equal(triggerState(VAULT_SECRET, failed, token), 'Failed');
  });

  it('a status written before digests (the raw token) still counts as the answer', () => {
    assert.equal(triggerState(VAULT_SECRET, { status: { syncNowHandled: 'ticket-1' } }, 'ticket-1'), 'Done');
    assert.equal(
      triggerState(SECRET_ROTATION, { status: { rotateNowHandled: 'ticket-1' } }, 'ticket-1'),
      'Done',
    );
  });

  it('a SecretRotation answers by digest, and is pending while it rotates', () => {
    const rotating = {
      status: { rotateNowHandled: tokenDigest('t'), conditions: ready('False', 'Rotating') },
    };
    assert.equal(triggerState(SECRET_ROTATION, rotating, 't'), 'Pending');
    assert.equal(
      triggerState(SECRET_ROTATION, { status: { rotateNowHandled: tokenDigest('t') } }, 't'),
      'Done',
    );
  });
});
