import assert from 'node:assert/strict';
import { BackendError } from '../resilience/errors.ts';
import { dataFromObject, extractProperty } from './property.ts';

describe('extractProperty', () => {
  const secret = {
    version: '3',
    data: dataFromObject({
      password: 'pw',
      'tls.crt': 'CERT',
      tls: '{"crt":"NESTED"}',
      config: { db: { port: 5432, hosts: ['a', 'b'], user: 'app' } },
      count: 7,
      flag: true,
      empty: '',
      text: 'not json',
    }),
  };
  const get = (p: string) => extractProperty(secret, p).reveal().toString('utf8');

  it('returns a key as is', () => {
    assert.equal(get('password'), 'pw');
    assert.equal(get('empty'), '');
  });

  it('prefers a key with dots over a JSON path', () => {
    assert.equal(get('tls.crt'), 'CERT');
  });

  it('follows a dotted path into JSON values, encoding non-strings as JSON', () => {
    assert.equal(get('config.db.user'), 'app');
    assert.equal(get('config.db.port'), '5432');
    assert.equal(get('config.db.hosts'), '["a","b"]');
    assert.equal(get('config.db.hosts.1'), 'b');
    assert.equal(get('config'), '{"db":{"port":5432,"hosts":["a","b"],"user":"app"}}');
    assert.equal(get('count'), '7');
    assert.equal(get('flag'), 'true');
  });

  it('answers NotFound naming the keys, never the values', () => {
    const fail = (p: string) => {
      try {
        extractProperty(secret, p, 'shop/db');
      } catch (err) {
        assert.ok(err instanceof BackendError);
        assert.equal(err.code, 'NotFound');
        assert.equal(err.message.includes('pw'), false);
        assert.equal(err.message.includes('5432'), false);
        return err.message;
      }
      assert.fail('expected NotFound');
    };
    assert.equal(
      fail('nope'),
      'property "nope" not found in the secret at "shop/db" (keys: config, count, empty, flag, password, text, tls, tls.crt)',
    );
    assert.equal(
      fail('config.db.pass'),
      'property "config.db.pass" of the secret at "shop/db": "config.db.pass" not found',
    );
    assert.equal(
      fail('text.x'),
      'property "text.x" of the secret at "shop/db": key "text" does not hold JSON',
    );
    assert.equal(
      fail('config.constructor'),
      'property "config.constructor" of the secret at "shop/db": "config.constructor" not found',
    );
  });

  it('accepts the data map directly', () => {
    assert.equal(extractProperty(secret.data, 'password').reveal().toString(), 'pw');
  });
});
