import assert from 'node:assert/strict';
import { BackendError, checkAndSetFailed, withBackend } from './errors.ts';

describe('BackendError', () => {
  it('has a code, a fault class by default and a JSON form without a cause', () => {
    const e = new BackendError('NotFound', 'gone');
    assert.equal(e.name, 'BackendError');
    assert.equal(e.transient, false);
    assert.equal(new BackendError('Unavailable', 'down').transient, true);
    assert.equal(new BackendError('Unavailable', 'bad cert', { transient: false }).transient, false);
    assert.deepEqual(
      JSON.parse(
        JSON.stringify(new BackendError('Throttled', 'slow', { retryAfterMs: 1500.4, backend: 'v' })),
      ),
      {
        name: 'BackendError',
        code: 'Throttled',
        transient: true,
        message: 'slow',
        retryAfterMs: 1500,
        backend: 'v',
      },
    );
    assert.equal('cause' in e, false);
  });

  it('caps long messages', () => {
    assert.ok(new BackendError('Unknown', 'x'.repeat(10_000)).message.length <= 400);
  });

  it('copies with the backend name set', () => {
    const e = new BackendError('Throttled', 'slow', { retryAfterMs: 10 });
    const named = withBackend(e, 'vault');
    assert.equal(named.backend, 'vault');
    assert.equal(named.retryAfterMs, 10);
    assert.equal(withBackend(named, 'vault'), named);
    const opened = new BackendError('Unavailable', 'down', { retryAfterMs: 10, circuitOpen: true });
    assert.equal(withBackend(opened, 'vault').circuitOpen, true);
  });

  it('is circuitOpen for a refusal of the breaker, or when the breaker says so', () => {
    assert.equal(new BackendError('CircuitOpen', 'paused').circuitOpen, true);
    assert.equal(new BackendError('Unavailable', 'down').circuitOpen, false);
    assert.equal(new BackendError('Unavailable', 'down', { circuitOpen: true }).circuitOpen, true);
  });
});

describe('checkAndSetFailed', () => {
  it('is a transient Conflict naming what was expected and found', () => {
    const err = checkAndSetFailed('"team-a/db"', 'x'.repeat(100), 'found 7', 'vault');
    assert.equal(err.code, 'Conflict');
    assert.equal(err.transient, true);
    assert.equal(err.backend, 'vault');
    assert.equal(
      err.message,
      `check-and-set failed for "team-a/db": expected version ${'x'.repeat(64)}, found 7`,
    );
  });
});
