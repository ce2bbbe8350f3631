// Admission of one API call, the same for every transport (HTTPS, gRPC), in this order and
// before any request body is looked at: the per-address rate limit (unless a cached answer
// already authenticates the token, so no flood of tokens becomes a flood of TokenReviews),
// authentication (TokenReview for our audience), the per-caller rate limit, authorisation
// (SubjectAccessReview of what the operation declares), and the config switch it needs.
import type { ApiConfig } from '../../config/index.ts';
import { formatDuration } from '../../apis/v1alpha1/duration.ts';
import type { AccessRequest, Authenticator, Authorizer, Caller } from './auth.ts';
import { describeAccess } from './auth.ts';
import { ApiError } from './errors.ts';
import { type LimitVerdict, type Limiter, windowLimiter } from './limiter.ts';

export type ApiSwitch = 'secretReads' | 'secretWrites' | 'secretDeletes';

export interface Admission {
  /** The bearer token, if the call carried one. */
  readonly token: string | undefined;
  /** The caller's address, for the limit on calls not yet authenticated. */
  readonly source: string;
  readonly access: AccessRequest;
  readonly requires?: ApiSwitch | undefined;
  /** Told the caller as soon as it is known, so a refused call's audit line names it. */
  readonly onCaller?: (caller: Caller) => void;
}

export interface CallGate {
  admit(call: Admission): Promise<Caller>;
}

export interface GateOptions {
  config: Pick<ApiConfig, 'audience' | 'rateLimit' | 'secretReads' | 'secretWrites' | 'secretDeletes'>;
  authenticator: Authenticator;
  authorizer: Authorizer;
  now?: () => number;
}

export function createCallGate(opts: GateOptions): CallGate {
  const { config } = opts;
  const perAddress = windowLimiter(
    config.rateLimit.unauthenticated.max,
    config.rateLimit.unauthenticated.window,
    opts.now,
  );
  const perCaller = windowLimiter(config.rateLimit.max, config.rateLimit.window, opts.now);
  return {
    async admit(call) {
      let caller = call.token === undefined ? undefined : opts.authenticator.known(call.token);
      if (!caller) {
        // The review of this very token under way answers this call too: no review of its own,
        // so its address does not pay (a burst of a client's first calls is not a flood).
        const underway = call.token === undefined ? undefined : opts.authenticator.underway?.(call.token);
        // Not vouched for by the cache: its address pays, before any TokenReview is sent.
        if (!underway) enforce(perAddress, `addr:${call.source}`, 'unauthenticated requests per address');
        if (!call.token)
          throw new ApiError(
            'Unauthenticated',
            'send a Kubernetes bearer token: Authorization: Bearer <token>',
          );
        caller = await (underway ?? opts.authenticator.authenticate(call.token));
        if (!caller)
          throw new ApiError(
            'Unauthenticated',
            `the bearer token is not valid for audience "${config.audience}"`,
          );
      }
      call.onCaller?.(caller);
      enforce(perCaller, `user:${caller.user}`, 'requests');
      const decision = await opts.authorizer.authorize(caller, call.access);
      if (!decision.allowed)
        throw new ApiError('Forbidden', `${caller.user} may not ${describeAccess(call.access)}`);
      if (call.requires && !config[call.requires]) {
        throw new ApiError(
          'Disabled',
          `this endpoint is off; set api.${call.requires}: true in the operator config`,
        );
      }
      return caller;
    },
  };
}

/** Counts the call against `limiter`; over the limit → TooManyRequests with a retry time. */
function enforce(limiter: Limiter, key: string, what: string): void {
  const verdict: LimitVerdict = limiter(key);
  if (verdict.allowed) return;
  throw new ApiError(
    'TooManyRequests',
    `rate limit of ${verdict.max} ${what} per ${formatDuration(verdict.windowMs)} exceeded`,
    Math.max(verdict.resetMs, 1000),
  );
}
