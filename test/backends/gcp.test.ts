// The Google Secret Manager backend against the bed's Secret Manager FAKE (our gRPC server
// with the client library's own protos: no emulator can be had on this machine, see
// test/support/testbed/gcp-secret-manager-fake.ts). The real client library and gRPC stack
// are exercised end to end; fidelity to Google's service is only as good as the fake.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { credentials as grpcCredentials } from '@grpc/grpc-js';
import { GcpSecretManagerBackend } from '../../src/backends/gcp/backend.ts';
import type { Backend } from '../../src/backends/types.ts';
import type { GcpBackendConfig } from '../../src/config/schema.ts';
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
const PROJECT = 'vaultsync-test';

function gcpYaml(endpoint: string, extra = ''): string {
  return `
    name: gcp
    type: gcp-secret-manager
    project: ${PROJECT}
    endpoint: "${endpoint}"
    tls: {insecure: true}
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
    allowedWritePaths: ["{namespace}/**"]
${extra}`;
}

const gcpSetup = (bed: Testbed, extra = '') => cloudBackend('gcp', gcpYaml(bed.cloud.gcpEndpoint, extra));

/** The backend with pages of `pageSize` (the adapter built here), writes only under "c*". */
async function gcpPaged(bed: Testbed, pageSize: number) {
  const yaml = gcpYaml(bed.cloud.gcpEndpoint).replace(
    'allowedWritePaths: ["{namespace}/**"]',
    'allowedWritePaths: ["{namespace}/c*"]',
  );
  return guardedCloudBackend(
    yaml,
    (cfg) =>
      new GcpSecretManagerBackend(cfg as GcpBackendConfig, {
        operatorNamespace: CREDENTIALS_NAMESPACE,
        listPageSize: pageSize,
      }),
  );
}

/** A raw client against the fake, for what the backend does not do itself. */
function rawClient(bed: Testbed): SecretManagerServiceClient {
  const [host, port] = bed.cloud.gcpEndpoint.split(':');
  return new SecretManagerServiceClient({
    apiEndpoint: host,
    port: Number(port),
    sslCreds: grpcCredentials.createInsecure(),
    universeDomain: 'googleapis.com',
  });
}

