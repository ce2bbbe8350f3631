// Secret values for authorised callers: read one path, read many at once, write a version.
// Every call goes through the backend's guard, so the tenancy rules of the caller's namespace
// (allowedNamespaces, allowedPaths) apply exactly as they do to a VaultSecret there. Values are
// handed to the transport as bytes; each encodes them its own way.
import { Type } from '@sinclair/typebox';
import pLimit from 'p-limit';
import type { Backend } from '../../../backends/types.ts';
import { secretPathProblem } from '../../../config/paths.ts';
import { Sensitive } from '../../../secrets/sensitive.ts';
import type { RouteParams } from '../access.ts';
import type { AccessRequest } from '../auth.ts';
import { ApiError, toApiError } from '../errors.ts';
import { BackendName, BatchGetBody, Namespace, WriteBody } from '../schemas.ts';
import type { Operation, OperationContext } from './types.ts';

export interface SecretOperationDeps {
  backends: { get(name: string): Backend | undefined };
  batchGet: { maxItems: number; concurrency: number };
}

export interface SecretAt {
  readonly namespace: string;
  readonly backend: string;
  readonly path: string;
}
export interface SecretValue {
  readonly path: string;
  readonly version: string;
  readonly data: ReadonlyMap<string, Buffer>;
}
export interface BatchGetInput {
  readonly namespace: string;
  readonly backend: string;
  readonly paths: readonly string[];
}
export type BatchItem =
  | (SecretValue & { readonly error?: undefined })
  | { readonly path: string; readonly error: { code: string; message: string } };
export interface BatchGetResult {
  readonly items: BatchItem[];
  readonly succeeded: number;
  readonly failed: number;
}
export interface WriteInput extends SecretAt {
  readonly data: Readonly<Record<string, string>>;
  readonly cas?: string | undefined;
}

/** RBAC `<verb>` on `backends/secrets`, the backend being the resource name. */
export const secretsAccess =
  (verb: 'get' | 'update' | 'delete') =>
  (p: RouteParams): AccessRequest => ({
    verb,
    resource: 'backends',
    subresource: 'secrets',
    namespace: p.namespace,
    name: p.backend,
  });

export const SecretParams = Type.Object({
  namespace: Namespace,
  backend: BackendName,
  '*': Type.String({ description: 'Backend path, e.g. shop/db.' }),
});
const BackendParams = Type.Object({ namespace: Namespace, backend: BackendName });

export function checkedPath(path: string): string {
  const problem = secretPathProblem(path);
  if (problem) throw new ApiError('BadRequest', `path is not valid: ${problem}`);
  return path;
}

/** The configured backend of that name; NotFound when there is none. */
export function backendNamed(backends: SecretOperationDeps['backends'], name: string): Backend {
  const backend = backends.get(name);
  if (!backend) throw new ApiError('NotFound', `backend "${name}" is not in the operator configuration`);
  return backend;
}

export function secretOperations(deps: SecretOperationDeps) {
  const backendOf = (name: string): Backend => backendNamed(deps.backends, name);
  const read = async (backend: Backend, namespace: string, path: string, signal?: AbortSignal) => {
    const s = await backend.read({ path }, { namespace, ...(signal && { signal }) });
    return { path, version: s.version, data: s.data.reveal() };
  };

  /** Reads every path (`concurrency` at a time), handing each item over as it is done. */
  async function readEach(
    input: BatchGetInput,
    ctx: OperationContext,
    onItem: (item: BatchItem) => void,
  ): Promise<{ succeeded: number; failed: number }> {
    const backend = backendOf(input.backend);
    const limit = pLimit(deps.batchGet.concurrency);
    let failed = 0;
    await Promise.all(
      input.paths.map((path) =>
        limit(async () => {
          try {
            onItem(await read(backend, input.namespace, checkedPath(path), ctx.signal));
          } catch (err) {
            const e = toApiError(err);
            failed += 1;
            onItem({ path, error: { code: e.code, message: e.message } });
          }
        }),
      ),
    );
    const counts = { succeeded: input.paths.length - failed, failed };
    ctx.audit({ backend: input.backend, paths: [...input.paths], detail: counts });
    return counts;
  }

  const get: Operation<SecretAt, SecretValue> = {
    action: 'secrets.get',
    requires: 'secretReads',
    access: secretsAccess('get'),
    schema: { params: SecretParams },
    async run(input, ctx) {
      const path = checkedPath(input.path);
      ctx.audit({ backend: input.backend, paths: [path] });
      return read(backendOf(input.backend), input.namespace, path, ctx.signal);
    },
  };

  const batchGet: Operation<BatchGetInput, BatchGetResult> & { readEach: typeof readEach } = {
    action: 'secrets.batchGet',
    requires: 'secretReads',
    access: secretsAccess('get'),
    schema: {
      params: BackendParams,
      body: {
        ...BatchGetBody,
        properties: { paths: { ...BatchGetBody.properties.paths, maxItems: deps.batchGet.maxItems } },
      },
    },
    async run(input, ctx) {
      // In the order asked for, whatever order the reads finish in.
      const byPath = new Map<string, BatchItem>();
      const counts = await readEach(input, ctx, (item) => byPath.set(item.path, item));
      return { items: input.paths.map((p) => byPath.get(p)!), ...counts };
    },
    readEach,
  };

  const write: Operation<WriteInput, { path: string; version: string }> = {
    action: 'secrets.write',
    requires: 'secretWrites',
    access: secretsAccess('update'),
    schema: { params: SecretParams, body: WriteBody },
    async run(input, ctx) {
      const path = checkedPath(input.path);
      ctx.audit({ backend: input.backend, paths: [path], detail: { keys: Object.keys(input.data).length } });
      const data = new Sensitive(
        new Map(Object.entries(input.data).map(([k, v]) => [k, Buffer.from(v, 'utf8')])) as ReadonlyMap<
          string,
          Buffer
        >,
      );
      // A stale check-and-set fails with the backend code Conflict: a 409 (errors.ts).
      const written = await backendOf(input.backend).write(
        { path, data, ...(input.cas !== undefined && { cas: input.cas }) },
        { namespace: input.namespace, ...(ctx.signal && { signal: ctx.signal }) },
      );
      return { path, version: written.version };
    },
  };

  return { get, batchGet, write };
}
