import assert from 'node:assert/strict';
import type { AwsBackendConfig } from '../../config/schema.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import { BackendError } from '../../resilience/errors.ts';
import { AwsSecretsManagerBackend, type AwsSecretsClient } from './backend.ts';

const cfg = {
  name: 'aws',
  region: 'eu-west-1',
  tls: { insecure: false },
  auth: {},
  timeout: 10_000,
} as unknown as AwsBackendConfig;
const ctx = { namespace: 'team-a' };
const UUID = '0f8e2b5c-4e63-4b1a-9e8a-2f1d1c3b4a5e';

/** Records the commands and answers from a script: command name → answer or error. */
function client(answers: Record<string, (input: Record<string, unknown>) => unknown>): AwsSecretsClient & {
  sent: { command: string; input: Record<string, unknown> }[];
} {
  const sent: { command: string; input: Record<string, unknown> }[] = [];
  return {
    sent,
    async send(command: unknown) {
      const c = command as { constructor: { name: string }; input: Record<string, unknown> };
      sent.push({ command: c.constructor.name, input: c.input });
      const answer = answers[c.constructor.name];
      if (!answer) throw new Error(`unexpected ${c.constructor.name}`);
      return answer(c.input);
    },
    destroy() {},
  };
}

const notFound = () => {
  throw Object.assign(new Error('nope'), {
    name: 'ResourceNotFoundException',
    $metadata: { httpStatusCode: 400 },
  });
};

