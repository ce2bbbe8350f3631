// What every transport of the API shares: one admission gate (so rate limits are one budget
// whichever way a caller comes in), one audit writer, one implementation of each operation.
import type { Backend } from '../../backends/types.ts';
import type { ApiConfig } from '../../config/index.ts';
import type { IssuerRegistry } from '../../issuers/index.ts';
import type { AuditLog } from '../../observability/audit.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Authenticator, Authorizer } from './auth.ts';
import { CallAudit } from './call-audit.ts';
import { type CallGate, createCallGate } from './gate.ts';
import { type ApiOperations, type OperationDeps, apiOperations } from './operations/index.ts';
import type { TriggerDeps } from './operations/triggers.ts';

export interface ApiCoreOptions {
  config: ApiConfig;
  authenticator: Authenticator;
  authorizer: Authorizer;
  audit: AuditLog;
  logger: Logger;
  triggers: TriggerDeps;
  backends: { get(name: string): Backend | undefined };
  issuers: IssuerRegistry;
  readers?: OperationDeps['readers'];
}

export interface ApiCore {
  readonly config: ApiConfig;
  readonly gate: CallGate;
  readonly audit: CallAudit;
  readonly operations: ApiOperations;
  readonly logger: Logger;
}

export function createApiCore(opts: ApiCoreOptions): ApiCore {
  return {
    config: opts.config,
    gate: createCallGate(opts),
    audit: new CallAudit(opts.audit, opts.logger),
    operations: apiOperations(opts),
    logger: opts.logger,
  };
}
