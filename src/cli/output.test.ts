import assert from 'node:assert/strict';
import {
  formatColumns,
  formatDocument,
  formatTable,
  humanDuration,
  outputFormat,
  relativeTime,
} from './output.ts';

describe('kubectl vaultsync: output', () => {
  it('prints kubectl-style tables: capital headers, aligned columns, no trailing spaces, - for empty', () => {
    const text = formatTable(
      ['name', 'ready'],
      [
        ['db', 'True'],
        ['a-longer-name', ''],
      ],
    );
    assert.equal(text, 'NAME            READY\ndb              True\na-longer-name   -\n');
  });

  it('keeps a multi-line message on one line (the table package refuses control characters)', () => {
    assert.equal(formatColumns([['Message:', 'one\ntwo']], '  '), '  Message:   one two\n');
  });

  it('prints JSON and YAML documents', () => {
    assert.equal(formatDocument({ a: 1 }, 'json'), '{\n  "a": 1\n}\n');
    assert.equal(formatDocument({ a: 1 }, 'yaml'), 'a: 1\n');
  });

  it('accepts table, json and yaml only', () => {
    assert.equal(outputFormat(undefined), 'table');
    assert.equal(outputFormat('yaml'), 'yaml');
    assert.throws(() => outputFormat('xml'), /unknown output format "xml"/);
  });

  it('shows spans as kubectl does', () => {
    assert.equal(humanDuration(-5), '0s');
    assert.equal(humanDuration(119_000), '119s');
    assert.equal(humanDuration(120_000), '2m');
    assert.equal(humanDuration(119 * 60_000), '119m');
    assert.equal(humanDuration(3 * 3_600_000), '3h');
    assert.equal(humanDuration(50 * 3_600_000), '2d');
    assert.equal(humanDuration(800 * 86_400_000), '2y');
  });

  it('says ago for the past and in for the future', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    assert.equal(relativeTime('2026-01-01T11:55:00Z', now), '5m ago');
    assert.equal(relativeTime('2026-01-01T15:00:00Z', now), 'in 3h');
    assert.equal(relativeTime(undefined, now), '-');
    assert.equal(relativeTime('not a time', now), '-');
  });
});
