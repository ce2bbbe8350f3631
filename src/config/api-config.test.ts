// The `api` section: what a config without it gets, and the API credential rules it refuses.
import assert from 'node:assert/strict';
import { loadConfig } from './load.ts';
import { ConfigError } from './problems.ts';

const BACKENDS = 'backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]\n';

async function problems(api: string): Promise<string[]> {
  return loadConfig({ text: `${BACKENDS}api: ${api}\n` }, { env: {} }).then(
    () => [],
    (err: unknown) =>
      err instanceof ConfigError ? err.problems.map((p) => `${p.path}: ${p.message}`) : [String(err)],
  );
}

describe('config: api', () => {
  it('defaults: tokens for audience vaultsync, 30 unauthenticated requests a minute per address', async () => {
    const config = await loadConfig({ text: BACKENDS }, { env: {} });
    assert.equal(config.api?.audience, 'vaultsync');
    assert.deepEqual(config.api?.rateLimit, {
      max: 60,
      window: 60_000,
      unauthenticated: { max: 30, window: 60_000 },
    });
    assert.deepEqual(config.api?.tls, { dnsNames: [] });
  });

  it('refuses an audience with spaces and a caFile without the certificate it verifies', async () => {
    assert.deepEqual(await problems('{audience: "vault sync"}'), [
      'api.audience: must be a token audience without spaces, such as vaultsync',
    ]);
    assert.deepEqual(await problems('{tls: {caFile: /etc/api/ca.crt}}'), [
      'api.tls.caFile: goes with certFile and keyFile (a generated certificate publishes its own CA)',
    ]);
    assert.deepEqual(await problems('{rateLimit: {unauthenticated: {max: 0}}}'), [
      'api.rateLimit.unauthenticated.max: must be at least 1',
    ]);
    assert.deepEqual(
      await problems(
        '{tls: {certFile: /a/tls.crt, keyFile: /a/tls.key, caFile: /a/ca.crt}, audience: https://vaultsync.example}',
      ),
      [],
    );
  });

  it('gRPC is off by default; its address needs a real port, not the HTTPS one, and the HTTPS API on', async () => {
    const config = await loadConfig({ text: BACKENDS }, { env: {} });
    assert.equal(config.api?.grpc.address, '0');
    assert.deepEqual(await problems('{grpc: {address: ":9443"}}'), []);
    assert.deepEqual(await problems('{grpc: {address: ":99999"}}'), [
      'api.grpc.address: port must be between 0 and 65535',
    ]);
    assert.deepEqual(await problems('{address: ":8443", grpc: {address: ":8443"}}'), [
      'api.grpc.address: is api.address; choose another port',
    ]);
    assert.deepEqual(await problems('{address: "0", grpc: {address: ":9443"}}'), [
      'api.grpc.address: needs the HTTPS API on (api.address is "0"): gRPC serves with its certificate',
    ]);
  });
});
