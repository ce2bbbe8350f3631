// SecretRotation's reason decisions: which failures keep the phase, and what a backend error means
// for a rotation (controllers/failure's backendReason). The reasons themselves are
// apis/v1alpha1/reasons.ts: SecretRotationReason (docs/rotation.md lists them).
import { SecretRotationReason } from '../../apis/v1alpha1/index.ts';
import type { KindReasons } from '../failure/index.ts';

/** Failures that keep the rotation's phase: nothing about the rotation itself failed. */
export const KEEPS_PHASE: ReadonlySet<string> = new Set([
  SecretRotationReason.InvalidSpec,
  SecretRotationReason.InvalidSchedule,
  SecretRotationReason.SecretWriteFailed,
  SecretRotationReason.InternalError,
]);

/** A rotation's backend NotFound is a bad request (it writes the path); it writes with check-and-set. */
export const BACKEND_REASONS: KindReasons = {
  notFound: SecretRotationReason.InvalidRequest,
  conflict: SecretRotationReason.ConcurrentWrite,
};
