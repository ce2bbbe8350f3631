import assert from 'node:assert/strict';
import { macDigest } from './digests.ts';

describe('macDigest', () => {
  it('keeps 16 characters of the MAC, without its scheme prefix', () => {
    assert.equal(macDigest('hmac-sha256:v2:abcdefghijklmnopqrstuvwxyz'), 'abcdefghijklmnop');
    assert.equal(macDigest('hmac-sha256:v1:ABCDEFGHIJKLMNOPQRS'), 'ABCDEFGHIJKLMNOP');
    assert.equal(macDigest('short'), 'short');
  });
});
