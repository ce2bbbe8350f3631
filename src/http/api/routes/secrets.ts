// Secret values for authorised callers: read one path, read many at once, write a version.
// Every call goes through the backend's guard, so the tenancy rules of the caller's namespace
// (allowedNamespaces, allowedPaths) apply exactly as they do to a VaultSecret there.
import type { FastifyInstance } from 'fastify';
import pLimit from 'p-limit';
import type { Backend, RemoteSecret } from '../../../backends/types.ts';
import { secretPathProblem } from '../../../config/paths.ts';
import { Sensitive } from '../../../secrets/sensitive.ts';
import type { RouteAccess, RouteParams } from '../access.ts';
import type { AccessRequest } from '../auth.ts';
import { ApiError, toApiError } from '../errors.ts';
import {
  BackendName,
  BatchGetBody,
  BatchGetResponse,
  Namespace,
  SecretResponse,
  WriteBody,
  WriteResponse,
  responses,
} from '../schemas.ts';

export interface SecretRouteDeps {
  backends: { get(name: string): Backend | undefined };
  batchGet: { maxItems: number; concurrency: number };
}

type Params = { namespace: string; backend: string; '*': string };

const params = {
  type: 'object',
  properties: {
    namespace: Namespace,
    backend: BackendName,
    '*': { type: 'string', description: 'Backend path, e.g. shop/db.' },
  },
};

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

/** RBAC `<verb>` on `backends/secrets`, the backend being the resource name. */
const secretsAccess =
  (verb: 'get' | 'update') =>
  (p: RouteParams): AccessRequest => ({
    verb,
    resource: 'backends',
    subresource: 'secrets',
    namespace: p.namespace,
    name: p.backend,
  });

function checkedPath(path: string): string {
  const problem = secretPathProblem(path);
  if (problem) throw new ApiError('BadRequest', `path is not valid: ${problem}`);
  return path;
}

export function registerSecretRoutes(app: FastifyInstance, deps: SecretRouteDeps): void {
  const backendOf = (name: string): Backend => {
    const backend = deps.backends.get(name);
    if (!backend) throw new ApiError('NotFound', `backend "${name}" is not in the operator configuration`);
    return backend;
  };
  const read = (backend: Backend, namespace: string, path: string, signal?: AbortSignal) =>
    backend.read({ path }, { namespace, ...(signal && { signal }) });
  const asJson = (path: string, s: RemoteSecret) => ({
    path,
    version: s.version,
    ...encodeValues(s.data.reveal()),
  });

  app.get<{ Params: Params }>(
    '/v1/namespaces/:namespace/backends/:backend/secrets/*',
    {
      schema: {
        summary: 'Read the secret at a backend path (off unless api.secretReads)',
        tags: ['secrets'],
        params,
        response: responses({ 200: SecretResponse }),
      },
      config: {
        action: 'secrets.get',
        requires: 'secretReads',
        access: secretsAccess('get'),
      } satisfies RouteAccess,
    },
    async (req) => {
      const { namespace, backend: name } = req.params;
      const path = checkedPath(req.params['*']);
      req.auditDetail = { backend: name, paths: [path] };
      return asJson(path, await read(backendOf(name), namespace, path, req.abortSignal));
    },
  );

  app.post<{ Params: Omit<Params, '*'>; Body: { paths: string[] } }>(
    '/v1/namespaces/:namespace/backends/:backend/secrets::batchGet',
    {
      schema: {
        summary: 'Read many paths at once: parallel backend calls, an error per failed item',
        tags: ['secrets'],
        params: { type: 'object', properties: { namespace: Namespace, backend: BackendName } },
        body: {
          ...BatchGetBody,
          properties: { paths: { ...BatchGetBody.properties.paths, maxItems: deps.batchGet.maxItems } },
        },
        response: responses({ 200: BatchGetResponse }),
      },
      config: {
        action: 'secrets.batchGet',
        requires: 'secretReads',
        access: secretsAccess('get'),
      } satisfies RouteAccess,
    },
    async (req) => {
      const { namespace, backend: name } = req.params;
      const backend = backendOf(name);
      const limit = pLimit(deps.batchGet.concurrency);
      const items = await Promise.all(
        req.body.paths.map((path) =>
          limit(async () => {
            try {
              return asJson(path, await read(backend, namespace, checkedPath(path), req.abortSignal));
            } catch (err) {
              const e = toApiError(err);
              return { path, error: { code: e.code, message: e.message } };
            }
          }),
        ),
      );
      const failed = items.filter((i) => 'error' in i).length;
      req.auditDetail = {
        backend: name,
        paths: req.body.paths,
        detail: { succeeded: items.length - failed, failed },
      };
      return { items, succeeded: items.length - failed, failed };
    },
  );

  app.put<{ Params: Params; Body: { data: Record<string, string>; cas?: string } }>(
    '/v1/namespaces/:namespace/backends/:backend/secrets/*',
    {
      schema: {
        summary: 'Write a new version at a backend path (off unless api.secretWrites)',
        tags: ['secrets'],
        params,
        body: WriteBody,
        response: responses({ 200: WriteResponse }),
      },
      config: {
        action: 'secrets.write',
        requires: 'secretWrites',
        access: secretsAccess('update'),
      } satisfies RouteAccess,
    },
    async (req) => {
      const { namespace, backend: name } = req.params;
      const path = checkedPath(req.params['*']);
      req.auditDetail = { backend: name, paths: [path], detail: { keys: Object.keys(req.body.data).length } };
      const data = new Sensitive(
        new Map(Object.entries(req.body.data).map(([k, v]) => [k, Buffer.from(v, 'utf8')])) as ReadonlyMap<
          string,
          Buffer
        >,
      );
      // A stale check-and-set fails with the backend code Conflict: a 409 (errors.ts).
      const written = await backendOf(name).write(
        { path, data, ...(req.body.cas !== undefined && { cas: req.body.cas }) },
        { namespace, ...(req.abortSignal && { signal: req.abortSignal }) },
      );
      return { path, version: written.version };
    },
  );
}
