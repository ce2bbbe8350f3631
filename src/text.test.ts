import assert from 'node:assert/strict';
import { cut, printable, quotedName } from './text.ts';

describe('text', () => {
  it('cuts to at most max characters, the ellipsis included', () => {
    assert.equal(cut('abcdef', 6), 'abcdef');
    assert.equal(cut('abcdefg', 6), 'abcde…');
    assert.equal(cut('abcdefg', 6, '...'), 'abc...');
    assert.equal(cut('x'.repeat(1000), 400).length, 400);
  });

  it('quotes a long name at 120 characters', () => {
    assert.equal(quotedName('a.example'), 'a.example');
    assert.equal(quotedName('a'.repeat(200)), `${'a'.repeat(117)}...`);
  });

  it('makes text one printable line', () => {
    assert.equal(printable(' a\r\nb\u0000c\u007f '), 'a b c');
  });
});
