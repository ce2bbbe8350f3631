/**
 * ListSecrets filters for a listing. AWS's filters are prefix matches (`name`, `tag-key`,
 * `tag-value`), case-sensitive, AND-ed across filters, OR-ed within one; `tag-key` and
 * `tag-value` each match any of a secret's tags. So they only narrow what comes back: the
 * backend checks the prefix and every tag pair exactly on the returned names and tags.
 */
import type { ListRequest } from '../types.ts';

export interface AwsListFilter {
  readonly Key: 'name' | 'tag-key' | 'tag-value';
  readonly Values: string[];
}

/** A filter value AWS takes (its documented pattern, without `!`, which would negate). */
const FILTER_VALUE = /^[a-zA-Z0-9 :_@/+=.-]{1,512}$/;
/** What the start of a secret name can hold. */
const NAME_PREFIX = /^[A-Za-z0-9/_+=.@-]{0,512}$/;

/**
 * The filters for `req`, or undefined when no secret can match (the prefix holds a character
 * no secret name can). One tag pair is sent — the first by key whose key and value AWS takes as
 * filter values — as a `tag-key` and a `tag-value` filter: a secret carrying every pair
 * passes both.
 */
export function awsListFilters(req: ListRequest): AwsListFilter[] | undefined {
  if (!NAME_PREFIX.test(req.prefix)) return undefined;
  const filters: AwsListFilter[] = [];
  if (req.prefix !== '') filters.push({ Key: 'name', Values: [req.prefix] });
  const pair = Object.entries(req.tags ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .find(([key, value]) => FILTER_VALUE.test(key) && FILTER_VALUE.test(value));
  if (pair) {
    filters.push({ Key: 'tag-key', Values: [pair[0]] }, { Key: 'tag-value', Values: [pair[1]] });
  }
  return filters;
}
