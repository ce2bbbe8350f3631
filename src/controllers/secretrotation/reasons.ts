// Condition reasons of SecretRotation: the vocabulary is apis/v1alpha1/reasons.ts (docs/rotation.md
// lists them); what a backend error means for a rotation is controllers/failure's backendReason.
import { SecretRotationReason } from '../../apis/v1alpha1/index.ts';
import type { KindReasons } from '../failure/index.ts';

export const Reason = SecretRotationReason;
export type Reason = SecretRotationReason;

/** Failures that keep the rotation's phase: nothing about the rotation itself failed. */
export const KEEPS_PHASE: ReadonlySet<string> = new Set([
  Reason.InvalidSpec,
  Reason.InvalidSchedule,
  Reason.SecretWriteFailed,
  Reason.InternalError,
]);

/** A rotation's backend NotFound is a bad request (it writes the path); it writes with check-and-set. */
export const BACKEND_REASONS: KindReasons = {
  notFound: Reason.InvalidRequest,
  conflict: Reason.ConcurrentWrite,
};
