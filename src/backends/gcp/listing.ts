/**
 * The ListSecrets `filter` for a listing (Secret Manager's list filtering: `name:` matches a
 * substring of the resource name, `labels.KEY=VALUE` a label, terms joined by AND). It only
 * narrows what comes back: the backend checks the prefix and every label exactly on the
 * returned secrets, so pairs the filter language cannot carry safely are checked there only.
 */
import type { ListRequest } from '../types.ts';
import { flatPrefix } from '../cloud/listing.ts';

/** A secret ID prefix (what `flatName` makes from a path prefix). */
const ID_PREFIX = /^[A-Za-z0-9_-]*$/;
/** Label keys and values sent in the filter (Google's label rules, ASCII only, no "-" in keys). */
const LABEL_KEY = /^[a-z][a-z0-9_]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{1,63}$/;

/**
 * `name:"team-a--" AND labels.env="prod"`, "" for no filter, or undefined when no secret can
 * match (the prefix holds a character no secret ID can).
 */
export function gcpListFilter(req: ListRequest): string | undefined {
  const idPrefix = flatPrefix(req.prefix);
  if (!ID_PREFIX.test(idPrefix)) return undefined;
  const terms: string[] = [];
  if (idPrefix !== '') terms.push(`name:"${idPrefix}"`);
  for (const [key, value] of Object.entries(req.tags ?? {}).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    if (LABEL_KEY.test(key) && LABEL_VALUE.test(value)) terms.push(`labels.${key}="${value}"`);
  }
  return terms.join(' AND ');
}
