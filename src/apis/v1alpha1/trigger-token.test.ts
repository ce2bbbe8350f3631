import assert from 'node:assert/strict';
import { pendingToken, tokenAnswered, tokenDigest } from './trigger-token.ts';

describe('trigger tokens', () => {
  it('stores a fixed-length digest that fits the status field, not the value', () => {
    const long = 'x'.repeat(300);
    const digest = tokenDigest(long);
    assert.match(digest, /^sha256:[A-Za-z0-9_-]{43}$/);
    assert.ok(digest.length <= 253);
    assert.ok(!digest.includes('xxxx'));
    assert.notEqual(tokenDigest('a'), tokenDigest('b'));
  });

  it('answers a token by its digest, and by the raw value an older status holds', () => {
    assert.equal(tokenAnswered(tokenDigest('t1'), 't1'), true);
    assert.equal(tokenAnswered('t1', 't1'), true, 'a status written before digests');
    assert.equal(tokenAnswered(tokenDigest('t1'), 't2'), false);
    assert.equal(tokenAnswered(undefined, 't1'), false);
  });

  it('a pending token is a set, non-empty annotation not answered yet', () => {
    assert.equal(pendingToken(undefined, undefined), undefined);
    assert.equal(pendingToken('', undefined), undefined);
    assert.equal(pendingToken('t1', undefined), 't1');
    assert.equal(pendingToken('t1', tokenDigest('t1')), undefined);
    assert.equal(pendingToken('t1', 't1'), undefined);
    assert.equal(pendingToken('t2', tokenDigest('t1')), 't2');
  });
});
