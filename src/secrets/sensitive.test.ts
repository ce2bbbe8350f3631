import assert from 'node:assert/strict';
import { format, inspect } from 'node:util';
import { Sensitive } from './sensitive.ts';

describe('Sensitive', () => {
  const canary = 'hvs.CANARY-value-42';

  it('prints [REDACTED] in every stringification', () => {
    const s = new Sensitive(canary);
    assert.equal(String(s), '[REDACTED]');
    assert.equal(`${s}`, '[REDACTED]');
    assert.equal(JSON.stringify({ s }), '{"s":"[REDACTED]"}');
    assert.equal(inspect(s), '[REDACTED]');
    assert.equal(inspect({ nested: { s } }, { depth: 10, showHidden: true }).includes(canary), false);
    assert.equal(format('%s %o %O %j', s, s, s, s).includes(canary), false);
    assert.equal('' + s, '[REDACTED]');
  });

  it('prints [REDACTED] inside errors: messages, causes and stacks', () => {
    const s = new Sensitive(canary);
    const err = new Error(`read ${s} failed`, { cause: s });
    assert.equal(err.message, 'read [REDACTED] failed');
    assert.equal(inspect(err).includes(canary), false);
    assert.equal(String(new AggregateError([s], `${s}`)).includes(canary), false);
    assert.equal(
      JSON.stringify({ error: { message: err.message, cause: err.cause } }).includes(canary),
      false,
    );
  });

  it('does not expose the value through spread, keys or structuredClone', () => {
    const s = new Sensitive({ password: canary });
    assert.deepEqual(Object.keys(s), []);
    assert.equal(JSON.stringify({ ...s }), '{}');
    assert.equal(JSON.stringify(structuredClone(s)).includes(canary), false);
  });

  it('reveals the value and maps it without exposing it', () => {
    const s = new Sensitive(canary);
    assert.equal(s.reveal(), canary);
    const len = s.map((v) => v.length);
    assert.equal(len.reveal(), canary.length);
    assert.equal(String(len), '[REDACTED]');
    assert.equal(Sensitive.isSensitive(len), true);
    assert.equal(Sensitive.isSensitive(canary), false);
  });

  it('stays usable when frozen', () => {
    const s = Object.freeze(new Sensitive(canary));
    assert.equal(s.reveal(), canary);
  });
});
