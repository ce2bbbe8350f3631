import assert from 'node:assert/strict';
import { loadConfig } from '../config/load.ts';
import { Sensitive } from '../secrets/sensitive.ts';
import { BackendError } from '../resilience/errors.ts';
import type { SecretsApi } from './kube-client.ts';
import { createBackends } from './registry.ts';
import type { VaultApi } from './vault/api.ts';

const config = () =>
  loadConfig(
    {
      text: `
operator: {namespace: ops}
backends:
  - {name: mem, type: memory, allowedNamespaces: ["*"], data: {"a/b": {k: v}}}
  - {name: kube, type: kubernetes, namespace: source, allowedNamespaces: ["team-*"]}
  - {name: vault, type: vault, address: "https://vault:8200", allowedNamespaces: ["*"], auth: {token: {value: hvs.x}}}
`,
    },
    { env: {} },
  );

const secrets: SecretsApi = {
  get: async () => undefined,
  create: async () => assert.fail(),
  patchData: async () => assert.fail(),
  list: async () => assert.fail(),
  delete: async () => assert.fail(),
  ping: async () => {
    throw new BackendError('Unavailable', 'reach the API server: connection refused');
  },
};

const vaultApi = (): VaultApi => ({
  kvRead: async () => ({ data: {}, version: 1 }),
  kvWrite: async () => ({ version: 1 }),
  kvList: async () => assert.fail(),
  kvMetadata: async () => assert.fail(),
  kvDelete: async () => assert.fail(),
  login: async () => assert.fail(),
  renewSelf: async () => assert.fail(),
  lookupSelf: async () => ({ ttlS: 0, renewable: false }),
  health: async () => ({ initialized: true, sealed: false, standby: false }),
  close: () => undefined,
});

describe('createBackends', () => {
  it('builds every configured backend, wrapped, by name', async () => {
    const registry = createBackends(await config(), { secrets, vaultApi: vaultApi });
    assert.deepEqual(registry.names(), ['mem', 'kube', 'vault']);
    const mem = registry.get('mem');
    assert.equal(mem?.type, 'memory');
    const secret = await mem?.read({ path: 'a/b' }, { namespace: 'x' });
    assert.equal(secret?.data.reveal().get('k')?.toString(), 'v');
    assert.equal(registry.get('nope'), undefined);
    await assert.rejects(
      registry.get('kube')!.read({ path: 'db' }, { namespace: 'shop' }),
      (e: unknown) => e instanceof BackendError && e.code === 'TenancyDenied',
    );
    await registry.close();
  });

  it('checks all backends at once for readiness', async () => {
    const registry = createBackends(await config(), { secrets, vaultApi: vaultApi });
    const checks = await registry.checkAll();
    assert.equal(checks.get('mem'), undefined);
    assert.equal(checks.get('vault'), undefined);
    assert.equal(checks.get('kube')?.code, 'Unavailable');
    await registry.close();
  });

  it('fails at start-up when a backend lacks what it needs', async () => {
    await assert.rejects(
      async () => createBackends(await config(), { vaultApi: vaultApi }),
      /kube.*needs deps\.secrets/,
    );
  });

  it('uses Sensitive inline tokens without exposing them', async () => {
    const c = await config();
    const v = c.backends[2];
    assert.ok(v?.type === 'vault' && v.auth.token?.value instanceof Sensitive);
  });

  it("gives the memory backend the config's tags: a find by tags sees them", async () => {
    const registry = createBackends(
      await loadConfig(
        {
          text: `
backends:
  - name: mem
    type: memory
    allowedNamespaces: ["shop"]
    allowedPaths: ["{namespace}/**"]
    data: {"shop/db": {k: v}, "shop/api": {k: v}}
    tags: {"shop/db": {team: pay}}
`,
        },
        { env: {} },
      ),
    );
    const mem = registry.get('mem')!;
    const found = await mem.find!(
      { prefix: 'shop/', tags: { team: 'pay' }, maxItems: 5 },
      { namespace: 'shop' },
    );
    assert.deepEqual(found.paths, ['shop/db']);
    await registry.close();
  });
});
