// The AWS Secrets Manager backend against moto (server mode) from the test bed: the backend
// contract with static keys from a Kubernetes Secret, then what only AWS does (staging labels,
// SecretBinary, plain-string secrets) and its failures. moto cannot throttle: a proxy in front
// of it answers ThrottlingException the way AWS does (HTTP 400, JSON body, x-amzn-ErrorType).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { AwsSecretsManagerBackend } from '../../src/backends/aws/backend.ts';
import type { BackendDeps } from '../../src/backends/registry.ts';
import type { Backend } from '../../src/backends/types.ts';
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
  throttlingProxy,
  type CloudSetup,
} from './cloud-support.ts';
import type { AwsBackendConfig } from '../../src/config/schema.ts';

const run = randomBytes(3).toString('hex');
const ctx = { namespace: 'team-a' };

function awsYaml(endpoint: string, extra = ''): string {
  return `
    name: aws
    type: aws-secrets-manager
    region: us-east-1
    endpoint: ${endpoint}
    tls: {insecure: ${endpoint.startsWith('http://')}}
    auth: {static: {accessKeyIdRef: {name: aws-keys, key: id}, secretAccessKeyRef: {name: aws-keys, key: secret}}}
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
    allowedWritePaths: ["{namespace}/**"]
${extra}`;
}

async function awsSetup(
  bed: Testbed,
  endpoint = bed.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '',
  extra = '',
  deps: BackendDeps = {},
): Promise<CloudSetup> {
  const secrets = await credentialsSecret(bed, 'aws-keys', { id: 'AKIDTESTTEST', secret: 'test-secret-key' });
  return cloudBackend('aws', awsYaml(endpoint, extra), { secrets, ...deps });
}

/** The adapter alone (no guard), with keys from the Secret and the given ListSecrets page size. */
async function awsAdapter(bed: Testbed, listPageSize: number): Promise<AwsSecretsManagerBackend> {
  const secrets = await credentialsSecret(bed, 'aws-keys', { id: 'AKIDTESTTEST', secret: 'test-secret-key' });
  const made = await guardedCloudBackend(
    awsYaml(bed.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? ''),
    (cfg) =>
      new AwsSecretsManagerBackend(cfg as AwsBackendConfig, {
        operatorNamespace: CREDENTIALS_NAMESPACE,
        ...(secrets ? { secrets } : {}),
        listPageSize,
      }),
  );
  return made.adapter as AwsSecretsManagerBackend;
}

