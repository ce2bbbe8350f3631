import assert from 'node:assert/strict';
import { BackendError } from '../../resilience/errors.ts';
import { restoreRefusal, rollbackTarget, rollbackToPlan, rollbackToValue } from './manual-rollback.ts';

const eq = (a: string, b: string) => a === b;
const seen = (version: string, mac: string) => ({ version, mac });

describe('SecretRotation rollback asked for by hand', () => {
  it('reads the version from the annotation; what follows # only makes the value new', () => {
    assert.deepEqual(rollbackTarget('3'), { version: '3' });
    assert.deepEqual(rollbackTarget('3#2026-12-05T12:00:00Z-ab12'), { version: '3' });
    assert.deepEqual(rollbackTarget(rollbackToValue('3', 'again')), { version: '3' });
    assert.equal(rollbackToValue('3'), '3');
    const uuid = 'f1e2d3c4-b5a6-4789-9012-3456789abcde';
    assert.deepEqual(rollbackTarget(uuid), { version: uuid }, 'an AWS version id');
    assert.deepEqual(rollbackTarget('0123456789abcdef0123456789abcdef'), {
      version: '0123456789abcdef0123456789abcdef',
    });
  });

  it('refuses a value that names no version, without repeating the value', () => {
    for (const bad of ['', '#3', ' 3', '3 4', '../3', 'x'.repeat(65), '-3', 'v3\n']) {
      const t = rollbackTarget(bad);
      assert.ok('invalid' in t, JSON.stringify(bad));
      assert.match(t.invalid, /vaultsync\.io\/rollback-to must name a backend version/);
      if (bad.length > 3) assert.ok(!t.invalid.includes(bad), 'the value is not copied');
    }
  });

  it('restores the version asked for on top of the latest, by check-and-set', () => {
    assert.deepEqual(rollbackToPlan('shop/db', '2', seen('4', 'm4'), seen('2', 'm2'), eq), {
      restore: { version: '2', cas: '4' },
    });
  });

  it('refuses a missing version or path: nothing is written', () => {
    const noVersion = rollbackToPlan('shop/db', '9', seen('4', 'm4'), undefined, eq);
    assert.deepEqual(noVersion, { refused: 'version 9 of shop/db does not exist; nothing was written' });
    const noPath = rollbackToPlan('shop/db', '2', undefined, undefined, eq);
    assert.ok('refused' in noPath && /shop\/db does not exist/.test(noPath.refused));
  });

  it('the latest version asked for is nothing to do; a latest holding that value is adopted, not written twice', () => {
    assert.deepEqual(rollbackToPlan('shop/db', '4', seen('4', 'm4'), seen('4', 'm4'), eq), {
      unchanged: '4',
    });
    assert.deepEqual(rollbackToPlan('shop/db', '2', seen('5', 'm2'), seen('2', 'm2'), eq), { current: '5' });
  });

  it('answers refusals for good (denied, not found, outside allowedWritePaths) and retries what is transient', () => {
    const denied = new BackendError(
      'TenancyDenied',
      'namespace shop may not write other/db (allowedWritePaths)',
    );
    assert.match(
      restoreRefusal(denied, 'other/db', '2') ?? '',
      /^restoring version 2 of other\/db was refused \(TenancyDenied\): namespace shop may not write other\/db \(allowedWritePaths\); nothing was written$/,
    );
    assert.ok(restoreRefusal(new BackendError('NotFound', 'gone'), 'shop/db', '2'));
    assert.equal(restoreRefusal(new BackendError('Unavailable', 'down'), 'shop/db', '2'), undefined);
    assert.equal(restoreRefusal(new BackendError('Conflict', 'cas'), 'shop/db', '2'), undefined);
    assert.equal(restoreRefusal(new Error('bug'), 'shop/db', '2'), undefined, 'not ours to answer');
  });
});
