import assert from 'node:assert/strict';
import { sortAltNames } from './general-names.ts';
import { x509 } from './x509.ts';

describe('sortAltNames', () => {
  it('sorts decoded names by kind, in order, values untouched', () => {
    const names = new x509.GeneralNames([
      { type: 'dns', value: 'b, DNS:c.example' },
      { type: 'ip', value: '10.0.0.1' },
      { type: 'dns', value: 'a.example' },
      { type: 'url', value: 'spiffe://x/a,b"c' },
      { type: 'email', value: 'ops@shop.example' },
      { type: 'dn', value: 'CN=x, O=y' },
    ]);
    assert.deepEqual(sortAltNames(names.items), {
      dnsNames: ['b, DNS:c.example', 'a.example'],
      ipAddresses: ['10.0.0.1'],
      uris: ['spiffe://x/a,b"c'],
      emailAddresses: ['ops@shop.example'],
      otherNames: ['dn:CN=x, O=y'],
    });
  });

  it('gives empty lists for no names', () => {
    assert.deepEqual(sortAltNames([]), {
      dnsNames: [],
      ipAddresses: [],
      uris: [],
      emailAddresses: [],
      otherNames: [],
    });
  });
});
