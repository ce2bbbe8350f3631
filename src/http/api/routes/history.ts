// The history of a VaultSecret or a SecretRotation over HTTPS (operations/history.ts does the
// work): status.history from the operator's caches, newest first, never a value.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { SecretRotationStatusSchema, VaultSecretHistoryEntrySchema } from '../../../apis/v1alpha1/index.ts';
import type { ApiOperations } from '../operations/index.ts';
import type { HistoryInput } from '../operations/history.ts';
import { operationRoute } from './adapter.ts';

const answer = (kind: string, entry: Parameters<typeof Type.Array>[0]) =>
  Type.Object({
    namespace: Type.String(),
    name: Type.String(),
    kind: Type.Literal(kind),
    history: Type.Array(entry, { description: 'Newest first; empty when nothing was recorded yet.' }),
  });

const RotationEntrySchema = SecretRotationStatusSchema.properties.history.items;

export function registerHistoryRoutes(app: FastifyInstance, ops: ApiOperations['history']): void {
  const input = (req: { params: unknown }) => req.params as HistoryInput;
  operationRoute(app, {
    method: 'GET',
    url: '/v1/namespaces/:namespace/vaultsecrets/:name/history',
    op: ops.vaultSecret,
    summary:
      'The latest changes of a VaultSecret’s synced data (time, trigger, source versions, MAC; never values)',
    tags: ['history'],
    ok: { 200: answer('VaultSecret', VaultSecretHistoryEntrySchema) },
    input,
  });
  operationRoute(app, {
    method: 'GET',
    url: '/v1/namespaces/:namespace/secretrotations/:name/history',
    op: ops.rotation,
    summary: 'The latest versions of a SecretRotation and their outcomes (rotated, rolled back, failed)',
    tags: ['history'],
    ok: { 200: answer('SecretRotation', RotationEntrySchema) },
    input,
  });
}
