// rollbackOnFailure decisions (TwoPhase): what a rollback writes, when it must not write, and
// how a rollback written before a restart is recognised. Pure; steps/roll-back.ts does the I/O.
import { previousKey, rolledBackData } from './data.ts';

export interface Version {
  version: string;
  data: ReadonlyMap<string, Buffer>;
}

export type RollbackPlan =
  /** Write `data` with check-and-set on `cas` (the version the rotation wrote). */
  | { data: Map<string, Buffer>; cas: string }
  /** Not rolled back: why (the path changed since, or there is no previous value). */
  | { refused: string };

/**
 * The previous value becomes current again only on top of the version the rotation wrote: a
 * path changed since is never overwritten.
 */
export function rollbackPlan(
  path: string,
  failedVersion: string,
  latest: Version | undefined,
  keys: readonly string[],
): RollbackPlan {
  const data = latest?.version === failedVersion ? rolledBackData(latest.data, keys) : undefined;
  if (latest && data) return { data, cas: latest.version };
  const refused =
    latest && latest.version !== failedVersion
      ? `${path} changed since (version ${latest.version}), so it was not overwritten`
      : `version ${failedVersion} of ${path} holds no previous value`;
  return { refused };
}

/**
 * The part of a version a rollback decides: the generated keys and their `_previous` keys. Two
 * versions with equal parts (compared by keyed MAC, no value kept) hold the same rollback.
 */
export function rollbackPart(
  data: ReadonlyMap<string, Buffer>,
  keys: readonly string[],
): Map<string, Buffer> {
  const names = new Set([...keys, ...keys.map(previousKey)]);
  return new Map([...data].filter(([k]) => names.has(k)));
}
