// Where a workload stands with some data (what a SecretRotation asks of its consumers): pending,
// not restarted, rolling out, ready or timed out. Pure, with one small memory for Rollouts asked
// about while their CRD was not served.
import { OperatorAnnotation } from '../../apis/v1alpha1/index.ts';
import { LRUCache } from 'lru-cache';
import type { Digests } from '../shared/digests.ts';
import { type PendingRestart, digestsAppliedSince } from './annotations.ts';
import { type Rolling, lastRestartAt } from './rolling.ts';
import type { RolloutState, Workload, WorkloadRef } from '../contracts.ts';
import { appliedDigests, restartDigests, rolloutComplete } from './workloads.ts';
import { carries } from './unsaved.ts';

export interface RolloutStateInput {
  ref: WorkloadRef;
  w: Workload;
  /** Tokens (`macDigest`) of the wanted data: what pending records name. */
  wanted: Digests;
  /** The same, bound to this workload (`workloadDigests`): what its annotations hold. */
  digests: Digests;
  /** The current MAC key id (digests of another key are checked by time: digestsAppliedSince). */
  keyId: string;
  /** When each entry's data was written, for digests made before an upgrade or a MAC key change. */
  writtenAt?: Readonly<Record<string, number>>;
  /** The stored (or legacy) pending restart of the workload, if any. */
  pending?: PendingRestart;
  /** A change to the wanted data is recorded but not stored yet. */
  unsavedWaits: boolean;
  /** Our own restart of it, while we follow it. */
  mine?: Rolling;
  now: number;
  readyTimeoutMs: number;
}

export function rolloutState(input: RolloutStateInput): RolloutState {
  const { ref, w, mine, now } = input;
  const restartedAt = lastRestartAt(w) ?? NaN;
  const runsWith = (applied: Digests) =>
    digestsAppliedSince(applied, input.digests, input.keyId, restartedAt, input.writtenAt);
  if (!runsWith(appliedDigests(w))) {
    const waiting = (input.pending && carries(input.pending.secrets, input.wanted)) || input.unsavedWaits;
    return { state: waiting ? 'Pending' : 'NotRestarted' };
  }
  const at = mine?.at ?? restartedAt;
  const since = Number.isFinite(at) ? at : undefined;
  const caughtUp = !mine || (w.metadata?.generation ?? 0) >= mine.generation;
  const podsOnly =
    w.metadata?.annotations?.[OperatorAnnotation.PodsSecretsHmac] !== undefined &&
    !runsWith(restartDigests(w));
  if (podsOnly || (caughtUp && rolloutComplete(ref.kind, w))) return { state: 'Ready' };
  if (since !== undefined && now >= since + input.readyTimeoutMs) return { state: 'TimedOut', since };
  return since === undefined ? { state: 'RollingOut' } : { state: 'RollingOut', since };
}

/** Questions about Rollouts remembered (below); the least recently asked go first past this. */
const MAX_ROLLOUT_QUESTIONS = 10_000;

/**
 * When a Rollout was first asked about (workload and wanted data) while its CRD was not served:
 * it is called not found only by a discovery request sent after that, so a CRD installed just
 * after the last periodic discovery does not lose a rotation its consumer.
 */
export class RolloutQuestions {
  readonly #askedAt = new LRUCache<string, number>({ max: MAX_ROLLOUT_QUESTIONS });

  /** When this question was first asked (now, if it is new). */
  askedAt(question: string, now: number): number {
    const at = this.#askedAt.get(question);
    if (at !== undefined) return at;
    this.#askedAt.set(question, now);
    return now;
  }
}
