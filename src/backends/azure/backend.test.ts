import assert from 'node:assert/strict';
import type { AzureBackendConfig } from '../../config/schema.ts';
import { BackendError } from '../../resilience/errors.ts';
import { AzureKeyVaultBackend, type AzureSecretsClient } from './backend.ts';

const cfg = {
  name: 'azure',
  vaultUrl: 'https://shop.vault.azure.net',
  tls: {},
  auth: {},
  timeout: 10_000,
} as unknown as AzureBackendConfig;
const ctx = { namespace: 'team-a' };
const V1 = '0123456789abcdef0123456789abcdef';
const V2 = 'fedcba9876543210fedcba9876543210';
const isCode = (code: string) => (err: unknown) => err instanceof BackendError && err.code === code;

function client(over: Partial<AzureSecretsClient>) {
  const calls: { method: string; args: unknown[] }[] = [];
  const record =
    <A extends unknown[], R>(method: string, fn?: (...args: A) => R) =>
    (...args: A): R => {
      calls.push({ method, args });
      if (!fn) throw new Error(`unexpected ${method}`);
      return fn(...args);
    };
  const c: AzureSecretsClient = {
    getSecret: record('getSecret', over.getSecret),
    setSecret: record('setSecret', over.setSecret),
    listPropertiesOfSecrets: record('listPropertiesOfSecrets', over.listPropertiesOfSecrets),
    beginDeleteSecret: record('beginDeleteSecret', over.beginDeleteSecret),
  };
  return { c, calls };
}

/** A listing in pages of the given items; records the page settings asked for. */
function pages(...chunks: unknown[][]): AzureSecretsClient['listPropertiesOfSecrets'] {
  return () => ({
    byPage: (settings) => {
      seen.push(settings);
      return (async function* () {
        for (const chunk of chunks) yield chunk;
      })();
    },
  });
}
let seen: unknown[] = [];

describe('AzureKeyVaultBackend: list, restore, delete (issue 17)', () => {
  beforeEach(() => (seen = []));

  it('lists every page in one call: names mapped to paths, prefix and tags checked, disabled left out', async () => {
    const { c } = client({
      listPropertiesOfSecrets: pages(
        [
          { name: 'team-a--db', enabled: true, tags: { env: 'prod' } },
          { name: 'team-a--off', enabled: false, tags: { env: 'prod' } },
        ],
        [
          { name: 'team-a--api', enabled: true, tags: { env: 'dev' } },
          { name: 'Team-a--up', enabled: true, tags: { env: 'prod' } },
        ],
        [
          { name: 'team-b--db', enabled: true, tags: { env: 'prod' } },
          { name: 'team-a--x', enabled: true, tags: { env: 'prod', more: '1' } },
        ],
      ),
    });
    const b = new AzureKeyVaultBackend(cfg, { operatorNamespace: 'v', client: c, listPageSize: 2 });
    const page = await b.list({ prefix: 'team-a/', tags: { env: 'prod' } }, undefined, ctx);
    assert.deepEqual(page, { paths: ['team-a/db', 'team-a/x'] });
    assert.deepEqual(seen, [{ maxPageSize: 2 }]);
  });

  it('stops a listing past 400 pages', async () => {
    const { c } = client({ listPropertiesOfSecrets: pages(...Array.from({ length: 401 }, () => [])) });
    const b = new AzureKeyVaultBackend(cfg, { operatorNamespace: 'v', client: c });
    await assert.rejects(b.list({ prefix: '' }, undefined, ctx), isCode('InvalidRequest'));
  });

  it("restores by setting the chosen version's value, content type and tags, after the cas check", async () => {
    const { c, calls } = client({
      getSecret: async (_name, options) =>
        options?.version
          ? {
              value: 'AAEC',
              properties: { version: V1, contentType: 'application/octet-stream;base64', tags: { t: '1' } },
            }
          : { value: 'x', properties: { version: V2 } },
      setSecret: async () => ({ properties: { version: 'a'.repeat(32) } }),
    });
    const b = new AzureKeyVaultBackend(cfg, { operatorNamespace: 'v', client: c });
    assert.deepEqual(await b.restore({ path: 'team-a/db', version: V1, cas: V2 }, ctx), {
      version: 'a'.repeat(32),
    });
    const set = calls.find((x) => x.method === 'setSecret');
    assert.deepEqual(set?.args.slice(0, 2), ['team-a--db', 'AAEC']);
    assert.equal((set?.args[2] as { contentType: string }).contentType, 'application/octet-stream;base64');
    assert.deepEqual((set?.args[2] as { tags: object }).tags, { t: '1' });
    await assert.rejects(b.restore({ path: 'team-a/db', version: V1, cas: V1 }, ctx), isCode('Conflict'));
    await assert.rejects(b.restore({ path: 'team-a/db', version: 'AWSPREVIOUS' }, ctx), isCode('NotFound'));
    assert.equal(calls.filter((x) => x.method === 'setSecret').length, 1);
  });

  it('deletes softly (beginDeleteSecret, no purge), both scopes', async () => {
    const { c, calls } = client({ beginDeleteSecret: async () => ({}) });
    const b = new AzureKeyVaultBackend(cfg, { operatorNamespace: 'v', client: c });
    await b.delete({ path: 'team-a/db', scope: 'all' }, ctx);
    assert.deepEqual(
      calls.map((x) => [x.method, x.args[0]]),
      [['beginDeleteSecret', 'team-a--db']],
    );
  });
});
