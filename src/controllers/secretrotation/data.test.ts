import assert from 'node:assert/strict';
import {
  generatedKeys,
  hasPreviousValues,
  missingValues,
  retiredData,
  rolledBackData,
  rotatedData,
  versionAtLeast,
} from './data.ts';

const map = (o: Record<string, string>) => new Map(Object.entries(o).map(([k, v]) => [k, Buffer.from(v)]));
const text = (m: ReadonlyMap<string, Buffer>) =>
  Object.fromEntries([...m].map(([k, v]) => [k, v.toString()]));

describe('rotated data', () => {
  const keys = generatedKeys({ password: { type: 'password' }, signing: { type: 'keyPair' } });

  it('names every generated key, key pairs with .pub', () => {
    assert.deepEqual(keys, ['password', 'signing', 'signing.pub']);
    assert.ok(missingValues(undefined, keys));
    assert.ok(missingValues(map({ password: 'x', signing: 'y' }), keys));
    assert.ok(!missingValues(map({ password: 'x', signing: 'y', 'signing.pub': 'z' }), keys));
  });

  it('Replace: new values, other keys kept, stale previous values dropped', () => {
    const out = rotatedData(
      map({ password: 'old', user: 'app', password_previous: 'older' }),
      map({ password: 'new', signing: 'k', 'signing.pub': 'p' }),
      keys,
      'Replace',
    );
    assert.deepEqual(text(out), { password: 'new', user: 'app', signing: 'k', 'signing.pub': 'p' });
  });

  it('TwoPhase: each generated key that had a value keeps it as <key>_previous, until retired', () => {
    const out = rotatedData(
      map({ password: 'old', user: 'app', password_previous: 'older' }),
      map({ password: 'new', signing: 'k', 'signing.pub': 'p' }),
      keys,
      'TwoPhase',
    );
    assert.deepEqual(text(out), {
      password: 'new',
      password_previous: 'old',
      user: 'app',
      signing: 'k',
      'signing.pub': 'p',
    });
    assert.ok(hasPreviousValues(out, keys));
    const retired = retiredData(out, keys);
    assert.deepEqual(text(retired), { password: 'new', user: 'app', signing: 'k', 'signing.pub': 'p' });
    assert.ok(!hasPreviousValues(retired, keys));
    assert.deepEqual(text(rotatedData(undefined, map({ password: 'first' }), ['password'], 'TwoPhase')), {
      password: 'first',
    });
  });

  it('compares versions numerically', () => {
    assert.ok(versionAtLeast('10', '9'));
    assert.ok(!versionAtLeast('9', '10'));
    assert.ok(!versionAtLeast(undefined, '1'));
    assert.ok(versionAtLeast('abc', 'abc'));
  });
});

describe('rolled-back data', () => {
  const keys = generatedKeys({ password: { type: 'password' }, signing: { type: 'keyPair' } });

  it('makes the previous values current again and drops the failed ones, other keys kept', () => {
    const out = rolledBackData(
      map({ password: 'new', password_previous: 'old', user: 'app', signing: 'k2', 'signing.pub': 'p2' }),
      keys,
    );
    assert.deepEqual(text(out!), { password: 'old', user: 'app', signing: 'k2', 'signing.pub': 'p2' });
  });

  it('has nothing to roll back to without previous values', () => {
    assert.equal(rolledBackData(map({ password: 'new', user: 'app' }), keys), undefined);
  });
});
