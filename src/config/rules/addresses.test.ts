import assert from 'node:assert/strict';
import { portOf } from './addresses.ts';

describe('config addresses', () => {
  it('reads the port after the last colon', () => {
    assert.equal(portOf(':8080'), 8080);
    assert.equal(portOf('0.0.0.0:70000'), 70000);
    assert.equal(portOf('[::1]:9443'), 9443);
    assert.ok(Number.isNaN(portOf('host:http')));
  });
});
