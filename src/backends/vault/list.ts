/**
 * Walking a KV v2 tree for a find (issue 17), as pure decisions: one page is one folder listed
 * (`LIST <mount>/metadata/<folder>`), and the page token holds the folders still to visit, each
 * with its depth below the start. The calls themselves are the backend's.
 */
import { BackendError } from '../../resilience/errors.ts';

/** Folder levels below the prefix a walk descends when the request does not say. */
export const DEFAULT_MAX_DEPTH = 4;

/** A folder to list: its path below the mount (ending "/", or "" for the mount's root). */
export interface Folder {
  readonly path: string;
  /** Levels below the start folder: 0 for the start. */
  readonly depth: number;
}

/**
 * Where a walk starts: the prefix when it ends in "/" (or is ""), else its parent folder, whose
 * names are then kept only when they start with the prefix (`team-a/db` lists `team-a/`).
 */
export function startFolder(prefix: string): string {
  return prefix.slice(0, prefix.lastIndexOf('/') + 1);
}

/** The token for the folders still to visit (a stack: the last is listed next); none when done. */
export function encodeWalk(pending: readonly Folder[]): string | undefined {
  if (pending.length === 0) return undefined;
  return JSON.stringify(pending.map((f) => [f.path, f.depth]));
}

/**
 * The folders still to visit: from the token, or the start folder for the first page. A token
 * this walk could not have given (a folder outside the start folder, a depth past the bound) is
 * refused: a page token never widens a listing.
 */
export function decodeWalk(
  token: string | undefined,
  prefix: string,
  maxDepth: number,
  backend: string,
): Folder[] {
  const start = startFolder(prefix);
  if (token === undefined) return [{ path: start, depth: 0 }];
  const refuse = () =>
    new BackendError('InvalidRequest', 'page token is not one this listing gave', { backend });
  let parsed: unknown;
  try {
    parsed = JSON.parse(token);
  } catch {
    throw refuse();
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw refuse();
  return parsed.map((entry: unknown) => {
    const [path, depth] = Array.isArray(entry) ? (entry as unknown[]) : [];
    const ok =
      typeof path === 'string' &&
      path.startsWith(start) &&
      path.endsWith('/') &&
      Number.isSafeInteger(depth) &&
      (depth as number) >= 1 &&
      (depth as number) <= maxDepth;
    if (!ok) throw refuse();
    return { path, depth: depth as number };
  });
}

/**
 * What one listed folder gives: the secrets in it that start with the prefix, and the
 * sub-folders under the prefix still within `maxDepth` (sorted, so the walk goes in name order).
 * A key may be both (`db` and `db/`): a secret and a folder of the same name.
 */
export function visitFolder(
  folder: Folder,
  keys: readonly string[],
  prefix: string,
  maxDepth: number,
): { paths: string[]; folders: Folder[] } {
  const paths: string[] = [];
  const folders: Folder[] = [];
  for (const key of [...keys].sort()) {
    const full = folder.path + key;
    if (!full.startsWith(prefix)) continue;
    if (!key.endsWith('/')) paths.push(full);
    else if (folder.depth < maxDepth) folders.push({ path: full, depth: folder.depth + 1 });
  }
  return { paths, folders };
}

/** The folders to visit after `pending`'s last was listed and gave `found` (depth first, in name order). */
export function nextPending(pending: readonly Folder[], found: readonly Folder[]): Folder[] {
  return [...pending.slice(0, -1), ...[...found].reverse()];
}
