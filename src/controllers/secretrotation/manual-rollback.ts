// A rollback asked for by hand — the annotation `vaultsync.io/rollback-to`, which the API's
// `POST .../secretrotations/{name}:rollback` writes too — answered once, like rotate-now. Pure:
// which version the annotation names, and what to do about it; steps/roll-back-to.ts does the I/O.
import { UserAnnotation } from '../../apis/v1alpha1/index.ts';
import { BackendError } from '../../resilience/errors.ts';

/**
 * A backend version as the annotation may name it: KV v2 and Google version numbers, AWS
 * version ids (UUIDs), Azure version ids (hex), resourceVersions. At most 64 characters, as
 * `status.currentVersion` holds.
 */
export const ROLLBACK_VERSION_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const VERSION = new RegExp(ROLLBACK_VERSION_PATTERN);

/** What follows `#` in the annotation only makes the value new (the API adds a token there). */
export const ROLLBACK_NONCE_SEPARATOR = '#';

/** The annotation value that asks for a rollback to `version`; `nonce` makes it new each time. */
export const rollbackToValue = (version: string, nonce?: string): string =>
  nonce === undefined ? version : `${version}${ROLLBACK_NONCE_SEPARATOR}${nonce}`;

/** The version an annotation value names, or why it names none. */
export function rollbackTarget(value: string): { version: string } | { invalid: string } {
  const [version = ''] = value.split(ROLLBACK_NONCE_SEPARATOR, 1);
  if (VERSION.test(version)) return { version };
  return {
    invalid:
      `the annotation ${UserAnnotation.RollbackTo} must name a backend version (letters, digits, ` +
      `'.', '_' or '-', at most 64), optionally followed by '${ROLLBACK_NONCE_SEPARATOR}' and any text`,
  };
}

/** A version of the path as the plan sees it: its name and the keyed MAC of its data. */
export interface SeenVersion {
  version: string;
  mac: string;
}

export type RollbackToPlan =
  /** Nothing is written: why (shown as the RollbackRefused condition). */
  | { refused: string }
  /** The version asked for is the latest: answered, nothing to do. */
  | { unchanged: string }
  /** The latest version holds that value already (written just before a restart): adopt it. */
  | { current: string }
  /** Restore `version` as the newest, by check-and-set on `cas` (the latest version). */
  | { restore: { version: string; cas: string } };

/**
 * What a rollback of `path` to `version` does, given the latest version and the one asked for
 * (undefined: they do not exist). Equal data (keyed MACs) means done already: a rollback
 * written just before the operator stopped is adopted, not written twice.
 */
export function rollbackToPlan(
  path: string,
  version: string,
  latest: SeenVersion | undefined,
  target: SeenVersion | undefined,
  macEqual: (a: string, b: string) => boolean,
): RollbackToPlan {
  if (!latest) return { refused: `${path} does not exist, so there is nothing to roll back` };
  if (!target) return { refused: `version ${version} of ${path} does not exist; nothing was written` };
  if (latest.version === version) return { unchanged: version };
  if (macEqual(latest.mac, target.mac)) return { current: latest.version };
  return { restore: { version, cas: latest.version } };
}

/**
 * A restore the backend refused for good (not found, denied, outside `allowedWritePaths`, a
 * backend that cannot restore): the rollback is answered with this refusal. Undefined for what
 * is worth retrying (unavailable, throttled, a concurrent write): the rollback stays pending.
 */
export function restoreRefusal(err: unknown, path: string, version: string): string | undefined {
  if (!(err instanceof BackendError) || err.transient) return undefined;
  return `restoring version ${version} of ${path} was refused (${err.code}): ${err.message}; nothing was written`;
}
