// Workloads rolling out after a restart: the reservation this process keeps for each restart it
// made (until the workload is ready or its time is up), how many of a group roll at once (the
// concurrency limit counts them), and what following one of them decides. Pure.
import { OperatorAnnotation } from '../../apis/v1alpha1/index.ts';
import type { RestartPolicy } from '../shared/restart-policy.ts';
import type { Workload, WorkloadRef } from '../contracts.ts';
import { rolloutComplete } from './workloads.ts';
import { workloadKey } from '../shared/workloads.ts';

/** A restart this process made, followed until the workload is ready or timed out. */
export interface Rolling {
  ref: WorkloadRef;
  group: string;
  at: number;
  /** The generation our patch produced: the cache is stale until it shows it. */
  generation: number;
  timeoutAt: number;
}

/** Reserved before the write, so another worker counts it against the group's limit. */
export function reservation(
  ref: WorkloadRef,
  w: Workload,
  group: string,
  now: number,
  policy: RestartPolicy,
): Rolling {
  return {
    ref,
    group,
    at: now,
    generation: (w.metadata?.generation ?? 0) + 1,
    timeoutAt: now + policy.readyTimeoutMs,
  };
}

/** When vaultsync last restarted the workload (its restarted-at annotation), if it says. */
export function lastRestartAt(w: Workload): number | undefined {
  const at = Date.parse(w.metadata?.annotations?.[OperatorAnnotation.RestartedAt] ?? '');
  return Number.isFinite(at) ? at : undefined;
}

/**
 * Is the workload still rolling out a restart? Ours: until its generation is seen and the rollout
 * completes, or its time is up. Another replica's (or an earlier process's): from its
 * restarted-at annotation, for at most the policy's ready timeout.
 */
export function isRolling(
  ref: WorkloadRef,
  w: Workload,
  mine: Rolling | undefined,
  now: number,
  policy: RestartPolicy,
): boolean {
  if (mine) {
    if (now >= mine.timeoutAt) return false;
    return (w.metadata?.generation ?? 0) < mine.generation || !rolloutComplete(ref.kind, w);
  }
  const at = lastRestartAt(w);
  if (at === undefined || now >= at + policy.readyTimeoutMs) return false;
  return !rolloutComplete(ref.kind, w);
}

export interface GroupQuery {
  namespace: string;
  group: string;
  /** The workload asking (not counted). */
  except: string;
  now: number;
  policy: RestartPolicy;
}

/** Workloads of a group rolling out now, among `workloads` (the namespace's) and our reservations. */
export function rollingInGroup(
  workloads: readonly { ref: WorkloadRef; obj: Workload }[],
  rolling: ReadonlyMap<string, Rolling>,
  q: GroupQuery,
): number {
  let n = 0;
  const seen = new Set<string>();
  for (const { ref, obj } of workloads) {
    const key = workloadKey(ref);
    seen.add(key);
    if (key === q.except) continue;
    const mine = rolling.get(key);
    const group = mine?.group ?? obj.metadata?.annotations?.[OperatorAnnotation.RestartGroup];
    if (group === q.group && isRolling(ref, obj, mine, q.now, q.policy)) n++;
  }
  // Reserved by a restart whose object the cache does not show yet.
  for (const [key, r] of rolling) {
    const unseen = !seen.has(key) && key !== q.except;
    if (unseen && r.ref.namespace === q.namespace && r.group === q.group && q.now < r.timeoutAt) n++;
  }
  return n;
}

export type TrackStep =
  | { outcome: 'ready' }
  | { outcome: 'timeout'; afterSeconds: number }
  | { outcome: 'waiting'; requeueAfter: number };

/** Following a restart we made: ready, timed out, or look again (at most `pollMs` from now). */
export function trackStep(r: Rolling, w: Workload, now: number, pollMs: number): TrackStep {
  const caughtUp = (w.metadata?.generation ?? 0) >= r.generation;
  if (caughtUp && rolloutComplete(r.ref.kind, w)) return { outcome: 'ready' };
  if (now >= r.timeoutAt)
    return { outcome: 'timeout', afterSeconds: Math.round((r.timeoutAt - r.at) / 1000) };
  return { outcome: 'waiting', requeueAfter: Math.min(r.timeoutAt - now, pollMs) };
}
