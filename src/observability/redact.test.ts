import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger } from './logger.ts';
import { redact, REDACTED } from './redact.ts';

const canary = 'canary-4f1d9a7e-value';

describe('redaction', () => {
  it('replaces values under sensitive keys at any depth', () => {
    const out = redact({ a: { password: canary, nested: [{ token: canary }] }, data: { k: canary } });
    assert.equal(JSON.stringify(out).includes(canary), false);
    assert.deepEqual(out, { a: { password: REDACTED, nested: [{ token: REDACTED }] }, data: REDACTED });
  });

  it('reduces errors to name and message, dropping attached request config', () => {
    const err = Object.assign(new Error('request failed'), {
      config: { headers: { 'X-Vault-Token': canary } },
    });
    assert.deepEqual(redact({ err }), { err: { name: 'Error', message: 'request failed' } });
  });

  it('never writes a planted value to a log line at any level', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger({
      level: 'debug',
      transports: [new winston.transports.Stream({ stream: sink })],
    });
    for (const level of ['error', 'warn', 'info', 'debug'] as const) {
      log[level]('Synced Secret', { secret: canary, body: { value: canary }, buffer: Buffer.from(canary) });
    }
    assert.equal(lines.length, 4);
    assert.equal(lines.join('').includes(canary), false);
    assert.match(lines[0] ?? '', /"message":"Synced Secret"/);
  });
});
