// Which SecretRotation a VaultSecret's data change belongs to (its restart settings apply), and
// whether the change only retires a previous value (TwoPhase: no restart is owed for it). Read
// from the SecretRotation cache and from what rotations announce (expectRetirement, contracts.ts):
// nothing is set on the reload controller after construction.
import { LRUCache } from 'lru-cache';
import type { SecretRotation, VaultSecret } from '../../apis/v1alpha1/index.ts';
import { keyFor } from '../../kube/resources.ts';
import type { ObjectCache } from '../contracts.ts';
import { type RestartPolicy, rotationRestartPolicy } from '../shared/restart-policy.ts';
import { pathKey, rotationFor } from '../shared/source-refs.ts';
import type { RotationContext } from './types.ts';

/** Retirements remembered at once (one per rotated path); the oldest go first past this. */
const MAX_RETIREMENTS = 10_000;

/** Rotated paths whose previous value is being retired, until when. */
export class Retirements {
  readonly #until = new LRUCache<string, number>({ max: MAX_RETIREMENTS });

  expect(path: { namespace: string; backend: string; path: string }, untilMs: number): void {
    this.#until.set(pathKey(path.namespace, path.backend, path.path), untilMs);
  }

  /** Is a change of this path, now, the retirement of a previous value? */
  retiring(namespace: string, backend: string, path: string, now: number): boolean {
    const until = this.#until.get(pathKey(namespace, backend, path));
    return until !== undefined && until > now;
  }
}

/** The rotation writing a path the VaultSecret reads, if any, and whether this change retires. */
export function rotationContext(
  vs: VaultSecret,
  rotations: readonly SecretRotation[],
  retirements: Retirements,
  now: number,
): RotationContext | undefined {
  const sr = rotationFor(vs, rotations);
  if (!sr) return undefined;
  const suppress = retirements.retiring(vs.metadata?.namespace ?? '', sr.spec.backend, sr.spec.path, now);
  return { rotation: sr.metadata?.name ?? '', ...(suppress && { suppress }) };
}

/** A SecretRotation's restart settings, while it exists. */
export function rotationPolicy(
  rotations: ObjectCache<SecretRotation>,
  namespace: string,
  name: string,
): RestartPolicy | undefined {
  const sr = rotations.get(keyFor(namespace, name));
  return sr ? rotationRestartPolicy(sr.spec) : undefined;
}
