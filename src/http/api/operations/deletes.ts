// Deleting a secret for an authorised caller (issue 17): each backend's recoverable delete —
// `latest` (the newest version) or `all` (metadata and every version, where the backend can) —
// through the backend's guard, so the caller's namespace must be allowed to write the path
// (allowedWritePaths). The VaultSecrets of that namespace reading the path are then asked to
// read it now: they go Ready=False RemoteSecretNotFound and keep their Secret as it is.
import { Type } from '@sinclair/typebox';
import { ApiError } from '../errors.ts';
import type { Operation } from './types.ts';
import {
  type SecretAt,
  type SecretOperationDeps,
  SecretParams,
  backendNamed,
  checkedPath,
  secretsAccess,
} from './secrets.ts';

export type DeleteScope = 'latest' | 'all';

export const DeleteQuery = Type.Object(
  {
    scope: Type.Optional(
      Type.Union([Type.Literal('latest'), Type.Literal('all')], {
        description:
          'latest (default): the newest version, recoverably; all: the metadata and every version, ' +
          'where the backend can (Vault KV metadata delete).',
      }),
    ),
  },
  { additionalProperties: false },
);

export interface DeleteInput extends SecretAt {
  readonly scope?: DeleteScope | undefined;
}

export interface DeleteAnswer {
  readonly path: string;
  readonly scope: DeleteScope;
  /** VaultSecrets of the caller's namespace asked to read the path again. */
  readonly refreshed: number;
}

/**
 * How a delete reaches the VaultSecrets that read the path: the VaultSecret controller's
 * `requestRefresh` (VaultSecretReads, controllers/contracts.ts) on this replica, and — when this
 * replica does not lead, so its queue is not worked — the sync-now annotation, which the leader
 * sees through its watch.
 */
export interface ReaderRefresh {
  /** Keys (`namespace/name`) of the namespace's VaultSecrets reading backend/path at its latest version. */
  requestRefresh(namespace: string, backend: string, path: string): string[];
  isLeader(): boolean;
  /** Annotates the VaultSecrets with sync-now; how many were annotated. */
  syncNow(namespace: string, names: string[]): Promise<number>;
}

export interface DeleteDeps {
  readonly backends: SecretOperationDeps['backends'];
  /** Left out (the OpenAPI document, unit tests): nobody is asked to refresh. */
  readonly refresh?: ReaderRefresh | undefined;
}

/** The VaultSecrets the leader must be asked to read by annotation: none when this replica leads (pure). */
export function namesToAnnotate(keys: readonly string[], leader: boolean): string[] {
  return leader ? [] : keys.map((key) => key.slice(key.indexOf('/') + 1));
}

async function refreshReaders(
  refresh: ReaderRefresh | undefined,
  namespace: string,
  backend: string,
  path: string,
): Promise<number> {
  if (!refresh) return 0;
  const keys = refresh.requestRefresh(namespace, backend, path);
  const names = namesToAnnotate(keys, refresh.isLeader());
  return names.length === 0 ? keys.length : refresh.syncNow(namespace, names);
}

export function deleteOperations(deps: DeleteDeps) {
  const remove: Operation<DeleteInput, DeleteAnswer> = {
    action: 'secrets.delete',
    requires: 'secretDeletes',
    access: secretsAccess('delete'),
    schema: { params: SecretParams, query: DeleteQuery },
    async run(input, ctx) {
      const path = checkedPath(input.path);
      const scope = input.scope ?? 'latest';
      const audit = (detail: { refreshed?: number }) =>
        ctx.audit({ backend: input.backend, paths: [path], detail: { scope, ...detail } });
      audit({});
      const backend = backendNamed(deps.backends, input.backend);
      if (!backend.delete) {
        throw new ApiError(
          'NotImplemented',
          `backend "${backend.name}" (type ${backend.type}) cannot delete`,
        );
      }
      // Tenancy (allowedWritePaths) first, in the guard; a missing path is NotFound (404).
      await backend.delete(
        { path, scope },
        { namespace: input.namespace, ...(ctx.signal && { signal: ctx.signal }) },
      );
      const refreshed = await refreshReaders(deps.refresh, input.namespace, input.backend, path);
      audit({ refreshed });
      return { path, scope, refreshed };
    },
  };
  return { delete: remove };
}
