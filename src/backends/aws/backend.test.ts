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
});
