import assert from 'node:assert/strict';
import { escapePointer, pointerToPath } from './pointer.ts';

describe('config pointers', () => {
  it('formats JSON pointers as field paths', () => {
    assert.equal(pointerToPath(''), '(root)');
    assert.equal(pointerToPath('/backends/1/tls/caFile'), 'backends[1].tls.caFile');
    assert.equal(pointerToPath('/backends/0/data/team-a~1db/k'), 'backends[0].data["team-a/db"].k');
  });

  it('escapes a key so that it reads back as one segment', () => {
    assert.equal(escapePointer('a~b/c'), 'a~0b~1c');
    assert.equal(pointerToPath(`/data/${escapePointer('a~b/c')}`), 'data["a~b/c"]');
  });
});
