// What /readyz asks (http/health.ts runs the checks and times them): are the informers synced and
// watching, what is this replica's part in leader election, and can each backend and issuer be
// reached (probes leave those out with ?exclude=backends).
import type { ReadinessCheck } from '../http/health.ts';
import { cachedCheck } from '../http/cached-check.ts';
import type { InformerStatus } from '../kube/informer-options.ts';

const BACKEND_CHECK_TIMEOUT_MS = 3000;
/** A backend's reachability answer is reused this long: a flood of /readyz costs it one check. */
const BACKEND_CHECK_CACHE_MS = 10_000;

type Outcome = Awaited<ReturnType<ReadinessCheck['check']>>;

/** Something /readyz may ask to reach: a backend or an issuer. */
export interface Reachable {
  readonly name: string;
  check(signal: AbortSignal): Promise<unknown>;
}

export interface ReadinessDeps {
  informers: readonly { status(): InformerStatus }[];
  /** The Lease elector; undefined when leader election is disabled. */
  elector: ElectorView | undefined;
  /** The backends, then the issuers. */
  backends: Registered;
  issuers: Registered;
}

interface Registered {
  names(): readonly string[];
  get(name: string): Reachable | undefined;
}

export interface ElectorView {
  isLeader(): boolean;
  leader(): string | undefined;
}

export function readinessChecks(d: ReadinessDeps): ReadinessCheck[] {
  return [
    { name: 'informers', check: async () => informersReadiness(d.informers.map((i) => i.status())) },
    { name: 'leader-election', check: async () => ({ ok: true, detail: leaderElectionDetail(d.elector) }) },
    // Through the rate limit and circuit breaker of each, and cached.
    ...[d.backends, d.issuers].flatMap(members).map((b) => ({
      name: `backends/${b.name}`,
      check: cachedCheck(async () => {
        await b.check(AbortSignal.timeout(BACKEND_CHECK_TIMEOUT_MS));
        return { ok: true };
      }, BACKEND_CHECK_CACHE_MS),
    })),
  ];
}

function members(registry: Registered): Reachable[] {
  return registry.names().map((n) => registry.get(n)!);
}

/** Ready when every informer has synced and is watching; else which are not, and why. */
export function informersReadiness(statuses: readonly InformerStatus[]): Outcome {
  const bad = statuses.filter((s) => !s.synced || !s.healthy);
  return bad.length === 0
    ? { ok: true }
    : {
        ok: false,
        detail: bad.map((s) => `${s.name}: ${s.synced ? 'not watching' : 'not synced'}`).join('; '),
      };
}

/** "disabled", "leader", or "standby (leader: <holder or none>)". */
export function leaderElectionDetail(elector: ElectorView | undefined): string {
  if (!elector) return 'disabled';
  return elector.isLeader() ? 'leader' : `standby (leader: ${elector.leader() ?? 'none'})`;
}
