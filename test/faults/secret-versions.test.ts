// The fault suite's wrong-write check on hand-made Secret versions (no bed): it must flag what
// the cases promise never happens, or their "0 wrong Secret writes" would prove nothing.
import assert from 'node:assert/strict';
import { type SecretVersion, wrongSecretVersions } from './secret-versions.ts';

const b64 = (v: string) => Buffer.from(v).toString('base64');
const history: Record<string, string[]> = { a: ['v1', 'v2'], b: ['w1'] };
const check = (versions: SecretVersion[]) =>
  wrongSecretVersions(versions, (n) => history[n] ?? [], 'password');
const version = (name: string, rv: string, data?: Record<string, string>): SecretVersion => ({
  type: 'MODIFIED',
  name,
  resourceVersion: rv,
  data,
});

describe('fault suite: wrong Secret versions', () => {
  it('accepts backend values in order, repeats included', () => {
    assert.deepEqual(
      check([
        { ...version('a', '1', { password: b64('v1') }), type: 'ADDED' },
        version('b', '2', { password: b64('w1') }),
        version('a', '3', { password: b64('v1') }),
        version('a', '4', { password: b64('v2') }),
      ]),
      [],
    );
  });

  it('flags a value the backend never held, without printing it', () => {
    const wrong = check([version('a', '1', { password: b64('not-from-the-backend') })]);
    assert.equal(wrong.length, 1);
    assert.doesNotMatch(wrong[0]!, /not-from-the-backend/);
  });

  it('flags a blanked Secret, a missing key and an extra key', () => {
    assert.equal(check([version('a', '1', {})]).length, 1);
    assert.equal(check([version('a', '1')]).length, 1);
    assert.equal(check([version('a', '1', { other: b64('v1') })]).length, 1);
    assert.equal(check([version('a', '1', { password: b64('v1'), extra: b64('x') })]).length, 1);
  });

  it('flags an older value after a newer one, and a deletion', () => {
    assert.deepEqual(
      check([version('a', '1', { password: b64('v2') }), version('a', '2', { password: b64('v1') })]),
      ['a@2 (an older backend value after a newer one)'],
    );
    assert.deepEqual(check([{ type: 'DELETED', name: 'b', resourceVersion: '5' }]), ['b@5 (deleted)']);
  });
});
