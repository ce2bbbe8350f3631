import assert from 'node:assert/strict';
import { rollbackPart, rollbackPlan } from './rollback.ts';

const data = (o: Record<string, string>) => new Map(Object.entries(o).map(([k, v]) => [k, Buffer.from(v)]));
const text = (m: ReadonlyMap<string, Buffer>) =>
  Object.fromEntries([...m].map(([k, v]) => [k, v.toString()]));

describe('SecretRotation rollback decisions', () => {
  it('writes the previous value back on top of the version the rotation wrote', () => {
    const plan = rollbackPlan(
      'shop/db',
      '2',
      { version: '2', data: data({ password: 'new', password_previous: 'old', user: 'app' }) },
      ['password'],
    );
    assert.ok('data' in plan);
    assert.equal(plan.cas, '2');
    assert.deepEqual(text(plan.data), { password: 'old', user: 'app' });
  });

  it('never overwrites a path changed since; says when there is nothing to go back to', () => {
    const changed = rollbackPlan('shop/db', '2', { version: '5', data: data({ password: 'x' }) }, [
      'password',
    ]);
    assert.deepEqual(changed, { refused: 'shop/db changed since (version 5), so it was not overwritten' });
    const none = rollbackPlan('shop/db', '2', { version: '2', data: data({ password: 'new' }) }, [
      'password',
    ]);
    assert.deepEqual(none, { refused: 'version 2 of shop/db holds no previous value' });
    assert.deepEqual(rollbackPlan('shop/db', '2', undefined, ['password']), {
      refused: 'version 2 of shop/db holds no previous value',
    });
  });

  it('compares only the generated keys and their previous keys', () => {
    const part = rollbackPart(data({ password: 'a', password_previous: 'b', user: 'app' }), ['password']);
    assert.deepEqual(text(part), { password: 'a', password_previous: 'b' });
  });
});
