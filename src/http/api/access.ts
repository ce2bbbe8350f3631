// What each route declares about itself, and what the request carries once authenticated.
// The app's hooks read `config.access` to authorise before the body is even parsed, and
// `config.action` plus `req.auditDetail` to write the audit line.
import type { AuditEntry } from '../../observability/audit.ts';
import type { AccessRequest, Caller } from './auth.ts';
import type { ApiSwitch } from './gate.ts';

/** Path parameters of the API's routes (each route has `namespace` and some of the others). */
export interface RouteParams {
  readonly namespace: string;
  readonly name: string;
  readonly backend: string;
  readonly issuer: string;
}

export interface RouteAccess {
  /** Audit action name, e.g. `vaultsecrets.sync`. */
  action: string;
  /** The RBAC check for a call, from its path parameters. */
  access: (params: RouteParams) => AccessRequest;
  /** Off unless this config switch is on (secret reads, writes and deletes). */
  requires?: ApiSwitch;
}

export type AuditDetail = Pick<AuditEntry, 'resource' | 'backend' | 'paths' | 'detail'>;

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
    auditDetail?: AuditDetail;
    /** Aborted when the request times out or the client goes away. */
    abortSignal?: AbortSignal;
    /** When the request times out (epoch ms): its answer must be sent before. */
    deadline?: number;
    /** Its audit line is on its way (written once, whichever way the request ends). */
    audited?: boolean;
    /** The error code sent, for the audit line. */
    errorCode?: string;
  }
  interface FastifyContextConfig {
    action?: string;
    access?: (params: RouteParams) => AccessRequest;
    requires?: ApiSwitch;
  }
}
