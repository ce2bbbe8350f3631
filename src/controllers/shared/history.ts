// Bounded histories in status, newest first: a VaultSecret's changes of synced data, a
// SecretRotation's versions. Pure.
import { HISTORY_LIMIT } from '../../apis/v1alpha1/history.ts';

/** spec.historyLimit, or its default; never past the schema's maximum. */
export const historyLimit = (limit: number | undefined): number =>
  Math.min(Math.max(limit ?? HISTORY_LIMIT.default, 0), HISTORY_LIMIT.max);

/**
 * `history` with `entry` first — dropping an older entry that `replaces` says it replaces (a
 * rotation's version recorded again with its outcome) — kept to `limit` entries. Without an entry
 * it is only bounded. Undefined when nothing is kept (limit 0, or nothing yet): the field goes.
 */
export function appendHistory<T>(
  history: readonly T[] | undefined,
  entry: T | undefined,
  limit: number,
  replaces: (older: T, entry: T) => boolean = () => false,
): T[] | undefined {
  const rest = entry === undefined ? (history ?? []) : (history ?? []).filter((h) => !replaces(h, entry));
  const kept = (entry === undefined ? rest : [entry, ...rest]).slice(0, Math.max(limit, 0));
  return kept.length > 0 ? kept : undefined;
}
