// The Azure Key Vault backend against the bed's Key Vault FAKE (our HTTPS server: Lowkey
// Vault cannot be had on this machine, see test/support/testbed/azure-key-vault-fake.ts). The
// real SDK pipeline runs end to end — TLS verified against the fake's CA (given explicitly
// with tls.caFile), the bearer challenge, error parsing; fidelity to Key Vault is only as
// good as the fake.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Backend } from '../../src/backends/types.ts';
import { Sensitive } from '../../src/secrets/sensitive.ts';
import { testbed, type Testbed } from '../support/testbed.ts';
import { runBackendContract, secretData } from './contract.ts';
import {
  cloudBackend,
  credentialsSecret,
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
    const { backend, registry } = await azureSetup(bed);
    return {
      backend,
      ctx,
      path: (n) => `team-a/${n}`,
      keepsOldVersions: true,
      cleanup: () => registry.close(),
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

    it('keeps the value out of every error about the secret', async () => {
      const path = `team-a/${run}-canary`;
      const canary = `canary-${run}-azure`;
      await backend.write({ path, data: secretData({ password: canary }) }, ctx);
      const errors = await Promise.all([
        rejection(backend.read({ path, version: '0123456789abcdef0123456789abcdef' }, ctx)),
        rejection(backend.write({ path, data: secretData({ password: canary }), cas: '0' }, ctx)),
        rejection(backend.write({ path, data: secretData({ password: canary.repeat(2000) }) }, ctx)),
      ]);
      assert.equal(errors[2]?.code, 'InvalidRequest'); // over the 25 KiB value limit
      for (const err of errors) assert.equal(printed(err).includes(canary), false, err.message);
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
