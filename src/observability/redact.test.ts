import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import winston from 'winston';
import { Sensitive } from '../secrets/sensitive.ts';
import { createLogger } from './logger.ts';
import { isCredentialField, redact, REDACTED } from './redact.ts';

const canary = 'canary-4f1d9a7e-value';

function capture(): { log: winston.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const log = createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream: sink })] });
  return { log, lines };
}

describe('redaction by provenance', () => {
  it('prints names, paths, keys and namespaces whatever their field is called', () => {
    const fields = {
      secret: 'db',
      secretName: 'db-tls',
      namespace: 'shop',
      path: 'shop/db',
      key: 'password',
      keys: ['password', 'user'],
      data: 'cm/pending',
      value: 'v2',
      tokenPath: '/var/run/secrets/token',
    };
    assert.deepEqual(redact(fields), fields);
  });

  it('never prints a Sensitive value, at any depth, interpolated or not', () => {
    const value = new Sensitive(canary);
    const out = redact({ a: value, nested: [{ b: value }], data: new Sensitive(new Map([['k', canary]])) });
    assert.deepEqual(out, { a: REDACTED, nested: [{ b: REDACTED }], data: REDACTED });
    assert.equal(`read ${value}`, `read ${REDACTED}`);
  });

  it('prints bytes as redacted: bytes are data, never a name', () => {
    const bytes = Buffer.from(canary);
    assert.deepEqual(redact({ bytes, view: new Uint8Array(bytes), raw: bytes.buffer }), {
      bytes: REDACTED,
      view: REDACTED,
      raw: REDACTED,
    });
  });

  it("keeps a Kubernetes Secret's keys and drops its values", () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'shop' },
      data: { password: Buffer.from(canary).toString('base64') },
      stringData: { user: canary },
    };
    assert.deepEqual(redact({ secret }), {
      secret: { ...secret, data: { password: REDACTED }, stringData: { user: REDACTED } },
    });
  });

  it('drops credential fields of library objects, matched by whole name only', () => {
    const out = redact({
      headers: { Authorization: `Bearer ${canary}`, 'X-Vault-Token': canary, 'content-type': 'json' },
      auth: { client_token: canary, secret_id: canary, password: canary },
    });
    assert.deepEqual(out, {
      headers: { Authorization: REDACTED, 'X-Vault-Token': REDACTED, 'content-type': 'json' },
      auth: { client_token: REDACTED, secret_id: REDACTED, password: REDACTED },
    });
    for (const name of ['secret', 'secretName', 'passwordKey', 'tokenPath', 'data', 'value', 'key'])
      assert.equal(isCredentialField(name), false, name);
  });

  it('reduces errors to name and message, dropping attached request config', () => {
    const err = Object.assign(new Error(`request failed for ${new Sensitive(canary)}`), {
      config: { headers: { 'X-Vault-Token': canary } },
    });
    assert.deepEqual(redact({ err }), { err: { name: 'Error', message: `request failed for ${REDACTED}` } });
  });

  it('writes the names of a "Created Secret" line and never a planted value, at any level', () => {
    const { log, lines } = capture();
    const child = log.child({ controller: 'vaultsecret', namespace: 'shop', name: 'db' });
    const value = new Sensitive(canary);
    for (const level of ['error', 'warn', 'info', 'debug'] as const) {
      child[level](`Created Secret (${value})`, {
        secret: 'db',
        body: { value },
        buffer: Buffer.from(canary),
        headers: { authorization: canary },
      });
    }
    assert.equal(lines.length, 4);
    assert.equal(lines.join('').includes(canary), false);
    const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    assert.equal(line.message, `Created Secret (${REDACTED})`);
    assert.equal(line.secret, 'db');
    assert.equal(line.namespace, 'shop');
    assert.equal(line.name, 'db');
  });
});

describe('redaction bounds', () => {
  it('cuts cycles and depth, and prints an object shared by two fields twice', () => {
    const shared = { namespace: 'shop' };
    const loop: Record<string, unknown> = { name: 'a' };
    loop.self = loop;
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 12; i++) deep = { deep };
    assert.deepEqual(redact({ a: shared, b: shared }), { a: shared, b: shared });
    assert.deepEqual(redact(loop), { name: 'a', self: '[Truncated]' });
    assert.match(JSON.stringify(redact(deep)), /\[Truncated\]/);
  });
});
