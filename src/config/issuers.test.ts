import assert from 'node:assert/strict';
import { loadConfig } from './load.ts';
import { ConfigError } from './problems.ts';
import { configWarnings } from './warnings.ts';

const load = (yaml: string) => loadConfig({ text: yaml }, { env: {} });

describe('config: certificate issuers (vault-pki, local-ca)', () => {
  it('puts vault-pki and local-ca entries in issuers, with their defaults, and keeps them out of backends', async () => {
    const config = await load(`
backends:
  - {name: memory, type: memory, allowedNamespaces: ["*"]}
  - name: vault-pki
    type: vault-pki
    address: https://vault.vault.svc:8200
    auth: {kubernetes: {role: vaultsync}}
    allowedNamespaces: ["team-*"]
  - {name: local-ca, type: local-ca, allowedNamespaces: ["*"]}
`);
    assert.deepEqual(
      config.backends.map((b) => b.name),
      ['memory'],
    );
    const [pki, ca] = config.issuers ?? [];
    assert.equal(pki?.type, 'vault-pki');
    if (pki?.type !== 'vault-pki') return;
    assert.equal(pki.pki.mount, 'pki');
    assert.deepEqual(pki.allowedRoles, ['*']);
    assert.equal(pki.timeout, 10_000);
    assert.equal(pki.auth.kubernetes?.serviceAccount, 'resource');
    assert.equal(ca?.type, 'local-ca');
    if (ca?.type !== 'local-ca') return;
    assert.deepEqual(ca.ca, {
      secretName: 'vaultsync-local-ca',
      create: true,
      commonName: 'vaultsync local CA',
      duration: 87_600 * 3_600_000,
      keyAlgorithm: 'ECDSA',
    });
    assert.equal(ca.maxDuration, 8760 * 3_600_000);
    assert.ok(Object.isFrozen(ca.ca));
  });

  it('checks vault-pki like a vault backend: address scheme and exactly one auth method', async () => {
    await assert.rejects(
      load(`
backends:
  - {name: p, type: vault-pki, address: "http://bao:8200", auth: {}, allowedNamespaces: ["*"]}
`),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(
          err.problems.map((p) => `${p.path}: ${p.message}`),
          [
            'backends[0].address: must start with https:// (or set tls.insecure: true to allow http://)',
            'backends[0].auth: set exactly one of token, appRole or kubernetes (found none)',
          ],
        );
        return true;
      },
    );
  });

  it('refuses unknown fields of local-ca and names clashing with secret backends', async () => {
    await assert.rejects(
      load(`
backends:
  - {name: ca, type: memory, allowedNamespaces: ["*"]}
  - {name: ca, type: local-ca, allowedNamespaces: ["*"], ca: {secretNmae: x}}
`),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const lines = err.problems.map((p) => `${p.path}: ${p.message}`);
        assert.ok(
          lines.includes('backends[1].name: "ca" is already the name of backends[0]; names must be unique'),
        );
        assert.ok(lines.includes('backends[1].ca.secretNmae: unknown field; did you mean "secretName"?'));
        return true;
      },
    );
  });

  it('gives both issuer types a name policy: the namespace’s service domain by default, no CA', async () => {
    const config = await load(`
backends:
  - {name: pki, type: vault-pki, address: "https://vault:8200", auth: {kubernetes: {role: r}}, allowedNamespaces: ["*"]}
  - {name: ca, type: local-ca, allowedNamespaces: ["*"]}
  - name: dev
    type: local-ca
    allowedNamespaces: [platform-ca]
    allowCA: true
    allowedDomains: ["*.{namespace}.example.com", localhost]
    allowedUriSans: ["spiffe://example.org/ns/{namespace}/sa/*"]
    allowedIpRanges: [127.0.0.1, 10.0.0.0/8, "fd00::/8"]
`);
    const [pki, ca, dev] = config.issuers ?? [];
    for (const issuer of [pki, ca]) {
      assert.deepEqual(issuer?.allowedDomains, ['**.{namespace}.svc', '**.{namespace}.svc.cluster.local']);
      assert.deepEqual(issuer?.allowedUriSans, ['spiffe://cluster.local/ns/{namespace}/**']);
      assert.deepEqual(issuer?.allowedIpRanges, []);
    }
    assert.equal(ca?.type === 'local-ca' && ca.allowCA, false);
    assert.equal(dev?.type === 'local-ca' && dev.allowCA, true);
    assert.deepEqual(dev?.allowedIpRanges, ['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
  });

  it('refuses name patterns where {namespace} or a wildcard is part of a label, bad CIDRs, allowCA on vault-pki or for a namespace glob', async () => {
    await assert.rejects(
      load(`
backends:
  - name: ca
    type: local-ca
    allowedNamespaces: ["*"]
    allowedDomains: ["*.{namespace}-x.svc", "a.**.svc", "web-*.svc"]
    allowedUriSans: ["spiffe://cluster.local/ns/{namespace}x/*", "spiffe://x/../y"]
    allowedIpRanges: ["10.0.0.0/33", "300.1.1.1"]
  - {name: pki, type: vault-pki, address: "https://vault:8200", auth: {kubernetes: {role: r}}, allowedNamespaces: ["*"], allowCA: true}
  - {name: sub, type: local-ca, allowedNamespaces: ["team-*"], allowCA: true}
`),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(
          err.problems.map((p) => `${p.path}: ${p.message}`),
          [
            'backends[0].allowedDomains[0]: "{namespace}" must be a whole label, e.g. "*.{namespace}.svc" (not "{namespace}-x")',
            'backends[0].allowedDomains[1]: "**" may only be the first label, e.g. "**.{namespace}.svc"',
            'backends[0].allowedDomains[2]: "*" must be a whole label, e.g. "*.{namespace}.svc" (not "web-*")',
            'backends[0].allowedUriSans[0]: "{namespace}" must be a whole segment, e.g. ".../ns/{namespace}/*" (not "{namespace}-x")',
            'backends[0].allowedUriSans[1]: must not contain "." or ".." segments',
            'backends[0].allowedIpRanges[0]: must be a CIDR such as "10.0.0.0/8" or "fd00::/8", or one address such as "127.0.0.1"',
            'backends[0].allowedIpRanges[1]: must be a CIDR such as "10.0.0.0/8" or "fd00::/8", or one address such as "127.0.0.1"',
            'backends[1].allowCA: unknown field; allowed here: type, name, allowedNamespaces, rateLimit, circuitBreaker, timeout, address, namespace, tls, auth, pki, allowedRoles, allowedDomains, allowedUriSans, allowedIpRanges',
            'backends[2].allowCA: may be true only when allowedNamespaces names exactly one namespace without a glob: a CA certificate can sign any name, so it is a grant to one namespace the platform trusts',
          ],
        );
        return true;
      },
    );
  });

  it('warns about an inline token and plain http for vault-pki', async () => {
    const config = await load(`
backends:
  - name: pki
    type: vault-pki
    address: http://127.0.0.1:8200
    tls: {insecure: true}
    auth: {token: {value: root}}
    allowedNamespaces: ["*"]
`);
    assert.deepEqual(configWarnings(config), [
      'issuer pki: plain http:// to Vault (tls.insecure: true); use only for development',
      'issuer pki: inline token in the config; use only for development',
    ]);
  });
});
