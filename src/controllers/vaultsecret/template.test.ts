import assert from 'node:assert/strict';
import { renderTemplate, templateReferences, TemplateError } from './template.ts';

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
});
