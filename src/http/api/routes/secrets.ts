// Secret values over HTTPS (operations/secrets.ts does the work): UTF-8 text under `data`,
// anything else base64 under `binaryData`.
import type { FastifyInstance } from 'fastify';
import type { ApiOperations } from '../operations/index.ts';
import type { BatchItem, SecretValue } from '../operations/secrets.ts';
import { BatchGetResponse, SecretResponse, WriteResponse } from '../schemas.ts';
import { operationRoute } from './adapter.ts';

/** Values as JSON: UTF-8 text under `data`, anything else base64 under `binaryData` (pure). */
export function encodeValues(data: ReadonlyMap<string, Buffer>): {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
} {
  const text: Record<string, string> = {};
  const binary: Record<string, string> = {};
  for (const [key, value] of data) {
    const decoded = value.toString('utf8');
    if (Buffer.from(decoded, 'utf8').equals(value)) text[key] = decoded;
    else binary[key] = value.toString('base64');
  }
  return {
    ...(Object.keys(text).length > 0 && { data: text }),
    ...(Object.keys(binary).length > 0 && { binaryData: binary }),
  };
}

const asJson = (s: SecretValue) => ({ path: s.path, version: s.version, ...encodeValues(s.data) });
const itemAsJson = (i: BatchItem) => (i.error ? { path: i.path, error: i.error } : asJson(i));

type Params = { namespace: string; backend: string; '*': string };
const SECRET_URL = '/v1/namespaces/:namespace/backends/:backend/secrets/*';

export function registerSecretRoutes(app: FastifyInstance, ops: ApiOperations['secrets']): void {
  const at = (p: Params) => ({ namespace: p.namespace, backend: p.backend, path: p['*'] });
  operationRoute(app, {
    method: 'GET',
    url: SECRET_URL,
    op: ops.get,
    summary: 'Read the secret at a backend path (off unless api.secretReads)',
    tags: ['secrets'],
    ok: { 200: SecretResponse },
    input: (req) => at(req.params as Params),
    send: asJson,
  });
  operationRoute(app, {
    method: 'POST',
    url: '/v1/namespaces/:namespace/backends/:backend/secrets::batchGet',
    op: ops.batchGet,
    summary: 'Read many paths at once: parallel backend calls, an error per failed item',
    tags: ['secrets'],
    ok: { 200: BatchGetResponse },
    input: (req) => ({
      ...(req.params as Omit<Params, '*'>),
      paths: (req.body as { paths: string[] }).paths,
    }),
    send: (r) => ({ items: r.items.map(itemAsJson), succeeded: r.succeeded, failed: r.failed }),
  });
  operationRoute(app, {
    method: 'PUT',
    url: SECRET_URL,
    op: ops.write,
    summary: 'Write a new version at a backend path (off unless api.secretWrites)',
    tags: ['secrets'],
    ok: { 200: WriteResponse },
    input: (req) => {
      const body = req.body as { data: Record<string, string>; cas?: string };
      return { ...at(req.params as Params), data: body.data, cas: body.cas };
    },
  });
}
