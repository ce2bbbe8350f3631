// What a SecretRotation's spec and annotations ask for, defaults applied. Pure.
import type { SecretRotation, SecretRotationSpec } from '../../apis/v1alpha1/index.ts';
import {
  SECRET_ROTATION_DEFAULTS,
  UserAnnotation,
  parseDuration,
  pendingToken,
} from '../../apis/v1alpha1/index.ts';
import type { GeneratorDefaults } from '../../secrets/generators.ts';

const D = SECRET_ROTATION_DEFAULTS;

export const GENERATOR_DEFAULTS: GeneratorDefaults = {
  password: { ...D.password },
  randomBytes: { ...D.randomBytes },
  keyPair: { algorithm: D.keyPair.algorithm },
};

export const strategyOf = (spec: SecretRotationSpec) => spec.strategy ?? D.strategy;

/** How long TwoPhase keeps the previous value after the rollout, in ms. */
export const retentionOf = (spec: SecretRotationSpec) =>
  parseDuration(spec.previousValueRetention ?? D.previousValueRetention);

/** The rotate-now annotation's value when it was not answered yet (status.rotateNowHandled). */
export function manualToken(sr: SecretRotation): string | undefined {
  return pendingToken(sr.metadata?.annotations?.[UserAnnotation.RotateNow], sr.status?.rotateNowHandled);
}

/** The rollback-to annotation's value when it was not answered yet (status.rollbackToHandled). */
export function rollbackToToken(sr: SecretRotation): string | undefined {
  return pendingToken(sr.metadata?.annotations?.[UserAnnotation.RollbackTo], sr.status?.rollbackToHandled);
}

/** What lifts a held failure besides a spec change: a new rotate-now or rollback-to value. */
export const triggerTokens = (sr: SecretRotation): string | undefined => {
  const tokens = [manualToken(sr), rollbackToToken(sr)];
  return tokens.every((t) => t === undefined) ? undefined : tokens.map((t) => t ?? '').join('\n');
};

/** rollbackOnFailure applies: TwoPhase, and this rotation kept a previous value to go back to. */
export const rollbackWanted = (sr: SecretRotation) =>
  sr.spec.rollbackOnFailure === true &&
  strategyOf(sr.spec) === 'TwoPhase' &&
  sr.status?.previousVersion !== undefined;
