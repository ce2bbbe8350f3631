import assert from 'node:assert/strict';
import { FailureHold, type HoldInput } from './failure-hold.ts';

const input = (over: Partial<HoldInput> = {}): HoldInput => ({
  generation: 1,
  syncNow: undefined,
  allowShrink: undefined,
  secretVersion: '10',
  ...over,
});

describe('VaultSecret: failure hold', () => {
  it('holds reads until the retry time while nothing changed', () => {
    const hold = new FailureHold();
    hold.hold('shop/db', input(), 1000, 'InvalidKey');
    assert.equal(hold.remaining('shop/db', input(), 400, 'InvalidKey'), 600);
    assert.equal(hold.remaining('other/db', input(), 400, 'InvalidKey'), undefined);
    assert.equal(hold.remaining('shop/db', input(), 1000, 'InvalidKey'), undefined, 'retry time reached');
    assert.equal(hold.size, 0, 'an expired hold is dropped');
  });

  it('lets a read through at once when the user changed something', () => {
    for (const changed of [
      { generation: 2 },
      { syncNow: 't2' },
      { allowShrink: 'yes' },
      { secretVersion: '11' },
      { secretVersion: undefined },
    ]) {
      const hold = new FailureHold();
      hold.hold('shop/db', input(), 1000, 'InvalidKey');
      assert.equal(
        hold.remaining('shop/db', input(changed), 0, 'InvalidKey'),
        undefined,
        JSON.stringify(changed),
      );
    }
  });

  it('lets a read through when the status no longer shows the failure (another writer)', () => {
    const hold = new FailureHold();
    hold.hold('shop/db', input(), 1000, 'InvalidKey');
    assert.equal(hold.remaining('shop/db', input(), 0, 'BackendNotFound'), undefined);
  });

  it('forgets a key', () => {
    const hold = new FailureHold();
    hold.hold('shop/db', input(), 1000, 'InvalidKey');
    hold.forget('shop/db');
    assert.equal(hold.remaining('shop/db', input(), 0, 'InvalidKey'), undefined);
  });
});
