// What an API operation is, apart from any transport: the RBAC check it needs (from the call's
// names, before any body is read), the config switch it needs, and what it does for an
// admitted caller — a result or a coded ApiError. The HTTPS routes and the gRPC handlers are
// adapters around these; neither holds logic of its own.
import type { TSchema } from '@sinclair/typebox';
import type { AuditDetail, RouteParams } from '../access.ts';
import type { AccessRequest, Caller } from '../auth.ts';
import type { ApiSwitch } from '../gate.ts';

export interface OperationContext {
  readonly caller: Caller;
  /** Aborted when the call times out or its client goes away. */
  readonly signal?: AbortSignal | undefined;
  /** When the answer must be sent by (epoch ms). */
  readonly deadline?: number | undefined;
  /** Sets what the call's audit line says of what was done (never a value). */
  audit(detail: AuditDetail): void;
}

export interface Operation<I, O> {
  /** Audit action name, e.g. `secrets.get`. */
  readonly action: string;
  readonly requires?: ApiSwitch;
  /** The RBAC check, from the call's names (namespace, name, backend, issuer). */
  access(params: RouteParams): AccessRequest;
  /** The call's names, query and body, as each transport validates them. */
  readonly schema: { readonly params: TSchema; readonly query?: TSchema; readonly body?: TSchema };
  run(input: I, ctx: OperationContext): Promise<O>;
}
