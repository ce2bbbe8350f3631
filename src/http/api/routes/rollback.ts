// Rollback of a SecretRotation over HTTPS (operations/rollback.ts does the work): 200 once the
// rollback is answered (Done: rolled out; Failed: refused), 202 while it is still pending.
import type { FastifyInstance } from 'fastify';
import type { ApiOperations } from '../operations/index.ts';
import type { RollbackInput } from '../operations/rollback.ts';
import { TriggerResponse } from '../schemas.ts';
import { operationRoute } from './adapter.ts';
import { sendTriggerAnswer } from './triggers.ts';

/** The object name, then the custom verb `:rollback` (the regexp keeps the colon out of the name). */
const URL = '/v1/namespaces/:namespace/secretrotations/:name(^[a-z0-9][-a-z0-9.]*)::rollback';

export function registerRollbackRoute(app: FastifyInstance, op: ApiOperations['rollback']): void {
  operationRoute(app, {
    method: 'POST',
    url: URL,
    op,
    summary:
      'Roll a SecretRotation back: the value of an earlier backend version becomes the newest version, ' +
      'its VaultSecrets read it at once and its consumers roll out once',
    tags: ['triggers'],
    ok: { 200: TriggerResponse, 202: TriggerResponse },
    input: (req) => {
      const { namespace, name } = req.params as { namespace: string; name: string };
      const body = req.body as Omit<RollbackInput, 'namespace' | 'name'>;
      return { namespace, name, toVersion: body.toVersion, waitSeconds: body.waitSeconds };
    },
    send: sendTriggerAnswer,
  });
}