describe('gcp-secret-manager backend against the Secret Manager fake', function () {
  this.timeout(120_000);

  runBackendContract('gcp-secret-manager (fake)', async () => {
    const bed = await testbed();
    const { backend, listRequests } = await gcpPaged(bed, 2);
    const raw = rawClient(bed);
    return {
      backend,
      ctx,
      path: (n) => `team-a/${n}`,
      readOnlyPath: (n) => `team-a/readonly-${n}`,
      keepsOldVersions: true,
      listing: {
        tag: async (path, labels) => {
          const name = `projects/${PROJECT}/secrets/${path.split('/').join('--')}`;
          await raw.updateSecret({ secret: { name, labels }, updateMask: { paths: ['labels'] } });
        },
        pageSize: 2,
        listRequests,
        foreignPrefix: 'team-b/',
      },
      cleanup: () => raw.close(),
    };
  });

  describe('what only Google does', function () {
    let bed: Testbed;
    let setup: CloudSetup;
    let backend: Backend;
    let raw: SecretManagerServiceClient;

    before(async () => {
      bed = await testbed();
      setup = await gcpSetup(bed);
      backend = setup.backend;
      raw = rawClient(bed);
    });
    after(async () => {
      await setup?.registry.close();
      await raw?.close();
    });

    it('maps paths to secret IDs joined by "--" and reads "latest" and numbers', async () => {
      const path = `team-a/${run}-ids`;
      await backend.write({ path, data: secretData({ a: '1' }) }, ctx);
      const v2 = await backend.write({ path, data: secretData({ a: '2' }) }, ctx);
      assert.equal(v2.version, '2');
      const [version] = await raw.accessSecretVersion({
        name: `projects/${PROJECT}/secrets/team-a--${run}-ids/versions/1`,
      });
      assert.equal(Buffer.from(version.payload?.data as Uint8Array).toString(), '{"a":"1"}');
      const latest = await backend.read({ path, version: 'latest' }, ctx);
      assert.equal(latest.version, '2');
      const err = await rejection(backend.read({ path: 'team-a/bad--segment' }, ctx));
      assert.equal(err.code, 'InvalidRequest');
      assert.match(err.message, /must not contain "--"/);
    });

    it('reads binary payloads as bytes under "value" and writes them back unchanged', async () => {
      const path = `team-a/${run}-bin`;
      const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x10]);
      await backend.write(
        { path, data: new Sensitive<ReadonlyMap<string, Buffer>>(new Map([['value', bytes]])) },
        ctx,
      );
      const read = await backend.read({ path }, ctx);
      assert.deepEqual(read.data.reveal().get('value'), bytes);
    });

    it('answers NotFound for a disabled or destroyed version, naming the state', async () => {
      const path = `team-a/${run}-states`;
      await backend.write({ path, data: secretData({ a: '1' }) }, ctx);
      await backend.write({ path, data: secretData({ a: '2' }) }, ctx);
      const secret = `projects/${PROJECT}/secrets/team-a--${run}-states`;
      await raw.disableSecretVersion({ name: `${secret}/versions/1` });
      await raw.destroySecretVersion({ name: `${secret}/versions/2` });
      const disabled = await rejection(backend.read({ path, version: '1' }, ctx));
      assert.equal(disabled.code, 'NotFound');
      assert.match(disabled.message, /the version is disabled/);
      const destroyed = await rejection(backend.read({ path, version: '2' }, ctx));
      assert.match(destroyed.message, /the version is destroyed/);
      assert.equal((await rejection(backend.read({ path }, ctx))).code, 'NotFound');
    });

    it('lists by ID prefix and every label exactly, across pages; a disabled latest is not listed', async () => {
      const prefix = `team-a/${run}-find-`;
      const make = async (name: string, labels: Record<string, string>) => {
        await raw.createSecret({
          parent: `projects/${PROJECT}`,
          secretId: `team-a--${run}-find-${name}`,
          secret: { replication: { automatic: {} }, labels },
        });
        await backend.write({ path: `${prefix}${name}`, data: secretData({ a: name }) }, ctx);
      };
      await make('a', { env: 'prod', team: 'pay' });
      await make('b', { env: 'prod' });
      await make('c', { env: 'prod', team: 'pay', 'odd-key': 'x' });
      await make('d', { env: 'prod', team: 'pay' });
      await raw.disableSecretVersion({
        name: `projects/${PROJECT}/secrets/team-a--${run}-find-d/versions/1`,
      });
      await raw.createSecret({
        parent: `projects/${PROJECT}`,
        secretId: `team-a--${run}-find---odd`, // no path maps to it
        secret: { replication: { automatic: {} }, labels: { env: 'prod', team: 'pay' } },
      });
      const { adapter } = await gcpPaged(bed, 1);
      const all: string[] = [];
      let page: string | undefined;
      let requests = 0;
      do {
        const got = await adapter.list?.(
          { prefix, tags: { env: 'prod', team: 'pay', 'odd-key': 'x' } },
          page,
          ctx,
        );
        all.push(...(got?.paths ?? []));
        page = got?.next;
        requests++;
      } while (page !== undefined && requests < 50);
      assert.deepEqual(all, [`${prefix}c`]);
      assert.ok(requests > 1, `${requests} page(s)`);
      const found = await backend.find?.(
        { prefix, tags: { team: 'pay' }, maxItems: 10 },
        { ...ctx, maxAgeMs: 0 },
      );
      assert.deepEqual(found?.paths, [`${prefix}a`, `${prefix}c`]);
      await adapter.close();
    });

    it('restores by adding the chosen payload byte for byte (a JSON number stays a number)', async () => {
      const path = `team-a/${run}-restore`;
      const secret = `projects/${PROJECT}/secrets/team-a--${run}-restore`;
      await raw.createSecret({
        parent: `projects/${PROJECT}`,
        secretId: `team-a--${run}-restore`,
        secret: { replication: { automatic: {} } },
      });
      await raw.addSecretVersion({ parent: secret, payload: { data: Buffer.from('{"port": 5432}') } });
      await backend.write({ path, data: secretData({ port: '6543' }) }, ctx);
      assert.ok(backend.restore);
      const restored = await backend.restore({ path, version: '1', cas: '2' }, ctx);
      assert.equal(restored.version, '3');
      const [v3] = await raw.accessSecretVersion({ name: `${secret}/versions/3` });
      assert.equal(Buffer.from(v3.payload?.data as Uint8Array).toString(), '{"port": 5432}');
      const conflict = await rejection(backend.restore({ path, version: '1', cas: '2' }, ctx));
      assert.equal(conflict.code, 'Conflict');
      await raw.disableSecretVersion({ name: `${secret}/versions/1` });
      const disabled = await rejection(backend.restore({ path, version: '1' }, ctx));
      assert.equal(disabled.code, 'NotFound');
    });

    it('deletes by disabling every enabled version: NotFound, secret kept, EnableSecretVersion undoes it', async () => {
      const path = `team-a/${run}-delete`;
      const secret = `projects/${PROJECT}/secrets/team-a--${run}-delete`;
      await backend.write({ path, data: secretData({ a: '1' }) }, ctx);
      await backend.write({ path, data: secretData({ a: '2' }) }, ctx);
      assert.ok(backend.delete);
      await backend.delete({ path, scope: 'latest' }, ctx);
      const err = await rejection(backend.read({ path }, { ...ctx, maxAgeMs: 0 }));
      assert.equal(err.code, 'NotFound');
      assert.match(err.message, /disabled/);
      const [versions] = await raw.listSecretVersions({ parent: secret });
      assert.deepEqual(
        versions.map((v) => v.state),
        ['DISABLED', 'DISABLED'],
      );
      assert.equal((await rejection(backend.delete({ path, scope: 'all' }, ctx))).code, 'NotFound');
      await raw.enableSecretVersion({ name: `${secret}/versions/2` });
      const back = await backend.read({ path }, { ...ctx, maxAgeMs: 0 });
      assert.equal(back.data.reveal().get('a')?.toString(), '2');
    });

    it('reads "latest" as the most recently created version: disabled, it is NotFound', async () => {
      const path = `team-a/${run}-latest`;
      await backend.write({ path, data: secretData({ a: '1' }) }, ctx);
      await backend.write({ path, data: secretData({ a: '2' }) }, ctx);
      await raw.disableSecretVersion({
        name: `projects/${PROJECT}/secrets/team-a--${run}-latest/versions/2`,
      });
      assert.equal((await rejection(backend.read({ path }, ctx))).code, 'NotFound');
      assert.equal((await backend.read({ path, version: '1' }, ctx)).data.reveal().get('a')?.toString(), '1');
    });

    it('refuses a version that is neither a number nor "latest"', async () => {
      const err = await rejection(backend.read({ path: `team-a/${run}-x`, version: 'AWSCURRENT' }, ctx));
      assert.equal(err.code, 'InvalidRequest');
    });

    it('keeps the value out of every error about the secret', async () => {
      const path = `team-a/${run}-canary`;
      const canary = `canary-${run}-gcp`;
      const written = await backend.write({ path, data: secretData({ password: canary }) }, ctx);
      assert.ok(backend.restore);
      const errors = await Promise.all([
        rejection(backend.read({ path, version: '77' }, ctx)),
        rejection(backend.write({ path, data: secretData({ password: canary }), cas: '0' }, ctx)),
        rejection(backend.restore({ path, version: written.version, cas: '99' }, ctx)),
        rejection(backend.write({ path, data: secretData({ password: canary.repeat(5000) }) }, ctx)),
      ]);
      assert.equal(errors[3]?.code, 'InvalidRequest'); // over the 64 KiB payload limit
      for (const err of errors) assert.equal(printed(err).includes(canary), false, err.message);
      const found = await backend.find?.({ prefix: path, maxItems: 5 }, { ...ctx, maxAgeMs: 0 });
      assert.deepEqual(found?.paths, [path]); // names only
      assert.equal(JSON.stringify(found).includes(canary), false);
    });
  });

  describe('failures', function () {
    it('maps RESOURCE_EXHAUSTED to Throttled with its RetryInfo, and sends nothing before it passes', async () => {
      const bed = await testbed();
      const { backend, registry } = await gcpSetup(bed);
      try {
        const path = `team-a/${run}-throttle`;
        await backend.write({ path, data: secretData({ a: '1' }) }, ctx);
        const before = (await fakeCalls(bed.cloud.gcpAdmin)).length;
        await fetch(`${bed.cloud.gcpAdmin}/throttle?count=1&retryDelayMs=1500`, { method: 'POST' });
        const err = await rejection(backend.read({ path }, ctx));
        assert.equal(err.code, 'Throttled');
        assert.equal(err.retryAfterMs, 1500);
        // No gax retry happened, and the next read waits out the 1.5 s before it is sent.
        const started = Date.now();
        const ok = await backend.read({ path }, ctx);
        assert.equal(ok.data.reveal().get('a')?.toString(), '1');
        assert.ok(Date.now() - started >= 1300, `waited ${Date.now() - started} ms`);
        const calls = (await fakeCalls(bed.cloud.gcpAdmin)).slice(before);
        assert.deepEqual(
          calls.map((c) => [c.method, c.throttled]),
          [
            ['AccessSecretVersion', true],
            ['AccessSecretVersion', false],
          ],
        );
        assert.ok(calls[1]!.at - calls[0]!.at >= 1400);
      } finally {
        await registry.close();
      }
    });

    it('maps an unreachable endpoint to Unavailable', async () => {
      const bed = await testbed();
      const { backend, registry } = await cloudBackend('gcp', gcpYaml('127.0.0.1:9', '    timeout: 3s'));
      void bed;
      try {
        const err = await rejection(backend.read({ path: 'team-a/x' }, ctx));
        assert.equal(err.code, 'Unavailable');
        assert.equal(err.transient, true);
      } finally {
        await registry.close();
      }
    });

    it('fails with Unauthenticated, naming the Secret, when the key is not a service-account key', async () => {
      const bed = await testbed();
      const secrets = await credentialsSecret(bed, 'gcp-key', {
        'key.json': '{"type":"not-a-key","x":"canary-gcp-key"}',
      });
      const yaml = gcpYaml(
        bed.cloud.gcpEndpoint,
        '    auth: {serviceAccountKeyRef: {name: gcp-key, key: key.json}}',
      );
      const { backend, registry } = await cloudBackend('gcp', yaml, { secrets });
      try {
        const err = await rejection(backend.read({ path: 'team-a/x' }, ctx));
        assert.equal(err.code, 'Unauthenticated');
        assert.match(
          err.message,
          /vaultsync-cloud-test\/gcp-key key "key.json" is not a service-account key/,
        );
        assert.equal(printed(err).includes('canary-gcp-key'), false);
      } finally {
        await registry.close();
      }
    });
  });
});
