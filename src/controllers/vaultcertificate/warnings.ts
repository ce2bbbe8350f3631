// One Warning event per change of a failure's reason or message: judged by the conditions stored
// before, and, while status cannot be written, by what this replica said last. Pure.
import type { Condition } from '../../kube/conditions.ts';

/** What this replica remembers having said while status could not record it. */
export const said = (reason: string, message: string) => `${reason}\n${message}`;

/** A failure before issuance (Ready=False): new unless Ready already says it, or we said it last. */
export function blockedWarningIsNew(
  ready: Condition | undefined,
  reason: string,
  message: string,
  saidUnrecorded: string | undefined,
): boolean {
  const recorded = ready?.status === 'False' && ready.reason === reason && ready.message === message;
  return !recorded && saidUnrecorded !== said(reason, message);
}

/**
 * A failed issuance attempt: new unless Ready says it (Ready=False) or Issuing quotes it (Ready
 * stayed True while a renewal fails), or we said it last.
 */
export function issuanceWarningIsNew(
  conditions: { ready: Condition | undefined; issuing: Condition | undefined },
  reason: string,
  message: string,
  saidUnrecorded: string | undefined,
): boolean {
  const { ready, issuing } = conditions;
  const recorded =
    (ready?.reason === reason && ready.message === message) ||
    (issuing?.message?.includes(`(${reason}): ${message}.`) ?? false);
  return !recorded && saidUnrecorded !== said(reason, message);
}
