import assert from 'node:assert/strict';
import { checkTemplateBounds, renderTemplate, templateReferences, TemplateError } from './template.ts';

const values = new Map([
  ['password', Buffer.from('s3cr3t')],
  ['user', Buffer.from('app')],
]);

describe('logic-less template', () => {
  it('substitutes every reference, with or without spaces', () => {
    const out = renderTemplate('postgres://{{user}}:{{ password }}@db/{{user}}', values, 'url');
    assert.equal(out.toString(), 'postgres://app:s3cr3t@db/app');
  });

  it('names missing keys without printing any value', () => {
    assert.throws(
      () => renderTemplate('{{ user }}:{{ token }}', values, 'url'),
      (err: Error) =>
        err instanceof TemplateError &&
        /missing key\(s\): token/.test(err.message) &&
        !err.message.includes('app'),
    );
  });

  it('interprets nothing but placeholders', () => {
    assert.equal(
      renderTemplate('{{#if x}}{{/if}} {user}', values, 'k').toString(),
      '{{#if x}}{{/if}} {user}',
    );
    assert.deepEqual(templateReferences('{{a}}{{b}}{{a}}'), ['a', 'b']);
  });

  describe('bounds (per Secret, checked before rendering)', () => {
    const big = new Map([['a', Buffer.alloc(16 * 1024, 'x')]]);
    const refused = (fn: () => void, what: RegExp) =>
      assert.throws(fn, (err: Error) => err instanceof TemplateError && what.test(err.message));

    it('refuses more than 1,000 placeholders, counted over all keys', () => {
      const small = new Map([['a', Buffer.from('1')]]);
      checkTemplateBounds({ k: '{{a}}'.repeat(1000) }, small);
      refused(
        () => checkTemplateBounds({ k: '{{a}}'.repeat(600), l: '{{ a }}'.repeat(401) }, small),
        /more than 1000 placeholders, the limit per Secret/,
      );
    });

    it('refuses output over 1 MiB, summed over keys, from the value sizes', () => {
      // 64 uses of 16 KiB = exactly 1 MiB with nothing around them: allowed; one byte more is not.
      checkTemplateBounds({ k: '{{a}}'.repeat(32), l: '{{a}}'.repeat(32) }, big);
      refused(
        () => checkTemplateBounds({ k: '{{a}}'.repeat(32), l: `${'{{a}}'.repeat(32)}!` }, big),
        /^templates would render more than 1 MiB, the limit per Secret$/,
      );
      // Literal text counts too, and a value decoded as UTF-8 counts as rendered.
      refused(() => checkTemplateBounds({ k: 'x'.repeat(1024 * 1024 + 1) }, big), /1 MiB/);
      const invalid = new Map([['a', Buffer.alloc(400 * 1024, 0xff)]]); // each byte renders as U+FFFD
      refused(() => checkTemplateBounds({ k: '{{a}}' }, invalid), /1 MiB/);
    });

    it('refuses the template bomb (20,000 uses of a 16 KiB value: 327 MB) at once, building nothing', () => {
      const started = performance.now();
      refused(() => checkTemplateBounds({ k: '{{a}}'.repeat(20_000) }, big), /placeholders/);
      refused(() => checkTemplateBounds({ k: '{{a}}'.repeat(1000) }, big), /1 MiB/);
      assert.ok(performance.now() - started < 50, 'checked in under 50 ms');
    });

    it('never names a value or its size', () => {
      const secret = new Map([['a', Buffer.from('hunter2'.repeat(200_000))]]);
      try {
        checkTemplateBounds({ k: '{{a}}' }, secret);
        assert.fail('not refused');
      } catch (err) {
        assert.ok(err instanceof TemplateError);
        assert.equal(/hunter2|1400000|1,400,000/.test(err.message), false, err.message);
      }
    });
  });
});
