import assert from 'node:assert/strict';
import { cachedCheck } from './cached-check.ts';

describe('cached readiness check', () => {
  it('runs once for a flood of concurrent callers, then reuses the answer for the TTL', async () => {
    let now = 0;
    let runs = 0;
    let release!: () => void;
    const check = cachedCheck(
      () => {
        runs++;
        return new Promise((resolve) => (release = () => resolve({ ok: true })));
      },
      10_000,
      () => now,
    );
    const flood = Array.from({ length: 1000 }, () => check());
    release();
    assert.ok((await Promise.all(flood)).every((r) => r.ok));
    assert.equal(runs, 1, 'one run in flight, shared');
    now = 9_999;
    await check();
    assert.equal(runs, 1, 'reused within the TTL');
    now = 10_000;
    const next = check();
    release();
    await next;
    assert.equal(runs, 2, 'checked again after the TTL');
  });

  it('caches a failure as well (a down backend is not hammered), with its message', async () => {
    let now = 0;
    let runs = 0;
    const check = cachedCheck(
      async () => {
        runs++;
        throw new Error('backend "vault" did not answer within 3000ms');
      },
      10_000,
      () => now,
    );
    for (let i = 0; i < 50; i++) {
      assert.deepEqual(await check(), { ok: false, detail: 'backend "vault" did not answer within 3000ms' });
    }
    assert.equal(runs, 1);
    now = 20_000;
    await check();
    assert.equal(runs, 2);
  });

  it('does not start a second run while one outlives the TTL', async () => {
    let now = 0;
    let runs = 0;
    let release!: () => void;
    const check = cachedCheck(
      () => {
        runs++;
        return new Promise((resolve) => (release = () => resolve({ ok: true })));
      },
      10,
      () => now,
    );
    const first = check();
    now = 1_000;
    const second = check();
    release();
    await Promise.all([first, second]);
    assert.equal(runs, 1);
  });
});
