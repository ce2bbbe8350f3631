import assert from 'node:assert/strict';
import { ConfigError, configWarnings, loadConfig } from './load.ts';

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
