// Sync and rotation triggers over HTTPS (operations/triggers.ts does the work): 200 once every
// object answered, 202 while some are still pending.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ApiOperations } from '../operations/index.ts';
import { type TriggerAnswer, anyPending } from '../operations/triggers.ts';
import { TriggerResponse } from '../schemas.ts';
import { operationRoute } from './adapter.ts';

/** 200 once every object answered, 202 while some are still pending. */
export const sendTriggerAnswer = (result: TriggerAnswer, reply: FastifyReply) =>
  reply.code(anyPending(result) ? 202 : 200).send(result);
const ok = { 200: TriggerResponse, 202: TriggerResponse };
type Named = { params: { namespace: string; name: string }; body?: { waitSeconds?: number } };

export function registerTriggerRoutes(app: FastifyInstance, ops: ApiOperations['triggers']): void {
  const named = (req: { params: unknown; body: unknown }) => {
    const { params, body } = req as unknown as Named;
    return { ...params, waitSeconds: body?.waitSeconds };
  };
  const namedTriggers = [
    [ops.sync, 'vaultsecrets/:name/sync', 'Read the backend for one VaultSecret now'],
    [
      ops.rotate,
      'secretrotations/:name/rotate',
      'Rotate now (generate, write a new backend version, refresh and roll out consumers)',
    ],
  ] as const;
  for (const [op, path, summary] of namedTriggers) {
    const url = `/v1/namespaces/:namespace/${path}`;
    operationRoute(app, {
      method: 'POST',
      url,
      op,
      summary,
      tags: ['triggers'],
      ok,
      input: named,
      send: sendTriggerAnswer,
    });
  }
  operationRoute(app, {
    method: 'POST',
    url: '/v1/namespaces/:namespace/vaultsecrets::sync',
    op: ops.syncSelected,
    summary: 'Read the backend now for every VaultSecret of a namespace matching a label selector',
    tags: ['triggers'],
    ok,
    input: (req) => {
      const body = req.body as { labelSelector: string; waitSeconds?: number };
      return { namespace: (req.params as { namespace: string }).namespace, ...body };
    },
    send: sendTriggerAnswer,
  });
}