describe('AwsSecretsManagerBackend', () => {
  it('pins version IDs and staging labels with the right parameter', async () => {
    const c = client({ GetSecretValueCommand: () => ({ SecretString: 'x', VersionId: UUID }) });
    const b = new AwsSecretsManagerBackend(cfg, { operatorNamespace: 'v', client: c });
    await b.read({ path: 'team-a/db', version: UUID }, ctx);
    await b.read({ path: 'team-a/db', version: 'AWSPREVIOUS' }, ctx);
    await b.read({ path: 'team-a/db', version: 'uuid/my-own-client-request-token-0123456789' }, ctx);
    assert.deepEqual(
      c.sent.map((s) => s.input),
      [
        { SecretId: 'team-a/db', VersionId: UUID },
        { SecretId: 'team-a/db', VersionStage: 'AWSPREVIOUS' },
        { SecretId: 'team-a/db', VersionId: 'my-own-client-request-token-0123456789' },
      ],
    );
    await assert.rejects(b.read({ path: 'team-a/db', version: 'uuid/short' }, ctx), /neither a version ID/);
  });

  it('puts a new AWSCURRENT version, creating the secret when it does not exist', async () => {
    const c = client({
      PutSecretValueCommand: notFound,
      CreateSecretCommand: () => ({ VersionId: UUID }),
    });
    const b = new AwsSecretsManagerBackend(cfg, { operatorNamespace: 'v', client: c });
    const data = new Sensitive<ReadonlyMap<string, Buffer>>(new Map([['password', Buffer.from('pw')]]));
    assert.deepEqual(await b.write({ path: 'team-a/db', data }, ctx), { version: UUID });
    assert.deepEqual(
      c.sent.map((s) => [s.command, s.input.SecretString, s.input.VersionStages]),
      [
        ['PutSecretValueCommand', '{"password":"pw"}', ['AWSCURRENT']],
        ['CreateSecretCommand', '{"password":"pw"}', undefined],
      ],
    );
  });

  it('writes binary as SecretBinary', async () => {
    const c = client({ PutSecretValueCommand: () => ({ VersionId: UUID }) });
    const b = new AwsSecretsManagerBackend(cfg, { operatorNamespace: 'v', client: c });
    const data = new Sensitive<ReadonlyMap<string, Buffer>>(new Map([['value', Buffer.from([0xff, 0])]]));
    await b.write({ path: 'team-a/bin', data }, ctx);
    assert.deepEqual(c.sent[0]?.input.SecretBinary, new Uint8Array([0xff, 0]));
    assert.equal(c.sent[0]?.input.SecretString, undefined);
  });

  it('compares cas with the AWSCURRENT version before putting', async () => {
    const c = client({
      DescribeSecretCommand: () => ({
        VersionIdsToStages: { [UUID]: ['AWSCURRENT'], other: ['AWSPREVIOUS'] },
      }),
      PutSecretValueCommand: () => ({ VersionId: 'new' }),
    });
    const b = new AwsSecretsManagerBackend(cfg, { operatorNamespace: 'v', client: c });
    const data = new Sensitive<ReadonlyMap<string, Buffer>>(new Map([['a', Buffer.from('1')]]));
    await assert.rejects(
      b.write({ path: 'team-a/db', data, cas: 'other' }, ctx),
      (err: unknown) =>
        err instanceof BackendError && err.code === 'Conflict' && /found 0f8e/.test(err.message),
    );
    assert.deepEqual(await b.write({ path: 'team-a/db', data, cas: UUID }, ctx), { version: 'new' });
  });

  it('counts AccessDenied on ListSecrets as reachable', async () => {
    const denied = () => {
      throw Object.assign(new Error('no'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      });
    };
    const b = new AwsSecretsManagerBackend(cfg, {
      operatorNamespace: 'v',
      client: client({ ListSecretsCommand: denied }),
    });
    await b.check();
  });
  describe('list, restore, delete (issue 17)', () => {
    const OLD = '1a2b3c4d-0000-4000-8000-000000000001';
    const stages = () => ({
      Versions: [
        { VersionId: UUID, VersionStages: ['AWSCURRENT'] },
        { VersionId: OLD, VersionStages: ['AWSPREVIOUS'] },
        { VersionId: 'uuid-without-any-stage-0000000000000000', VersionStages: [] },
      ],
    });
    const tagged = (Name: string, tags: Record<string, string>) => ({
      Name,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    });
    const conflict = (err: unknown) => err instanceof BackendError && err.code === 'Conflict';
    const notFoundErr = (err: unknown) => err instanceof BackendError && err.code === 'NotFound';

    it('lists one page with the filters, checks prefix and every tag exactly, passes NextToken on', async () => {
      const c = client({
        ListSecretsCommand: () => ({
          SecretList: [
            tagged('team-a/db', { env: 'prod', team: 'a' }),
            tagged('team-a/api', { env: 'production', team: 'a' }),
            tagged('team-a/x', { env: 'prod' }),
            tagged('team-ab/db', { env: 'prod', team: 'a' }),
            tagged('team-a/rds!managed', { env: 'prod', team: 'a' }),
          ],
          NextToken: 'tok-2',
        }),
      });
      const b = new AwsSecretsManagerBackend(cfg, { operatorNamespace: 'v', client: c, listPageSize: 5 });
      const page = await b.list({ prefix: 'team-a/', tags: { env: 'prod', team: 'a' } }, 'tok-1', ctx);
      assert.deepEqual(page, { paths: ['team-a/db'], next: 'tok-2' });
      assert.deepEqual(c.sent[0]?.input, {
        MaxResults: 5,
        NextToken: 'tok-1',
        Filters: [
          { Key: 'name', Values: ['team-a/'] },
          { Key: 'tag-key', Values: ['env'] },
          { Key: 'tag-value', Values: ['prod'] },
        ],
      });
    });

    it('sends nothing when no name can match the prefix', async () => {
      const c = client({});
      const b = new AwsSecretsManagerBackend(cfg, { operatorNamespace: 'v', client: c });
      assert.deepEqual(await b.list({ prefix: 'arn:aws:x!' }, undefined, ctx), { paths: [] });
      assert.equal(c.sent.length, 0);
    });

    it('restores by moving AWSCURRENT (from the current version) to a version ID or a label', async () => {
      const c = client({ ListSecretVersionIdsCommand: stages, UpdateSecretVersionStageCommand: () => ({}) });
      const b = new AwsSecretsManagerBackend(cfg, { operatorNamespace: 'v', client: c });
      assert.deepEqual(await b.restore({ path: 'team-a/db', version: 'AWSPREVIOUS', cas: UUID }, ctx), {
        version: OLD,
      });
      assert.deepEqual(
        await b.restore({ path: 'team-a/db', version: 'uuid/uuid-without-any-stage-0000000000000000' }, ctx),
        { version: 'uuid-without-any-stage-0000000000000000' },
      );
      const moves = c.sent.filter((s) => s.command === 'UpdateSecretVersionStageCommand').map((s) => s.input);
      assert.deepEqual(moves, [
        {
          SecretId: 'team-a/db',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: OLD,
          RemoveFromVersionId: UUID,
        },
        {
          SecretId: 'team-a/db',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: 'uuid-without-any-stage-0000000000000000',
          RemoveFromVersionId: UUID,
        },
      ]);
      assert.equal(c.sent[0]?.input.IncludeDeprecated, true);
    });

    it('refuses a restore whose cas is not the current version, and one of an unknown version', async () => {
      const c = client({ ListSecretVersionIdsCommand: stages });
      const b = new AwsSecretsManagerBackend(cfg, { operatorNamespace: 'v', client: c });
      await assert.rejects(b.restore({ path: 'team-a/db', version: OLD, cas: OLD }, ctx), conflict);
      await assert.rejects(
        b.restore({ path: 'team-a/db', version: '9a2b3c4d-0000-4000-8000-000000000009' }, ctx),
        notFoundErr,
      );
      await assert.rejects(b.restore({ path: 'team-a/db', version: 'AWSPENDING' }, ctx), notFoundErr);
      assert.equal(c.sent.filter((s) => s.command === 'UpdateSecretVersionStageCommand').length, 0);
    });

    it('restoring the current version moves nothing', async () => {
      const c = client({ ListSecretVersionIdsCommand: stages });
      const b = new AwsSecretsManagerBackend(cfg, { operatorNamespace: 'v', client: c });
      assert.deepEqual(await b.restore({ path: 'team-a/db', version: UUID, cas: UUID }, ctx), {
        version: UUID,
      });
      assert.deepEqual(
        c.sent.map((s) => s.command),
        ['ListSecretVersionIdsCommand'],
      );
    });

    it('deletes with a 7-day recovery window for both scopes, never without recovery', async () => {
      const c = client({ DeleteSecretCommand: () => ({}) });
      const b = new AwsSecretsManagerBackend(cfg, { operatorNamespace: 'v', client: c });
      await b.delete({ path: 'team-a/db', scope: 'latest' }, ctx);
      await b.delete({ path: 'team-a/db', scope: 'all' }, ctx);
      assert.deepEqual(
        c.sent.map((s) => s.input),
        [
          { SecretId: 'team-a/db', RecoveryWindowInDays: 7 },
          { SecretId: 'team-a/db', RecoveryWindowInDays: 7 },
        ],
      );
    });
  });
});
