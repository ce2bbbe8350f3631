// The Azure Key Vault backend against the bed's Key Vault FAKE (our HTTPS server: Lowkey
// Vault cannot be had on this machine, see test/support/testbed/azure-key-vault-fake.ts). The
// real SDK pipeline runs end to end — TLS verified against the fake's CA (given explicitly
// with tls.caFile), the bearer challenge, error parsing; fidelity to Key Vault is only as
// good as the fake.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AzureKeyVaultBackend } from '../../src/backends/azure/backend.ts';
import type { Backend } from '../../src/backends/types.ts';
import type { AzureBackendConfig } from '../../src/config/schema.ts';
import { Sensitive } from '../../src/secrets/sensitive.ts';
import { testbed, type Testbed } from '../support/testbed.ts';
import { runBackendContract, secretData } from './contract.ts';
import {
  cloudBackend,
  CREDENTIALS_NAMESPACE,
  credentialsSecret,
  guardedCloudBackend,
  printed,
  rejection,
  type CloudSetup,
  fakeCalls,
} from './cloud-support.ts';

const run = randomBytes(3).toString('hex');
const ctx = { namespace: 'team-a' };

function azureYaml(
  bed: Testbed,
  o: { url?: string; tls?: string; auth?: string; extra?: string } = {},
): string {
  return `
    name: azure
    type: azure-key-vault
    vaultUrl: ${o.url ?? bed.cloud.azureVaultUrl}
    tls: ${o.tls ?? `{caFile: ${bed.cloud.azureCaFile}}`}
    auth: ${o.auth ?? '{emulator: {}}'}
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
    allowedWritePaths: ["{namespace}/**"]
${o.extra ?? ''}`;
}

const azureSetup = (bed: Testbed) => cloudBackend('azure', azureYaml(bed));

/** The backend with list pages of `pageSize` (the adapter built here), writes only under "c*". */
async function azurePaged(bed: Testbed, pageSize: number) {
  const yaml = azureYaml(bed).replace(
    'allowedWritePaths: ["{namespace}/**"]',
    'allowedWritePaths: ["{namespace}/c*"]',
  );
  return guardedCloudBackend(
    yaml,
    (cfg) =>
      new AzureKeyVaultBackend(cfg as AzureBackendConfig, {
        operatorNamespace: CREDENTIALS_NAMESPACE,
        listPageSize: pageSize,
      }),
  );
}

/** Sets tags on the current version, as an admin would (PATCH, updateSecretProperties). */
async function tagCurrent(bed: Testbed, path: string, tags: Readonly<Record<string, string>>): Promise<void> {
  const name = path.split('/').join('--');
  const current = (await vault(bed, 'GET', `/secrets/${name}`)) as { id: string };
  const version = current.id.slice(current.id.lastIndexOf('/') + 1);
  await vault(bed, 'PATCH', `/secrets/${name}/${version}`, { tags });
}

