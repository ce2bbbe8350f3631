import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { BackendError } from '../../resilience/errors.ts';
import { extractProperty } from '../property.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import type { SecretData } from '../types.ts';
import { decodeValue, encodeData, flatName, type NameRules } from './value.ts';

const data = (entries: [string, Buffer | string][]): SecretData =>
  new Sensitive<ReadonlyMap<string, Buffer>>(
    new Map(entries.map(([k, v]) => [k, typeof v === 'string' ? Buffer.from(v) : v])),
  );
const plain = (d: SecretData) => Object.fromEntries([...d.reveal()].map(([k, v]) => [k, v.toString('utf8')]));

describe('cloud values', () => {
  describe('decodeValue', () => {
    it('gives one key per property of a JSON object, non-strings JSON-encoded', () => {
      const d = decodeValue(Buffer.from(' {"user":"app","port":5432,"db":{"ssl":true}}'));
      assert.deepEqual(plain(d), { user: 'app', port: '5432', db: '{"ssl":true}' });
      assert.equal(extractProperty(d, 'db.ssl').reveal().toString(), 'true');
    });

    it('keeps anything else whole under "value": text, JSON scalars and arrays, bytes', () => {
      assert.deepEqual(plain(decodeValue(Buffer.from('hunter2'))), { value: 'hunter2' });
      assert.deepEqual(plain(decodeValue(Buffer.from('[1,2]'))), { value: '[1,2]' });
      assert.deepEqual(plain(decodeValue(Buffer.from('{not json'))), { value: '{not json' });
      const bytes = Buffer.from([0x7b, 0xff, 0x00]);
      assert.deepEqual(decodeValue(bytes).reveal().get('value'), bytes);
    });
  });

  describe('encodeData', () => {
    it('stores the single key "value" as it is, text or bytes', () => {
      assert.deepEqual(encodeData(data([['value', 'tok']]), 'b'), { bytes: Buffer.from('tok'), text: 'tok' });
      const bin = encodeData(data([['value', Buffer.from([0xff, 0x01])]]), 'b');
      assert.deepEqual(bin.bytes, Buffer.from([0xff, 0x01]));
      assert.equal(bin.text, undefined);
    });

    it('wraps everything else in a JSON object of strings, so that it reads back the same', () => {
      for (const entries of [
        [['value', '{"a":"1"}']],
        [
          ['user', 'app'],
          ['config', '{"port":1}'],
        ],
        [['only', 'x']],
      ] as [string, string][][]) {
        const encoded = encodeData(data(entries), 'b');
        assert.deepEqual(plain(decodeValue(encoded.bytes)), Object.fromEntries(entries));
      }
    });

    it('refuses bytes under another key, naming the key and not the value', () => {
      assert.throws(
        () =>
          encodeData(
            data([
              ['a', 'canary-value'],
              ['b', Buffer.from([0xc3, 0x28])],
            ]),
            'b',
          ),
        (err: unknown) =>
          err instanceof BackendError &&
          err.code === 'InvalidRequest' &&
          /key "b" is not UTF-8/.test(err.message) &&
          !inspect(err).includes('canary-value'),
      );
    });
  });

  describe('flatName', () => {
    const rules: NameRules = { segmentChars: 'a-z0-9-', maxLength: 20, what: 'secret name' };
    it('joins segments with "--"', () => {
      assert.equal(flatName('team-a/db', rules, 'b'), 'team-a--db');
      assert.equal(flatName('db', rules, 'b'), 'db');
    });

    it('refuses what would make two paths one name, or the service refuse it', () => {
      for (const path of [
        'team--a/db',
        'team-/db',
        'team/-db',
        'Team/db',
        'team_a/db',
        'a/very-long-secret-name',
      ]) {
        assert.throws(
          () => flatName(path, rules, 'b'),
          (err: unknown) => err instanceof BackendError && err.code === 'InvalidRequest',
          path,
        );
      }
    });
  });
});
