import assert from 'node:assert/strict';
import { sortAltNames } from './general-names.ts';
import { x509 } from './x509.ts';

describe('sortAltNames', () => {
  it('sorts decoded names by kind, in order, values untouched', () => {
    const names = new x509.GeneralNames(
      (
        [
          ['dns', 'b, DNS:c.example'],
          ['ip', '10.0.0.1'],
          ['dns', 'a.example'],
          ['url', 'spiffe://x/a,b"c'],
          ['email', 'ops@shop.example'],
          ['dn', 'CN=x, O=y'],
        ] as const
      ).map(([type, value]) => ({ type, value })),
    );
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