/** Calls the fake directly (the admin port, and the vault with a placeholder token). */
async function vault(bed: Testbed, method: string, path: string, body?: unknown): Promise<unknown> {
  const { Agent, request } = await import('node:https');
  const { readFileSync } = await import('node:fs');
  const url = new URL(`${path}?api-version=7.6`, bed.cloud.azureVaultUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent: new Agent({ ca: readFileSync(bed.cloud.azureCaFile) }),
        headers: { authorization: 'Bearer test', 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text ? JSON.parse(text) : undefined));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('azure-key-vault backend against the Key Vault fake', function () {
  this.timeout(120_000);

  runBackendContract('azure-key-vault (fake)', async () => {
    const bed = await testbed();
    // Key Vault lists the whole vault (no server-side filter), and the adapter walks every page
    // in one list call (the SDK keeps nextLinks to itself): no pageSize for the paging case.
    const { backend, listRequests } = await azurePaged(bed, 5);
    return {
      backend,
      ctx,
      path: (n) => `team-a/${n}`,
      readOnlyPath: (n) => `team-a/readonly-${n}`,
      keepsOldVersions: true,
      listing: {
        tag: (path, tags) => tagCurrent(bed, path, tags),
        listRequests,
        foreignPrefix: 'team-b/',
      },
    };
  });

  describe('what only Azure does', function () {
    let bed: Testbed;
    let setup: CloudSetup;
    let backend: Backend;

    before(async () => {
      bed = await testbed();
      setup = await azureSetup(bed);
      backend = setup.backend;
    });
    after(async () => {
      await setup?.registry.close();
    });

    it('maps paths to names joined by "--", and refuses upper case (names are case-insensitive)', async () => {
      const path = `team-a/${run}-names`;
      const written = await backend.write({ path, data: secretData({ a: '1' }) }, ctx);
      assert.match(written.version, /^[0-9a-f]{32}$/);
      const raw = (await vault(bed, 'GET', `/secrets/team-a--${run}-names`)) as { value: string };
      assert.equal(raw.value, '{"a":"1"}');
      const upper = await rejection(backend.read({ path: `team-a/${run}-Names` }, ctx));
      assert.equal(upper.code, 'InvalidRequest');
      assert.match(upper.message, /lower case/);
      const under = await rejection(backend.read({ path: `team-a/${run}_x` }, ctx));
      assert.equal(under.code, 'InvalidRequest');
    });

    it('stores binary as base64 with a content type, and reads it back as bytes', async () => {
      const path = `team-a/${run}-bin`;
      const bytes = Buffer.from([0x00, 0xff, 0x80, 0x7f]);
      await backend.write(
        { path, data: new Sensitive<ReadonlyMap<string, Buffer>>(new Map([['value', bytes]])) },
        ctx,
      );
      const raw = (await vault(bed, 'GET', `/secrets/team-a--${run}-bin`)) as {
        value: string;
        contentType: string;
      };
      assert.equal(raw.contentType, 'application/octet-stream;base64');
      assert.equal(raw.value, bytes.toString('base64'));
      assert.deepEqual((await backend.read({ path }, ctx)).data.reveal().get('value'), bytes);
    });

    it('reads a certificate-backed secret (application/x-pkcs12) as its PFX bytes', async () => {
      const pfx = Buffer.from([0x30, 0x82, 0x01, 0x00, 0xaa]);
      await vault(bed, 'PUT', `/secrets/team-a--${run}-cert`, {
        value: pfx.toString('base64'),
        contentType: 'application/x-pkcs12',
      });
      const read = await backend.read({ path: `team-a/${run}-cert` }, ctx);
      assert.deepEqual(read.data.reveal().get('value'), pfx);
    });

    it('answers NotFound for a disabled version and InvalidRequest for a deleted name', async () => {
      const path = `team-a/${run}-disabled`;
      const v1 = await backend.write({ path, data: secretData({ a: '1' }) }, ctx);
      await vault(bed, 'PATCH', `/secrets/team-a--${run}-disabled/${v1.version}`, {
        attributes: { enabled: false },
      });
      const err = await rejection(backend.read({ path, version: v1.version }, ctx));
      assert.equal(err.code, 'NotFound');
      assert.match(err.message, /disabled/);
      await vault(bed, 'DELETE', `/secrets/team-a--${run}-disabled`);
      const conflict = await rejection(backend.write({ path, data: secretData({ a: '2' }) }, ctx));
      assert.equal(conflict.code, 'InvalidRequest');
      assert.match(conflict.message, /deleted but recoverable/);
    });

    it('lists by nextLink pages, prefix and every tag checked here; disabled and upper-case names left out', async () => {
      const prefix = `team-a/${run}-find-`;
      const make = async (name: string, tags: Record<string, string>) => {
        const path = `${prefix}${name}`;
        await backend.write({ path, data: secretData({ a: name }) }, ctx);
        await tagCurrent(bed, path, tags);
      };
      await make('a', { env: 'prod', team: 'pay' });
      await make('b', { env: 'prod', team: 'payroll' });
      await make('c', { env: 'prod', team: 'pay', extra: '1' });
      await make('d', { env: 'prod', team: 'pay' });
      const d = (await vault(bed, 'GET', `/secrets/team-a--${run}-find-d`)) as { id: string };
      await vault(bed, 'PATCH', `/secrets/team-a--${run}-find-d/${d.id.slice(-32)}`, {
        attributes: { enabled: false },
      });
      await vault(bed, 'PUT', `/secrets/Team-a--${run}-find-up`, {
        value: 'x',
        tags: { env: 'prod', team: 'pay' },
      });
      const { adapter } = await azurePaged(bed, 2);
      const before = (await fakeCalls(bed.cloud.azureAdmin)).length;
      const got = await adapter.list?.({ prefix, tags: { env: 'prod', team: 'pay' } }, undefined, ctx);
      assert.deepEqual(got, { paths: [`${prefix}a`, `${prefix}c`] });
      const pages = (await fakeCalls(bed.cloud.azureAdmin)).slice(before).filter((c) => c.method === 'GET');
      assert.ok(pages.length > 3, `${pages.length} page(s) of 2`); // nextLinks followed
    });

    it('restores by setting the chosen version value, content type and tags as a new version', async () => {
      const path = `team-a/${run}-restore`;
      const pfx = Buffer.from([0x30, 0x82, 0x01]).toString('base64');
      const v1 = (await vault(bed, 'PUT', `/secrets/team-a--${run}-restore`, {
        value: pfx,
        contentType: 'application/x-pkcs12',
        tags: { kind: 'cert' },
      })) as { id: string };
      const v2 = await backend.write({ path, data: secretData({ a: '2' }) }, ctx);
      assert.ok(backend.restore);
      const restored = await backend.restore({ path, version: v1.id.slice(-32), cas: v2.version }, ctx);
      assert.notEqual(restored.version, v2.version);
      const now = (await vault(bed, 'GET', `/secrets/team-a--${run}-restore`)) as {
        id: string;
        value: string;
        contentType: string;
        tags: Record<string, string>;
      };
      assert.equal(now.id.slice(-32), restored.version);
      assert.deepEqual(
        [now.value, now.contentType, now.tags],
        [pfx, 'application/x-pkcs12', { kind: 'cert' }],
      );
      const conflict = await rejection(
        backend.restore({ path, version: v1.id.slice(-32), cas: v2.version }, ctx),
      );
      assert.equal(conflict.code, 'Conflict');
    });

    it('deletes softly: NotFound, not listed, name not reusable, and recover brings every version back', async () => {
      const path = `team-a/${run}-delete`;
      const v1 = await backend.write({ path, data: secretData({ a: '1' }) }, ctx);
      await backend.write({ path, data: secretData({ a: '2' }) }, ctx);
      assert.ok(backend.delete);
      await backend.delete({ path, scope: 'all' }, ctx);
      assert.equal((await rejection(backend.read({ path }, { ...ctx, maxAgeMs: 0 }))).code, 'NotFound');
      const found = await backend.find?.({ prefix: path, maxItems: 10 }, { ...ctx, maxAgeMs: 0 });
      assert.deepEqual(found?.paths, []);
      const reuse = await rejection(backend.write({ path, data: secretData({ a: '3' }) }, ctx));
      assert.match(reuse.message, /deleted but recoverable/);
      assert.equal((await rejection(backend.delete({ path, scope: 'latest' }, ctx))).code, 'NotFound');
      const deleted = (await vault(bed, 'GET', `/deletedsecrets/team-a--${run}-delete`)) as {
        recoveryId?: string;
      };
      assert.match(deleted.recoveryId ?? '', /\/deletedsecrets\/team-a--/);
      await vault(bed, 'POST', `/deletedsecrets/team-a--${run}-delete/recover`);
      assert.equal(
        (await backend.read({ path }, { ...ctx, maxAgeMs: 0 })).data.reveal().get('a')?.toString(),
        '2',
      );
      const old = await backend.read({ path, version: v1.version }, ctx);
      assert.equal(old.data.reveal().get('a')?.toString(), '1');
    });

    it('keeps the value out of every error about the secret', async () => {
      const path = `team-a/${run}-canary`;
      const canary = `canary-${run}-azure`;
      const written = await backend.write({ path, data: secretData({ password: canary }) }, ctx);
      assert.ok(backend.restore);
      const errors = await Promise.all([
        rejection(backend.read({ path, version: '0123456789abcdef0123456789abcdef' }, ctx)),
        rejection(backend.write({ path, data: secretData({ password: canary }), cas: '0' }, ctx)),
        rejection(backend.restore({ path, version: written.version, cas: '0'.repeat(32) }, ctx)),
        rejection(backend.write({ path, data: secretData({ password: canary.repeat(2000) }) }, ctx)),
      ]);
      assert.equal(errors[3]?.code, 'InvalidRequest'); // over the 25 KiB value limit
      for (const err of errors) assert.equal(printed(err).includes(canary), false, err.message);
      const found = await backend.find?.({ prefix: path, maxItems: 5 }, { ...ctx, maxAgeMs: 0 });
      assert.deepEqual(found?.paths, [path]); // names only
      assert.equal(JSON.stringify(found).includes(canary), false);
    });
  });

  describe('failures', function () {
    it('maps 429 to Throttled with its Retry-After, and sends nothing before it passes', async () => {
      const bed = await testbed();
      const { backend, registry } = await azureSetup(bed);
      try {
        const path = `team-a/${run}-throttle`;
        await backend.write({ path, data: secretData({ a: '1' }) }, ctx);
        const before = (await fakeCalls(bed.cloud.azureAdmin)).length;
        await fetch(`${bed.cloud.azureAdmin}/throttle?count=1&retryAfter=2`, { method: 'POST' });
        const err = await rejection(backend.read({ path }, ctx));
        assert.equal(err.code, 'Throttled');
        assert.equal(err.retryAfterMs, 2000);
        const started = Date.now();
        const ok = await backend.read({ path }, ctx);
        assert.equal(ok.data.reveal().get('a')?.toString(), '1');
        assert.ok(Date.now() - started >= 1800, `waited ${Date.now() - started} ms`);
        const calls = (await fakeCalls(bed.cloud.azureAdmin)).slice(before);
        assert.deepEqual(
          calls.map((c) => c.throttled),
          [true, false],
        );
        assert.ok(calls[1]!.at - calls[0]!.at >= 1900);
      } finally {
        await registry.close();
      }
    });

    it('refuses a server whose certificate it cannot verify (no CA given): TLS stays on', async () => {
      const bed = await testbed();
      const { backend, registry } = await cloudBackend('azure', azureYaml(bed, { tls: '{}' }));
      try {
        const err = await rejection(backend.read({ path: 'team-a/x' }, ctx));
        assert.equal(err.code, 'Unavailable');
        assert.equal(err.transient, false);
        assert.match(err.message, /TLS verification failed/);
      } finally {
        await registry.close();
      }
    });

    it('sends no real token to a vault whose challenge names another domain', async () => {
      // With clientSecret auth the challenge is verified (as for real Key Vault); the fake's
      // challenge names localhost, which is no Key Vault domain: refused before any token.
      const bed = await testbed();
      const secrets = await credentialsSecret(bed, 'azure-sp', { secret: 'canary-client-secret' });
      const auth =
        '{clientSecret: {tenantId: 00000000-0000-0000-0000-000000000001, clientId: 00000000-0000-0000-0000-000000000002, clientSecretRef: {name: azure-sp, key: secret}}}';
      const { backend, registry } = await cloudBackend('azure', azureYaml(bed, { auth }), { secrets });
      try {
        const err = await rejection(backend.read({ path: 'team-a/x' }, ctx));
        assert.equal(err.code, 'InvalidRequest', err.message);
        assert.match(err.message, /challenge names another domain than vaultUrl; no token was sent/);
        assert.equal(printed(err).includes('canary-client-secret'), false);
      } finally {
        await registry.close();
      }
    });
  });
});
