import assert from 'node:assert/strict';
import { canonicalJson } from './canonical-json.ts';

describe('canonicalJson', () => {
  it('is the same text whatever order the keys were set in, at every depth', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [2, 1], c: null } }),
      canonicalJson({ a: { c: null, d: [2, 1] }, b: 1 }),
    );
    assert.equal(canonicalJson({ b: 1, a: 2 }), '{"a":2,"b":1}');
  });

  it('keeps array order, leaves out undefined members, and writes undefined itself as null', () => {
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
    assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
    assert.equal(canonicalJson(undefined), 'null');
    assert.equal(canonicalJson(undefined), canonicalJson(null));
  });
});
