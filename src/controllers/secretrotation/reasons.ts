// Condition reasons of SecretRotation (CamelCase constants; docs/rotation.md lists them).
import type { BackendErrorCode } from '../../backends/errors.ts';
import { INVALID_SPEC } from '../invalid-spec.ts';

export const Reason = {
  /** Idle: the last rotation succeeded and nothing is pending. */
  Rotated: 'Rotated',
  /** Waiting for the first scheduled time (no rotation yet). */
  Scheduled: 'Scheduled',
  Suspended: 'Suspended',
  Rotating: 'Rotating',
  RollingOut: 'RollingOut',
  Retiring: 'Retiring',
  RolloutNotReady: 'RolloutNotReady',
  /** rollbackOnFailure: the rollout was not ready in time; the previous value was written back. */
  RolledBack: 'RolledBack',
  /** rollbackOnFailure: the rollback could not be written (the path changed since the rotation). */
  RollbackFailed: 'RollbackFailed',
  VaultSecretNotSynced: 'VaultSecretNotSynced',
  GeneratorFailed: 'GeneratorFailed',
  InvalidSchedule: 'InvalidSchedule',
  BackendNotFound: 'BackendNotFound',
  PermissionDenied: 'PermissionDenied',
  TenancyDenied: 'TenancyDenied',
  BackendUnavailable: 'BackendUnavailable',
  BackendThrottled: 'BackendThrottled',
  AuthenticationFailed: 'AuthenticationFailed',
  InvalidRequest: 'InvalidRequest',
  /** Check-and-set failed: someone else wrote the path between our read and our write. */
  ConcurrentWrite: 'ConcurrentWrite',
  /** restart.mode AnnotatePods while the operator config leaves operator.annotatePods off. */
  AnnotatePodsDisabled: 'AnnotatePodsDisabled',
  /** The stored spec breaks a rule of the CRD (stored before a CRD upgrade or past CEL). */
  InvalidSpec: INVALID_SPEC,
  /**
   * The apiserver refused a write of this rotation (its status) with a 4xx: the rotation keeps
   * its phase and in-flight version, and the retry writes nothing to the backend again.
   */
  SecretWriteFailed: 'SecretWriteFailed',
  /** Something unexpected failed (a bug of ours): details in the operator log only. */
  InternalError: 'InternalError',
} as const;

/** Failures that keep the rotation's phase: nothing about the rotation itself failed. */
export const KEEPS_PHASE: ReadonlySet<string> = new Set([
  Reason.InvalidSpec,
  Reason.InvalidSchedule,
  Reason.SecretWriteFailed,
  Reason.InternalError,
]);
export type Reason = (typeof Reason)[keyof typeof Reason];

const byBackendCode: Record<BackendErrorCode, Reason> = {
  NotFound: Reason.InvalidRequest,
  PermissionDenied: Reason.PermissionDenied,
  Throttled: Reason.BackendThrottled,
  Unavailable: Reason.BackendUnavailable,
  CircuitOpen: Reason.BackendUnavailable,
  InvalidRequest: Reason.InvalidRequest,
  Unauthenticated: Reason.AuthenticationFailed,
  TenancyDenied: Reason.TenancyDenied,
  Conflict: Reason.ConcurrentWrite,
  Unknown: Reason.BackendUnavailable,
};

export const reasonForBackendError = (code: BackendErrorCode): Reason => byBackendCode[code];
