// Every operation of the API, built once from the operator's parts and shared by the HTTPS
// routes and the gRPC services.
import type { Backend } from '../../../backends/types.ts';
import type { ApiConfig } from '../../../config/index.ts';
import type { IssuerRegistry } from '../../../issuers/index.ts';
import { certificateOperations } from './certificates.ts';
import { type HistoryDeps, historyOperations } from './history.ts';
import { type ReaderRefresh, deleteOperations } from './deletes.ts';
import { rollbackOperation } from './rollback.ts';
import { secretOperations } from './secrets.ts';
import { type TriggerDeps, requestSync, triggerOperations } from './triggers.ts';

export interface OperationDeps {
  config: Pick<ApiConfig, 'batchGet' | 'requestTimeout'>;
  triggers: TriggerDeps;
  backends: { get(name: string): Backend | undefined };
  issuers: IssuerRegistry;
  /** What a delete asks of the VaultSecret controller (deletes.ts); left out, nothing. */
  readers?: Omit<ReaderRefresh, 'syncNow'> | undefined;
}

/** A delete's refresh: the controller's, and sync-now annotations through the triggers' client. */
function readerRefresh(readers: NonNullable<OperationDeps['readers']>, triggers: TriggerDeps): ReaderRefresh {
  return {
    requestRefresh: (namespace, backend, path) => readers.requestRefresh(namespace, backend, path),
    isLeader: () => readers.isLeader(),
    syncNow: (namespace, names) => requestSync(triggers, namespace, names),
  };
}

export function apiOperations(deps: OperationDeps) {
  return {
    triggers: triggerOperations(deps.triggers, { requestTimeoutMs: deps.config.requestTimeout }),
    rollback: rollbackOperation(deps.triggers, { requestTimeoutMs: deps.config.requestTimeout }),
    certificates: certificateOperations({ issuers: deps.issuers }),
    // The triggers' caches are the operator's informers: whole objects, status.history included.
    history: historyOperations(deps.triggers as unknown as HistoryDeps),
    secrets: secretOperations({ backends: deps.backends, batchGet: deps.config.batchGet }),
    deletes: deleteOperations({
      backends: deps.backends,
      refresh: deps.readers && readerRefresh(deps.readers, deps.triggers),
    }),
  };
}

export type ApiOperations = ReturnType<typeof apiOperations>;
export type { Operation, OperationContext } from './types.ts';
