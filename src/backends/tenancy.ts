/**
 * Tenancy rules, checked before any request leaves the operator: may a resource in
 * `namespace` use this backend, and this path? Pure functions over the backend's config.
 *
 * Namespace globs: `*` matches any run of characters (`team-*`, `*`).
 * Path globs (segments split by "/"): `*` matches within one segment, `**` (a whole segment)
 * matches one or more segments at the end, or zero or more elsewhere; `{namespace}` is
 * replaced by the caller's namespace. `{namespace}/*` allows `team-a/db`, not `team-a/db/x`;
 * `{namespace}/**` allows both.
 */
import { pathGlobProblem, secretPathProblem } from '../config/paths.ts';
import { BackendError } from './errors.ts';

export interface TenancyRules {
  readonly allowedNamespaces: readonly string[];
  readonly allowedPaths: readonly string[];
}

/** A compiled rule set: returns the denial, or undefined when the call is allowed. */
export type TenancyCheck = (namespace: string, path: string) => BackendError | undefined;

export function compileTenancy(backend: string, rules: TenancyRules): TenancyCheck {
  const namespaces = rules.allowedNamespaces.map((g) => ({ glob: g, re: namespaceGlobRegExp(g) }));
  for (const g of rules.allowedPaths) {
    const problem = pathGlobProblem(g);
    if (problem) throw new Error(`invalid path glob "${g}": ${problem}`);
  }
  const nsList = rules.allowedNamespaces.join(', ');
  const pathList = rules.allowedPaths.join(', ');

  return (namespace, path) => {
    const problem = secretPathProblem(path);
    if (problem) {
      return new BackendError('InvalidRequest', `path "${truncate(path)}" is not valid: ${problem}`, {
        backend,
      });
    }
    if (!namespaces.some((n) => n.re.test(namespace))) {
      return new BackendError(
        'TenancyDenied',
        `namespace "${namespace}" may not use backend "${backend}" (allowedNamespaces: ${nsList})`,
        { backend },
      );
    }
    if (!rules.allowedPaths.some((g) => pathGlobRegExp(g, namespace).test(path))) {
      const resolved = rules.allowedPaths.map((g) => g.replaceAll('{namespace}', namespace)).join(', ');
      const shown = resolved === pathList ? pathList : `${pathList}; for this namespace: ${resolved}`;
      return new BackendError(
        'TenancyDenied',
        `path "${path}" is not allowed for namespace "${namespace}" on backend "${backend}" (allowedPaths: ${shown})`,
        { backend },
      );
    }
    return undefined;
  };
}

export function namespaceGlobRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map(escapeRegExp).join('.*')}$`);
}

/** The path glob as a regular expression for one namespace. */
export function pathGlobRegExp(glob: string, namespace: string): RegExp {
  const segments = glob.replaceAll('{namespace}', namespace).split('/');
  let re = '';
  let needSlash = false;
  for (const [i, seg] of segments.entries()) {
    const last = i === segments.length - 1;
    if (seg === '**') {
      if (i === 0 && last) re += '.+';
      else if (i === 0) re += '(?:.+/)?';
      else if (last) re += '/.+';
      else re += '(?:/.+)?';
      needSlash = i > 0;
      continue;
    }
    if (needSlash) re += '/';
    re += seg.split('*').map(escapeRegExp).join('[^/]*');
    needSlash = true;
  }
  return new RegExp(`^${re}$`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}
