// Deleting a secret over HTTPS (operations/deletes.ts does the work).
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { DeleteScope } from '../operations/deletes.ts';
import type { ApiOperations } from '../operations/index.ts';
import { operationRoute } from './adapter.ts';

export const DeleteResponse = Type.Object({
  path: Type.String(),
  scope: Type.Union([Type.Literal('latest'), Type.Literal('all')]),
  refreshed: Type.Integer({
    description: "VaultSecrets of the caller's namespace reading the path, asked to read it again.",
  }),
});

type Params = { namespace: string; backend: string; '*': string };

export function registerDeleteRoutes(app: FastifyInstance, ops: ApiOperations['deletes']): void {
  operationRoute(app, {
    method: 'DELETE',
    url: '/v1/namespaces/:namespace/backends/:backend/secrets/*',
    op: ops.delete,
    summary:
      'Delete the secret at a backend path, recoverably (off unless api.secretDeletes; 501 for a backend that cannot delete)',
    tags: ['secrets'],
    // 501: the backend's type has no delete.
    ok: { 200: DeleteResponse, 501: Type.Ref('Error') },
    input: (req) => {
      const p = req.params as Params;
      const { scope } = req.query as { scope?: DeleteScope };
      return { namespace: p.namespace, backend: p.backend, path: p['*'], scope };
    },
  });
}
