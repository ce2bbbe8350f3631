import assert from 'node:assert/strict';
import { appendHistory, historyLimit } from './history.ts';

describe('appendHistory', () => {
  const n = (count: number) => Array.from({ length: count }, (_, i) => count - i);

  it('puts the entry first and keeps at most `limit`, dropping the oldest', () => {
    assert.deepEqual(appendHistory([2, 1], 3, 10), [3, 2, 1]);
    assert.deepEqual(appendHistory(n(10), 11, 10), [11, ...n(10).slice(0, 9)]);
    assert.equal(appendHistory(n(60), 61, 50)?.length, 50);
    assert.deepEqual(appendHistory(undefined, 1, 10), [1]);
  });

  it('drops an older entry the new one replaces, wherever it is', () => {
    const byVersion = (a: { v: string }, b: { v: string }) => a.v === b.v;
    const history = [{ v: '3' }, { v: '2' }, { v: '1' }];
    assert.deepEqual(
      appendHistory(history, { v: '2' }, 10, byVersion)?.map((h) => h.v),
      ['2', '3', '1'],
    );
    assert.deepEqual(
      appendHistory(history, { v: '4' }, 10, byVersion)?.map((h) => h.v),
      ['4', '3', '2', '1'],
    );
  });

  it('without an entry only bounds (a lowered limit takes effect); limit 0 or nothing left → undefined', () => {
    assert.deepEqual(appendHistory(n(10), undefined, 3), [10, 9, 8]);
    assert.deepEqual(appendHistory([1], undefined, 10), [1]);
    assert.equal(appendHistory(n(10), 11, 0), undefined);
    assert.equal(appendHistory(n(10), undefined, 0), undefined);
    assert.equal(appendHistory(undefined, undefined, 10), undefined);
    assert.equal(appendHistory([], undefined, 10), undefined);
    assert.equal(appendHistory([1], 2, -1), undefined);
  });

  it('does not change the history it is given', () => {
    const history = [2, 1];
    appendHistory(history, 3, 1);
    assert.deepEqual(history, [2, 1]);
  });
});

describe('historyLimit', () => {
  it('defaults to 10, clamps to [0, 50]', () => {
    assert.equal(historyLimit(undefined), 10);
    assert.equal(historyLimit(0), 0);
    assert.equal(historyLimit(25), 25);
    assert.equal(historyLimit(500), 50);
    assert.equal(historyLimit(-1), 0);
  });
});