/** A raw SDK client against moto, for setting up what the backend does not write itself. */
function motoClient(bed: Testbed): SecretsManagerClient {
  return new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: bed.env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

describe('aws-secrets-manager backend against moto', function () {
  this.timeout(120_000);

  runBackendContract('aws-secrets-manager (moto)', async () => {
    const bed = await testbed();
    const secrets = await credentialsSecret(bed, 'aws-keys', {
      id: 'AKIDTESTTEST',
      secret: 'test-secret-key',
    });
    // Writes only under "c*" (the contract's fresh paths), so that read-only paths exist; pages of 2.
    const yaml = awsYaml(bed.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '').replace(
      'allowedWritePaths: ["{namespace}/**"]',
      'allowedWritePaths: ["{namespace}/c*"]',
    );
    const { backend, listRequests } = await guardedCloudBackend(
      yaml,
      (cfg) =>
        new AwsSecretsManagerBackend(cfg as AwsBackendConfig, {
          operatorNamespace: CREDENTIALS_NAMESPACE,
          ...(secrets ? { secrets } : {}),
          listPageSize: 2,
        }),
    );
    const raw = motoClient(bed);
    return {
      backend,
      ctx,
      path: (n) => `team-a/${n}`,
      readOnlyPath: (n) => `team-a/readonly-${n}`,
      keepsOldVersions: true,
      listing: {
        tag: async (path, tags) => {
          const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
          await raw.send(new TagResourceCommand({ SecretId: path, Tags }));
        },
        pageSize: 2,
        listRequests,
        foreignPrefix: 'team-b/',
      },
      cleanup: async () => raw.destroy(),
    };
  });

  describe('what only AWS does', function () {
    let bed: Testbed;
    let setup: CloudSetup;
    let backend: Backend;
    let raw: SecretsManagerClient;

    before(async () => {
      bed = await testbed();
      setup = await awsSetup(bed);
      backend = setup.backend;
      raw = motoClient(bed);
    });
    after(async () => {
      await setup?.registry.close();
      raw?.destroy();
    });

    it('reads by staging label: AWSCURRENT, AWSPREVIOUS, and reports the version ID', async () => {
      const path = `team-a/${run}-stages`;
      const v1 = await backend.write({ path, data: secretData({ password: 'one' }) }, ctx);
      const v2 = await backend.write({ path, data: secretData({ password: 'two' }) }, ctx);
      assert.match(v1.version, /^[0-9a-f-]{36}$/);
      const current = await backend.read({ path, version: 'AWSCURRENT' }, ctx);
      const previous = await backend.read({ path, version: 'AWSPREVIOUS' }, ctx);
      assert.equal(current.version, v2.version);
      assert.equal(previous.version, v1.version);
      assert.equal(previous.data.reveal().get('password')?.toString(), 'one');
      const byId = await backend.read({ path, version: `uuid/${v1.version}` }, ctx);
      assert.equal(byId.data.reveal().get('password')?.toString(), 'one');
    });

    it('reads a plain-string secret as the key "value" and a JSON one as its keys', async () => {
      await raw.send(new CreateSecretCommand({ Name: `team-a/${run}-plain`, SecretString: 'just-a-token' }));
      await raw.send(
        new CreateSecretCommand({ Name: `team-a/${run}-json`, SecretString: '{"user":"app","port":5432}' }),
      );
      const plain = await backend.read({ path: `team-a/${run}-plain` }, ctx);
      assert.deepEqual([...plain.data.reveal().keys()], ['value']);
      assert.equal(plain.data.reveal().get('value')?.toString(), 'just-a-token');
      const json = await backend.read({ path: `team-a/${run}-json` }, ctx);
      assert.equal(json.data.reveal().get('user')?.toString(), 'app');
      assert.equal(json.data.reveal().get('port')?.toString(), '5432');
    });

    it('reads SecretBinary as bytes, and writes binary as SecretBinary', async () => {
      const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x01]);
      await raw.send(new CreateSecretCommand({ Name: `team-a/${run}-bin`, SecretBinary: bytes }));
      const read = await backend.read({ path: `team-a/${run}-bin` }, ctx);
      assert.deepEqual(read.data.reveal().get('value'), bytes);

      const path = `team-a/${run}-bin-write`;
      const data = new Sensitive<ReadonlyMap<string, Buffer>>(
        new Map([['value', Buffer.from([0xc3, 0x28, 0x00])]]),
      );
      await backend.write({ path, data }, ctx);
      const back = await backend.read({ path }, ctx);
      assert.deepEqual(back.data.reveal().get('value'), Buffer.from([0xc3, 0x28, 0x00]));
    });

    it('refuses binary under other keys and ARNs as paths, naming no value', async () => {
      const data = new Sensitive<ReadonlyMap<string, Buffer>>(
        new Map([
          ['a', Buffer.from('canary-text')],
          ['b', Buffer.from([0xff])],
        ]),
      );
      const err = await rejection(backend.write({ path: `team-a/${run}-mixed`, data }, ctx));
      assert.equal(err.code, 'InvalidRequest');
      assert.match(err.message, /key "b" is not UTF-8/);
      assert.equal(printed(err).includes('canary-text'), false);
      const arn = await rejection(
        backend.read({ path: 'team-a/arn:aws:secretsmanager:us-east-1:123456789012:secret:x' }, ctx),
      );
      assert.equal(arn.code, 'InvalidRequest');
    });

    it('answers NotFound for a secret scheduled for deletion', async () => {
      const path = `team-a/${run}-deleted`;
      await backend.write({ path, data: secretData({ a: '1' }) }, ctx);
      await raw.send(new DeleteSecretCommand({ SecretId: path, RecoveryWindowInDays: 7 }));
      const err = await rejection(backend.read({ path }, ctx));
      assert.equal(err.code, 'NotFound', err.message);
      assert.match(err.message, /scheduled for deletion/);
    });

    it('lists across pages by name prefix and every tag exactly (AWS filters match prefixes)', async () => {
      const prefix = `team-a/${run}-find-`;
      const make = async (name: string, tags: Record<string, string>) => {
        const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
        await raw.send(new CreateSecretCommand({ Name: `${prefix}${name}`, SecretString: 'x', Tags }));
      };
      await make('a', { env: 'prod', team: 'pay' });
      await make('b', { env: 'production', team: 'pay' }); // tag-value "prod" matches it by prefix
      await make('c', { env: 'prod' });
      await make('d', { env: 'prod', team: 'pay', extra: '1' });
      await make('e', { envx: 'prod', team: 'pay' }); // tag-key "env" matches it by prefix
      await raw.send(
        new CreateSecretCommand({
          Name: `team-a/${run}-findx`,
          SecretString: 'x',
          Tags: [{ Key: 'env', Value: 'prod' }],
        }),
      );
      const adapter = await awsAdapter(bed, 1);
      const all: string[] = [];
      let page: string | undefined;
      let requests = 0;
      do {
        const got = await adapter.list({ prefix, tags: { env: 'prod', team: 'pay' } }, page, ctx);
        all.push(...got.paths);
        page = got.next;
        requests++;
      } while (page !== undefined && requests < 50);
      assert.deepEqual(all.sort(), [`${prefix}a`, `${prefix}d`]);
      assert.ok(requests > 1, `${requests} page(s)`);
      const everything = await adapter.list({ prefix }, undefined, ctx);
      assert.equal(everything.paths.length, 1); // MaxResults 1
      await adapter.close();
    });

    it('restores by moving AWSCURRENT back: no new version, AWSPREVIOUS on the one it left', async () => {
      const path = `team-a/${run}-restore`;
      const v1 = await backend.write({ path, data: secretData({ password: 'one' }) }, ctx);
      const v2 = await backend.write({ path, data: secretData({ password: 'two' }) }, ctx);
      const restore = backend.restore?.bind(backend);
      assert.ok(restore);
      const restored = await restore({ path, version: v1.version, cas: v2.version }, ctx);
      assert.equal(restored.version, v1.version);
      const current = await backend.read({ path }, { ...ctx, maxAgeMs: 0 });
      assert.equal(current.version, v1.version);
      assert.equal(current.data.reveal().get('password')?.toString(), 'one');
      const previous = await backend.read({ path, version: 'AWSPREVIOUS' }, ctx);
      assert.equal(previous.version, v2.version);
      const versions = await raw.send(new ListSecretVersionIdsCommand({ SecretId: path }));
      assert.equal(versions.Versions?.length, 2);
      // By staging label too, and a cas that is not current is refused without a move.
      const err = await rejection(restore({ path, version: 'AWSPREVIOUS', cas: v2.version }, ctx));
      assert.equal(err.code, 'Conflict');
      assert.equal((await restore({ path, version: 'AWSPREVIOUS' }, ctx)).version, v2.version);
      const gone = await rejection(restore({ path, version: '00000000-0000-4000-8000-000000000000' }, ctx));
      assert.equal(gone.code, 'NotFound');
    });

    it('deletes with a 7-day recovery window: NotFound, not listed, and RestoreSecret brings it back', async () => {
      const path = `team-a/${run}-delete`;
      await backend.write({ path, data: secretData({ a: '1' }) }, ctx);
      const remove = backend.delete?.bind(backend);
      assert.ok(remove);
      const before = Date.now();
      await remove({ path, scope: 'all' }, ctx);
      const described = await raw.send(new DescribeSecretCommand({ SecretId: path }));
      const days = ((described.DeletedDate?.getTime() ?? 0) - before) / 86_400_000;
      assert.ok(days > 6.9 && days < 7.1, `deletion in ${days} days`);
      assert.equal((await rejection(backend.read({ path }, { ...ctx, maxAgeMs: 0 }))).code, 'NotFound');
      const found = await backend.find?.({ prefix: path, maxItems: 10 }, { ...ctx, maxAgeMs: 0 });
      assert.deepEqual(found?.paths, []);
      assert.equal((await rejection(remove({ path, scope: 'latest' }, ctx))).code, 'NotFound');
      await raw.send(new RestoreSecretCommand({ SecretId: path }));
      const back = await backend.read({ path }, { ...ctx, maxAgeMs: 0 });
      assert.equal(back.data.reveal().get('a')?.toString(), '1');
    });

    it('keeps the value out of every error about the secret', async () => {
      const path = `team-a/${run}-canary`;
      const canary = `canary-${run}-aws`;
      const written = await backend.write({ path, data: secretData({ password: canary }) }, ctx);
      assert.ok(backend.restore);
      const errors = await Promise.all([
        rejection(backend.read({ path, version: 'NOPE' }, ctx)),
        rejection(backend.read({ path, version: 'uuid/not-a-version-id' }, ctx)),
        rejection(backend.write({ path, data: secretData({ password: canary }), cas: '0' }, ctx)),
        rejection(
          backend.restore(
            { path, version: written.version, cas: '00000000-0000-4000-8000-000000000000' },
            ctx,
          ),
        ),
      ]);
      for (const err of errors) assert.equal(printed(err).includes(canary), false, err.message);
      const found = await backend.find?.({ prefix: path, maxItems: 5 }, { ...ctx, maxAgeMs: 0 });
      assert.deepEqual(found?.paths, [path]); // names only
      assert.equal(JSON.stringify(found).includes(canary), false);
    });
  });

  describe('with IAM enforced by moto (signatures checked, policies applied)', function () {
    let bed: Testbed;
    let user: { id: string; secret: string };
    /** A user with the policy docs/backends/aws.md gives for find, rollback and delete. */
    let operator: { id: string; secret: string };
    const path = `team-a/${run}-iam`;
    const versions: string[] = [];

    /** An IAM Query API call to moto, unsigned (allowed while moto's no-auth count lasts). */
    async function iam(params: Record<string, string>): Promise<string> {
      const res = await fetch(bed.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '', {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIDSETUP/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
        },
        body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
      });
      const text = await res.text();
      assert.ok(res.ok, `IAM ${params.Action}: HTTP ${res.status} ${text.slice(0, 200)}`);
      return text;
    }
    const resetAuth = (count: string) =>
      fetch(`${bed.env.AWS_ENDPOINT_URL_SECRETS_MANAGER}/moto-api/reset-auth`, {
        method: 'POST',
        body: count,
      });

    before(async () => {
      bed = await testbed();
      const raw = motoClient(bed);
      const v1 = await raw.send(new CreateSecretCommand({ Name: path, SecretString: '{"a":"1"}' }));
      const v2 = await raw.send(new PutSecretValueCommand({ SecretId: path, SecretString: '{"a":"2"}' }));
      versions.push(v1.VersionId ?? '', v2.VersionId ?? '');
      await raw.send(new CreateSecretCommand({ Name: `${path}-gone`, SecretString: '{"a":"1"}' }));
      raw.destroy();
      // The next six calls go through unauthenticated; from then on moto checks every call.
      await resetAuth('6');
      const keyOf = (xml: string) => ({
        id: /<AccessKeyId>([^<]+)</.exec(xml)?.[1] ?? '',
        secret: /<SecretAccessKey>([^<]+)</.exec(xml)?.[1] ?? '',
      });
      const opName = `vaultsync-op-${run}`;
      await iam({ Action: 'CreateUser', UserName: opName });
      operator = keyOf(await iam({ Action: 'CreateAccessKey', UserName: opName }));
      await iam({
        Action: 'PutUserPolicy',
        UserName: opName,
        PolicyName: 'find-rollback-delete',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: [
                'secretsmanager:GetSecretValue',
                'secretsmanager:ListSecretVersionIds',
                'secretsmanager:UpdateSecretVersionStage',
                'secretsmanager:DeleteSecret',
              ],
              // The docs scope these to the tenant's secret ARNs; moto matches every statement
              // against "*" (it does not evaluate Resource for Secrets Manager), so "*" here.
              Resource: '*',
            },
            { Effect: 'Allow', Action: ['secretsmanager:ListSecrets'], Resource: '*' },
          ],
        }),
      });
      const name = `vaultsync-${run}`;
      await iam({ Action: 'CreateUser', UserName: name });
      const key = await iam({ Action: 'CreateAccessKey', UserName: name });
      await iam({
        Action: 'PutUserPolicy',
        UserName: name,
        PolicyName: 'read-only',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['secretsmanager:GetSecretValue', 'secretsmanager:ListSecrets'],
              Resource: '*',
            },
          ],
        }),
      });
      user = {
        id: /<AccessKeyId>([^<]+)</.exec(key)?.[1] ?? '',
        secret: /<SecretAccessKey>([^<]+)</.exec(key)?.[1] ?? '',
      };
      assert.ok(user.id && user.secret);
    });
    after(async () => {
      await resetAuth('inf');
    });

    const withKeys = async (id: string, secret: string) => {
      const secrets = await credentialsSecret(bed, 'aws-keys', { id, secret });
      return cloudBackend('aws', awsYaml(bed.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? ''), { secrets });
    };

    it('finds with ListSecrets alone; rollback and delete are refused without their actions', async () => {
      const { backend, registry } = await withKeys(user.id, user.secret);
      try {
        const found = await backend.find?.({ prefix: path, maxItems: 10 }, ctx);
        assert.deepEqual(found?.paths, [path, `${path}-gone`]);
        const restore = await rejection(
          backend.restore?.({ path, version: versions[0] ?? '' }, ctx) ?? Promise.resolve(),
        );
        assert.equal(restore.code, 'PermissionDenied', restore.message);
        const remove = await rejection(backend.delete?.({ path, scope: 'all' }, ctx) ?? Promise.resolve());
        assert.equal(remove.code, 'PermissionDenied', remove.message);
        assert.equal(
          (await backend.read({ path }, { ...ctx, maxAgeMs: 0 })).data.reveal().get('a')?.toString(),
          '2',
        );
      } finally {
        await registry.close();
      }
    });

    it('rolls back and deletes with the documented policy (ListSecretVersionIds, UpdateSecretVersionStage, DeleteSecret)', async () => {
      const { backend, registry } = await withKeys(operator.id, operator.secret);
      try {
        assert.ok(backend.restore);
        const restored = await backend.restore(
          { path, version: versions[0] ?? '', cas: versions[1] ?? '' },
          ctx,
        );
        assert.equal(restored.version, versions[0]);
        assert.equal(
          (await backend.read({ path }, { ...ctx, maxAgeMs: 0 })).data.reveal().get('a')?.toString(),
          '1',
        );
        await backend.delete?.({ path: `${path}-gone`, scope: 'latest' }, ctx);
        const gone = await rejection(backend.read({ path: `${path}-gone` }, { ...ctx, maxAgeMs: 0 }));
        assert.equal(gone.code, 'NotFound', gone.message);
      } finally {
        await registry.close();
      }
    });

    it('signs with the keys from the Secret: reads what the policy allows', async () => {
      const { backend, registry } = await withKeys(user.id, user.secret);
      try {
        const secret = await backend.read({ path, version: `uuid/${versions[0]}` }, ctx);
        assert.equal(secret.data.reveal().get('a')?.toString(), '1');
        await backend.check();
      } finally {
        await registry.close();
      }
    });

    it('answers PermissionDenied for an action the policy does not allow', async () => {
      const { backend, registry } = await withKeys(user.id, user.secret);
      try {
        const err = await rejection(backend.write({ path, data: secretData({ a: '2' }) }, ctx));
        assert.equal(err.code, 'PermissionDenied');
        assert.equal(err.transient, false);
        // moto answers IAM failures with an XML body even for this JSON service, which the SDK
        // cannot parse: only the status is left (AWS answers JSON AccessDeniedException, whose
        // text the mapper shows: see src/backends/aws/errors.test.ts).
        assert.equal(err.message, `aws write "${path}": access denied (HTTP 403)`);
      } finally {
        await registry.close();
      }
    });

    // moto answers a bad signature or an unknown key with HTTP 403 and an XML body the SDK
    // cannot parse, so these map to PermissionDenied here; AWS answers JSON
    // InvalidSignatureException / UnrecognizedClientException, mapped to Unauthenticated
    // (src/backends/aws/errors.test.ts). What this shows against a server that checks
    // signatures: the key from the Secret is what signs, and a wrong one is refused.
    it('is refused with a wrong secret key or an unknown key, showing neither', async () => {
      for (const [id, secret] of [
        [user.id, 'wrong-secret-key-canary'],
        ['AKIAUNKNOWNKEY000000', user.secret],
      ] as const) {
        const { backend, registry } = await withKeys(id, secret);
        try {
          const err = await rejection(backend.read({ path }, ctx));
          assert.equal(err.code, 'PermissionDenied', err.message);
          assert.equal(err.transient, false);
          const text = printed(err);
          assert.equal(text.includes('wrong-secret-key-canary'), false);
          assert.equal(text.includes(user.secret), false);
        } finally {
          await registry.close();
        }
      }
    });
  });

  describe('failures', function () {
    it('maps ThrottlingException to Throttled, and sends nothing while the bucket is blocked', async () => {
      const bed = await testbed();
      const proxy = await throttlingProxy(bed.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '', {
        status: 400,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'ThrottlingException' },
        body: JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }),
      });
      const { backend, registry } = await awsSetup(bed, proxy.url);
      try {
        const path = `team-a/${run}-throttle`;
        await backend.write({ path, data: secretData({ a: '1' }) }, ctx);
        proxy.throttleNext(1);
        const before = proxy.received.length;
        const err = await rejection(backend.read({ path }, ctx));
        assert.equal(err.code, 'Throttled');
        assert.equal(err.transient, true);
        assert.ok((err.retryAfterMs ?? 0) > 0);
        assert.match(err.message, /rate limit reached/);
        // The next read waits for the bucket (default 1 s, no Retry-After from AWS) instead of
        // hitting the service at once; one request only reached the proxy before it.
        const started = Date.now();
        const ok = await backend.read({ path }, ctx);
        assert.equal(ok.data.reveal().get('a')?.toString(), '1');
        const sent = proxy.received.slice(before);
        assert.equal(sent.length, 2);
        assert.ok(sent[1]!.at - sent[0]!.at >= 900, `second request after ${sent[1]!.at - sent[0]!.at} ms`);
        assert.ok(Date.now() - started >= 800);
      } finally {
        await registry.close();
        await proxy.close();
      }
    });

    it('maps an unreachable endpoint to Unavailable and opens the circuit', async () => {
      const bed = await testbed();
      const { backend, registry } = await awsSetup(
        bed,
        'http://127.0.0.1:9',
        '    circuitBreaker: {failureThreshold: 2, halfOpenAfter: 1m}',
      );
      try {
        for (let i = 0; i < 2; i++) {
          const err = await rejection(backend.read({ path: 'team-a/x' }, ctx));
          assert.equal(err.code, 'Unavailable');
          assert.match(err.message, /connection refused/);
        }
        const open = await rejection(backend.read({ path: 'team-a/x' }, ctx));
        assert.equal(open.code, 'CircuitOpen');
        // The readiness check goes through the breaker too (a probe flood cannot reach the
        // backend), so while the circuit is open it reports that, not another connection error.
        const checks = await registry.checkAll();
        assert.equal(checks.get('aws')?.code, 'CircuitOpen');
      } finally {
        await registry.close();
      }
    });

    it('fails with Unauthenticated when the credentials Secret lacks a key', async () => {
      const bed = await testbed();
      const secrets = await credentialsSecret(bed, 'aws-keys-partial', { id: 'AKIDTESTTEST' });
      const yaml = awsYaml(bed.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '').replaceAll(
        'aws-keys',
        'aws-keys-partial',
      );
      const { backend, registry } = await cloudBackend('aws', yaml, { secrets });
      try {
        const err = await rejection(backend.read({ path: 'team-a/x' }, ctx));
        assert.equal(err.code, 'Unauthenticated');
        assert.match(err.message, /Secret vaultsync-cloud-test\/aws-keys-partial has no key "secret"/);
      } finally {
        await registry.close();
      }
    });
  });
});
