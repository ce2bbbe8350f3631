/**
 * A find's listing, apart from who asks: the adapter's pages walked in order, each path tested
 * against the name pattern, stopped as soon as more than `maxItems` match (the caller reports
 * TooManyMatches) or refused once the listing grows past a hard bound. One walk is shared by
 * every caller with the same request and identity (`guard.ts` coalesces it); `foundFor` then
 * keeps, for each caller, only the paths its tenancy rules let it read.
 */
import { BackendError } from '../resilience/errors.ts';
import type { FindRequest, FoundPaths, ListPage } from './types.ts';

/** Paths listed (before the name filter) past which a find is refused: narrow the prefix. */
export const MAX_LISTED_PATHS = 10_000;
/** Pages past which a find is refused (an adapter answering empty pages forever). */
export const MAX_LIST_PAGES = 1_000;
/** The largest `maxItems` a find may ask for. */
export const MAX_FIND_ITEMS = 1_000;
/** The deepest `maxDepth` a find may ask for (hierarchical backends walk one folder a level). */
export const MAX_FIND_DEPTH = 16;
/** Tag pairs a find may ask for, and their lengths (the adapters put them into filters). */
export const MAX_FIND_TAGS = 16;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;

/** What one walk found: name-matching paths, sorted; `more` when it stopped past `maxItems`. */
export interface Walk {
  readonly matches: readonly string[];
  readonly more: boolean;
}

export interface WalkLimits {
  readonly maxListed: number;
  readonly maxPages: number;
}

const LIMITS: WalkLimits = { maxListed: MAX_LISTED_PATHS, maxPages: MAX_LIST_PAGES };

/** Why a find request is refused before any listing (its pattern is checked apart), or undefined. */
export function findRequestProblem(req: FindRequest): string | undefined {
  if (!Number.isSafeInteger(req.maxItems) || req.maxItems < 1 || req.maxItems > MAX_FIND_ITEMS) {
    return `maxItems must be an integer from 1 to ${MAX_FIND_ITEMS}`;
  }
  const depth = req.maxDepth;
  if (depth !== undefined && (!Number.isSafeInteger(depth) || depth < 0 || depth > MAX_FIND_DEPTH)) {
    return `maxDepth must be an integer from 0 to ${MAX_FIND_DEPTH}`;
  }
  return tagsProblem(req.tags ?? {});
}

/** Tags go into each service's filter syntax: bounded, printable, no empty names. */
function tagsProblem(tags: Readonly<Record<string, string>>): string | undefined {
  const entries = Object.entries(tags);
  if (entries.length > MAX_FIND_TAGS) return `at most ${MAX_FIND_TAGS} tags`;
  for (const [key, value] of entries) {
    if (key === '' || key.length > MAX_TAG_KEY || !PRINTABLE.test(key)) {
      return `tag names must be 1 to ${MAX_TAG_KEY} printable characters`;
    }
    if (typeof value !== 'string' || value.length > MAX_TAG_VALUE || !PRINTABLE.test(value)) {
      return `tag "${key}" must have a value of at most ${MAX_TAG_VALUE} printable characters`;
    }
  }
  return undefined;
}

/** No control characters (they would reach the services' filter strings and our messages). */
const PRINTABLE = /^[^\p{Cc}]*$/u;

/** Walks the pages of `listPage` for `req`; `matches` tests a path's name (all when left out). */
export async function walkListing(
  req: FindRequest,
  listPage: (page: string | undefined) => Promise<ListPage>,
  matches: (path: string) => boolean,
  backend: string,
  limits: WalkLimits = LIMITS,
): Promise<Walk> {
  const found = new Set<string>();
  let listed = 0;
  let page: string | undefined;
  for (let pages = 1; ; pages++) {
    const answer = await listPage(page);
    for (const path of answer.paths) {
      if (++listed > limits.maxListed) throw tooMany(req.prefix, `${limits.maxListed} paths`, backend);
      // An adapter's answer outside the prefix is not the caller's to see.
      if (!path.startsWith(req.prefix) || !matches(path)) continue;
      found.add(path);
      if (found.size > req.maxItems) return { matches: [...found].sort(), more: true };
    }
    page = answer.next;
    if (page === undefined || page === '') return { matches: [...found].sort(), more: false };
    if (pages >= limits.maxPages) throw tooMany(req.prefix, `${limits.maxPages} pages`, backend);
  }
}

/** A shared walk as one caller may see it: only the paths `readable` allows, at most `maxItems`. */
export function foundFor(walk: Walk, readable: (path: string) => boolean, maxItems: number): FoundPaths {
  const paths: string[] = [];
  let refused = 0;
  for (const path of walk.matches) {
    if (readable(path)) paths.push(path);
    else refused++;
  }
  // `more`: more than maxItems matched, whoever may read them — the same answer for every caller.
  return { paths: paths.slice(0, maxItems), truncated: walk.more, refused };
}

/** The coalescing key of a walk: everything that shapes its answer. Starts with the prefix. */
export function walkKey(req: FindRequest, identity: string): string {
  const tags = Object.entries(req.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [req.prefix, JSON.stringify(tags), req.maxDepth ?? '', req.name ?? '', req.maxItems, identity].join(
    '\u0000',
  );
}

/** Whether a change at `path` can change the walk with this key (its prefix covers the path). */
export function walkCovers(key: string, path: string): boolean {
  return path.startsWith(key.slice(0, key.indexOf('\u0000')));
}

function tooMany(prefix: string, bound: string, backend: string): BackendError {
  return new BackendError(
    'InvalidRequest',
    `listing prefix "${prefix}" went past ${bound}: narrow the prefix or add tags`,
    { backend },
  );
}
