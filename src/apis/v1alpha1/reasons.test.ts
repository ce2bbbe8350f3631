import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCUMENTED_IN } from './reasons.ts';

const docs = join(import.meta.dirname, '../../../docs');

describe('v1alpha1 reasons', () => {
  it('are CamelCase', () => {
    for (const { reasons } of DOCUMENTED_IN)
      for (const [name, reason] of Object.entries(reasons)) {
        assert.equal(name, reason);
        assert.match(reason, /^[A-Z][A-Za-z]*$/);
      }
  });

  for (const { page, reasons } of DOCUMENTED_IN) {
    it(`are each named in docs/${page}: ${Object.keys(reasons).slice(0, 3).join(', ')}, …`, () => {
      const text = readFileSync(join(docs, page), 'utf8');
      const missing = Object.values(reasons).filter((r) => !text.includes(`\`${r}\``));
      assert.deepEqual(missing, [], `add these reasons to docs/${page}`);
    });
  }
});
