// The status of a VaultCertificate: the certificate's facts after a success, the Ready and
// Issuing conditions, the status after a failed issuance, and the merge patch that writes it.
// Pure.
import { VaultCertificateReason } from '../../apis/v1alpha1/index.ts';
import type { VaultCertificate, VaultCertificateStatus } from '../../apis/v1alpha1/index.ts';
import {
  type Condition,
  formatTime,
  getCondition,
  removeCondition,
  setCondition,
} from '../../kube/conditions.ts';
import type { CertificateInfo } from '../../pki/index.ts';
import type { Failure } from '../failure/index.ts';
import type { ObservedSecret } from './observed.ts';
import { type Violation, stillUsable } from './policies.ts';
import type { Renewal } from './renewal.ts';
import { canonicalJson } from '../shared/canonical-json.ts';

export type ConditionFields = Omit<Condition, 'type' | 'lastTransitionTime'>;

export const conditionsOf = (vc: VaultCertificate) => vc.status?.conditions as Condition[] | undefined;

/** `base` with Ready set and Issuing set (or removed when undefined), for the current generation. */
export function withConditions(
  vc: VaultCertificate,
  base: VaultCertificateStatus,
  ready: ConditionFields,
  issuing: ConditionFields | undefined,
  now: number,
): VaultCertificateStatus {
  const generation = vc.metadata?.generation;
  let conditions = setCondition(
    conditionsOf(vc),
    { type: 'Ready', observedGeneration: generation, ...ready },
    now,
  );
  conditions = issuing
    ? setCondition(conditions, { type: 'Issuing', observedGeneration: generation, ...issuing }, now)
    : removeCondition(conditions, 'Issuing');
  return { ...base, conditions, observedGeneration: generation };
}

/** The Issuing condition as it stands, to keep it unchanged. */
function issuingOf(vc: VaultCertificate): ConditionFields | undefined {
  const c = getCondition(conditionsOf(vc), 'Issuing');
  return c ? { status: c.status, reason: c.reason, message: c.message } : undefined;
}

/** The certificate's facts, the failure count and time gone. */
export function successFields(
  current: VaultCertificateStatus | undefined,
  cert: CertificateInfo,
  issuer: string,
  renewal: Renewal,
  revision: number,
  mac: string,
): VaultCertificateStatus {
  const { failedIssuanceAttempts: _f, lastFailureTime: _l, ...rest } = current ?? {};
  return {
    ...rest,
    notBefore: formatTime(cert.notBefore),
    notAfter: formatTime(cert.notAfter),
    renewalTime: formatTime(renewal.at),
    serialNumber: cert.serialNumber,
    issuer,
    revision,
    certificateMAC: mac,
  };
}

/** Ready=True Issued: the message says when renewBefore had to be shortened. */
export function issuedCondition(renewal?: Renewal): ConditionFields {
  const note = renewal?.adjusted
    ? `; renewBefore is not shorter than the certificate's lifetime, so it renews after two thirds of it`
    : '';
  return {
    status: 'True',
    reason: VaultCertificateReason.Issued,
    message: `Certificate is up to date and has not expired${note}`,
  };
}

/**
 * After a failed issuance attempt: the attempt counted and timed; Ready stays True while a
 * certificate only due for renewal is still valid (never after a refused Secret write, which
 * needs a person); Issuing says why, what failed and when the next attempt is.
 */
export function failedIssuanceStatus(input: {
  vc: VaultCertificate;
  observed: ObservedSecret;
  trigger: Violation;
  failure: Failure;
  /** The Secret write was refused: Ready=False even while the old certificate is valid. */
  writeRefused: boolean;
  attempts: number;
  delayMs: number;
  now: number;
}): VaultCertificateStatus {
  const { vc, observed, trigger, failure, attempts, now } = input;
  const validUntil = observed.cert?.notAfter;
  const usable =
    !input.writeRefused && stillUsable(trigger) && validUntil !== undefined && now < validUntil.getTime();
  const ready: ConditionFields = usable
    ? {
        status: 'True',
        reason: VaultCertificateReason.Issued,
        message: `Certificate is valid until ${validUntil.toISOString()}; renewal is failing (${failure.reason})`,
      }
    : { status: 'False', reason: failure.reason, message: failure.message };
  return withConditions(
    vc,
    { ...vc.status, failedIssuanceAttempts: attempts, lastFailureTime: formatTime(now) },
    ready,
    {
      status: 'True',
      reason: trigger.reason,
      message: `${capitalize(trigger.message)}; attempt ${attempts} failed (${failure.reason}): ${failure.message}. Next attempt in ${Math.ceil(input.delayMs / 1000)}s`,
    },
    now,
  );
}

/** A failure before any issuance attempt: Ready=False with its reason, Issuing as it was. */
export function blockedStatus(vc: VaultCertificate, reason: string, message: string, now: number) {
  return withConditions(vc, { ...vc.status }, { status: 'False', reason, message }, issuingOf(vc), now);
}

/** Status equality that ignores key order and absent-vs-undefined. */
export function statusEqual(
  a: VaultCertificateStatus | undefined,
  b: VaultCertificateStatus | undefined,
): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b ?? {});
}

/** The merge patch from `current` to `status`: fields dropped are sent as null to be removed. */
export function statusPatch(
  current: VaultCertificateStatus,
  status: VaultCertificateStatus,
): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...status };
  for (const k of Object.keys(current)) if (!(k in status)) patch[k] = null;
  return patch;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
