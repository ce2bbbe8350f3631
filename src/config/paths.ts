/** Syntax of secret paths, path globs and role globs; shared by config validation and the tenancy checks. */

const NAMESPACE = '{namespace}';
/** Characters that may set off `{namespace}` in a role glob: none can occur in a namespace name. */
const ROLE_DELIMITERS = new Set(['.', '_']);
export const MAX_GLOB_SEGMENTS = 32;

/**
 * Why `glob` is not a valid `allowedPaths` / `allowedWritePaths` entry, or undefined when it is.
 * `{namespace}` must be a whole segment at a fixed depth (no `**` before it), so that a path
 * a glob matches names exactly one namespace: `{namespace}-*` would let namespace `team` reach
 * `team-a-db`, and `**` before `{namespace}` would let `team` match `x/team/b/y`, which may be
 * `b`'s (with `**` after it too) or lie in `x`'s own tree.
 */
export function pathGlobProblem(glob: string): string | undefined {
  if (glob.startsWith('/') || glob.endsWith('/')) return 'must not start or end with "/"';
  const leftover = glob.replaceAll(NAMESPACE, '');
  if (/[{}]/.test(leftover)) return 'only the placeholder {namespace} is supported';
  const segments = glob.split('/');
  // Bounds the work of one match (segments × path segments), however the glob is built.
  if (segments.length > MAX_GLOB_SEGMENTS) return `must have at most ${MAX_GLOB_SEGMENTS} segments`;
  let anyBefore = false;
  for (const segment of segments) {
    if (segment === '') return 'must not contain empty segments ("//")';
    if (segment === '.' || segment === '..') return 'must not contain "." or ".." segments';
    if (segment.includes('**') && segment !== '**')
      return '"**" must be a whole segment, e.g. "{namespace}/**"';
    if (segment.includes(NAMESPACE) && segment !== NAMESPACE) {
      return '"{namespace}" must be a whole segment, e.g. "{namespace}/**" or "apps/{namespace}/*" (with "{namespace}-*", namespace "team" would match the paths of "team-a")';
    }
    if (segment === NAMESPACE && anyBefore) {
      return '"**" must not come before "{namespace}": the namespace segment must be at a fixed depth, e.g. "apps/*/{namespace}/**"';
    }
    if (segment === '**') anyBefore = true;
  }
  return undefined;
}

/**
 * Why `glob` is not a valid `allowedRoles` entry, or undefined when it is. A role glob matches
 * one whole role name (no "/"). `{namespace}` must be the whole name or be set off by "." or
 * "_" (characters no namespace name contains), with no `*` before it, so that a role a glob
 * matches names exactly one namespace: `{namespace}.*` and `web_{namespace}` are fine;
 * `{namespace}-*` would let namespace `team` use `team-a-web`, and `*.{namespace}.*` would let
 * both `team` and `b` use `a.team.b.x`.
 */
export function roleGlobProblem(glob: string): string | undefined {
  if (glob === '') return 'must not be empty';
  if (glob.includes('/')) return 'must not contain "/" (a role glob matches one whole role name)';
  const leftover = glob.replaceAll(NAMESPACE, '');
  if (/[{}]/.test(leftover)) return 'only the placeholder {namespace} is supported';
  for (let at = glob.indexOf(NAMESPACE); at >= 0; at = glob.indexOf(NAMESPACE, at + 1)) {
    const before = glob[at - 1];
    const after = glob[at + NAMESPACE.length];
    if (
      (before !== undefined && !ROLE_DELIMITERS.has(before)) ||
      (after !== undefined && !ROLE_DELIMITERS.has(after))
    ) {
      return '"{namespace}" must be the whole role name or be set off by "." or "_", e.g. "{namespace}" or "{namespace}.*" (with "{namespace}-*", namespace "team" would match the roles of "team-a")';
    }
    if (glob.slice(0, at).includes('*')) {
      return '"*" must not come before "{namespace}": put fixed text before it, e.g. "web.{namespace}"';
    }
  }
  return undefined;
}

/** Why `path` is not a valid secret path, or undefined when it is. */
export function secretPathProblem(path: string): string | undefined {
  if (path === '') return 'must not be empty';
  if (path.length > 512) return 'must be at most 512 characters';
  if (!/^[-A-Za-z0-9_.@/+=,~:]+$/.test(path)) return 'may contain only letters, digits and "-_.@/+=,~:"';
  if (path.startsWith('/') || path.endsWith('/')) return 'must not start or end with "/"';
  for (const segment of path.split('/')) {
    if (segment === '') return 'must not contain empty segments ("//")';
    if (segment === '.' || segment === '..') return 'must not contain "." or ".." segments';
  }
  return undefined;
}
