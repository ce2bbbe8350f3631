import assert from 'node:assert/strict';
import { peerAddress } from './call.ts';

describe('gRPC peer address', () => {
  it('is the address without its port, however grpc-js spells the peer', () => {
    assert.equal(peerAddress('ipv4:10.0.0.1:5000'), '10.0.0.1');
    assert.equal(peerAddress('10.0.0.1:5000'), '10.0.0.1');
    assert.equal(peerAddress('ipv6:[::1]:5000'), '::1');
    assert.equal(peerAddress('[2001:db8::7]:443'), '2001:db8::7');
    assert.equal(peerAddress('unix:/tmp/s'), 'unix:/tmp/s');
  });
});
