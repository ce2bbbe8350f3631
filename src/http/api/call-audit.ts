// The audit line of an API call, whatever its transport: written once, whichever way the call
// ends (answered, refused, its client gone). A line that cannot be written is reported in the
// operator log once per failing spell; with audit.failClosed the caller awaits it and is
// refused (AuditUnavailable) rather than answered unaudited.
import type { Logger } from '../../observability/logger.ts';
import type { AuditEntry, AuditLog, AuditOutcome } from '../../observability/audit.ts';
import type { AuditDetail } from './access.ts';
import type { Caller } from './auth.ts';
import { ApiError } from './errors.ts';

/** What the audit line of a call is made of, filled in as the call goes. */
export interface AuditedCall {
  readonly action: string;
  readonly requestId: string;
  readonly sourceIp?: string;
  readonly namespace?: string;
  readonly transport?: 'grpc';
  caller?: Caller;
  auditDetail?: AuditDetail;
  errorCode?: string;
  audited?: boolean;
}

export const AUDIT_UNAVAILABLE = 'the audit log cannot be written (audit.failClosed); try again later';

const outcomeOf = (status: number): AuditOutcome =>
  status === 401 ? 'unauthenticated' : status === 403 ? 'denied' : status < 400 ? 'allowed' : 'failed';

/** The line of a call answered with `status` (an HTTP status; gRPC calls give its equivalent). */
function auditEntry(call: AuditedCall, status: number, code = call.errorCode): AuditEntry {
  const caller = call.caller;
  return {
    action: call.action,
    outcome: outcomeOf(status),
    status,
    requestId: call.requestId,
    ...(call.sourceIp !== undefined && { sourceIp: call.sourceIp }),
    ...(call.transport && { transport: call.transport }),
    ...(caller && {
      caller: {
        user: caller.user,
        groups: caller.groups,
        ...(caller.serviceAccount && { serviceAccount: caller.serviceAccount }),
        ...(caller.pod && { pod: caller.pod }),
      },
    }),
    ...(call.namespace && { namespace: call.namespace }),
    ...(code && { code }),
    ...call.auditDetail,
  };
}

export class CallAudit {
  #failing = false;
  private readonly log: AuditLog;
  private readonly logger: Logger;
  constructor(log: AuditLog, logger: Logger) {
    this.log = log;
    this.logger = logger;
  }

  get failClosed(): boolean {
    return this.log.failClosed === true;
  }

  /** Refuses a call before it acts while fail-closed and the sink is failing. */
  checkOpen(): void {
    if (this.failClosed && this.log.healthy?.() === false)
      throw new ApiError('AuditUnavailable', AUDIT_UNAVAILABLE);
  }

  /** Writes the call's line once (undefined when already written). */
  record(call: AuditedCall, status: number, code?: string): Promise<void> | undefined {
    if (call.audited) return undefined;
    call.audited = true;
    const written = Promise.resolve(this.log.record(auditEntry(call, status, code))).then(
      () => void (this.#failing = false),
      (err: unknown) => {
        if (!this.#failing)
          this.logger.warn('Could not write the audit log', { error: (err as Error).message });
        this.#failing = true;
        throw err;
      },
    );
    written.catch(() => {}); // reported above; fail-closed awaits it
    return written;
  }
}
