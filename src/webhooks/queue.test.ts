import assert from 'node:assert/strict';
import { BoundedQueue } from './queue.ts';

describe('webhook BoundedQueue', () => {
  it('is first in, first out', () => {
    const q = new BoundedQueue<number>(4);
    for (const n of [1, 2, 3]) assert.equal(q.push(n), undefined);
    assert.equal(q.size, 3);
    assert.equal(q.shift(), 1);
    assert.equal(q.shift(), 2);
    q.push(4);
    q.push(5);
    assert.deepEqual(q.drain(), [3, 4, 5]);
    assert.equal(q.size, 0);
    assert.equal(q.shift(), undefined);
  });

  it('drops the oldest item when full and returns it', () => {
    const q = new BoundedQueue<number>(3);
    const dropped: number[] = [];
    for (let n = 1; n <= 10; n++) {
      const d = q.push(n);
      if (d !== undefined) dropped.push(d);
      assert.ok(q.size <= 3);
    }
    assert.deepEqual(dropped, [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(q.drain(), [8, 9, 10]);
  });

  it('keeps order across wrap-around with interleaved shifts', () => {
    const q = new BoundedQueue<number>(2);
    const out: number[] = [];
    for (let n = 0; n < 100; n++) {
      q.push(n);
      if (n % 3 === 0) out.push(q.shift()!);
    }
    out.push(...q.drain());
    // Strictly increasing: nothing reordered, only (oldest) items dropped.
    for (let i = 1; i < out.length; i++) assert.ok(out[i]! > out[i - 1]!);
    assert.equal(out.at(-1), 99);
  });

  it('with capacity 1 keeps only the newest', () => {
    const q = new BoundedQueue<string>(1);
    q.push('a');
    assert.equal(q.push('b'), 'a');
    assert.deepEqual(q.drain(), ['b']);
  });

  it('refuses a capacity below 1', () => {
    assert.throws(() => new BoundedQueue(0), RangeError);
    assert.throws(() => new BoundedQueue(1.5), RangeError);
  });
});
