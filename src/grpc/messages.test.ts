import assert from 'node:assert/strict';
import { bodyOf, compact, itemMessage } from './messages.ts';

describe('gRPC messages', () => {
  it('treat proto3 defaults as fields left out, keeping what was set', () => {
    assert.deepEqual(
      compact({
        commonName: '',
        dnsNames: ['a.example'],
        uris: [],
        subject: { organizations: [], countries: [] },
        privateKey: { algorithm: 'ECDSA', size: 0 },
        waitSeconds: 0,
      }),
      { dnsNames: ['a.example'], privateKey: { algorithm: 'ECDSA' } },
    );
    assert.equal(compact({ a: '', b: [] }), undefined);
  });

  it('a body is the message less its names, {} when nothing is left', () => {
    assert.deepEqual(bodyOf({ namespace: 'shop', name: 'db', waitSeconds: 5 }, ['namespace', 'name']), {
      waitSeconds: 5,
    });
    assert.deepEqual(bodyOf({ namespace: 'shop', name: 'db', waitSeconds: 0 }, ['namespace', 'name']), {});
  });

  it('a batch item is a value or an error, never both', () => {
    const ok = itemMessage({ path: 'a', version: '1', data: new Map([['k', Buffer.from('v')]]) });
    assert.deepEqual(ok, { path: 'a', version: '1', data: { k: Buffer.from('v') } });
    const failed = itemMessage({ path: 'b', error: { code: 'Forbidden', message: 'no' } });
    assert.deepEqual(failed, { path: 'b', error: { code: 'Forbidden', message: 'no' } });
  });
});
