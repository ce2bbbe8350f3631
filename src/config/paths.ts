/** Syntax of secret paths and path globs; shared by config validation and the tenancy checks. */

/** Why `glob` is not a valid `allowedPaths` entry, or undefined when it is. */
export function pathGlobProblem(glob: string): string | undefined {
  if (glob.startsWith('/') || glob.endsWith('/')) return 'must not start or end with "/"';
  const leftover = glob.replaceAll('{namespace}', '');
  if (/[{}]/.test(leftover)) return 'only the placeholder {namespace} is supported';
  for (const segment of glob.split('/')) {
    if (segment === '') return 'must not contain empty segments ("//")';
    if (segment === '.' || segment === '..') return 'must not contain "." or ".." segments';
    if (segment.includes('**') && segment !== '**')
      return '"**" must be a whole segment, e.g. "{namespace}/**"';
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
