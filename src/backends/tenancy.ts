/**
 * Tenancy rules, checked before any request leaves the operator: may a resource in
 * `namespace` use this backend, and read (`allowedPaths`) or write (`allowedWritePaths`) this
 * path? Pure functions over the backend's config; globs are compiled once (`glob.ts`).
 *
 * Namespace globs: `*` matches any run of characters (`team-*`, `*`).
 * Path globs (segments split by "/"): `*` matches within one segment, `**` (a whole segment)
 * matches one or more segments at the end, or zero or more elsewhere; a `{namespace}` segment
 * is the caller's namespace. `{namespace}/*` allows `team-a/db`, not `team-a/db/x`;
 * `{namespace}/**` allows both. Writes are refused unless `allowedWritePaths` allows them.
 */
import { secretPathProblem } from '../config/paths.ts';
import { BackendError } from '../resilience/errors.ts';
import {
  compileNamespaceGlob,
  compilePathGlob,
  NAMESPACE_PLACEHOLDER,
  type TemplatedMatcher,
} from './glob.ts';

export interface TenancyRules {
  readonly allowedNamespaces: readonly string[];
  /** Paths those namespaces may read. */
  readonly allowedPaths: readonly string[];
  /** Paths those namespaces may write; left out or empty: no writes at all. */
  readonly allowedWritePaths?: readonly string[];
}

export type Access = 'read' | 'write';

/** A compiled rule set: returns the denial, or undefined when the call is allowed. */
export type TenancyCheck = (namespace: string, path: string, access: Access) => BackendError | undefined;

export function compileTenancy(backend: string, rules: TenancyRules): TenancyCheck {
  const namespaceDenial = compileNamespaces(backend, rules);
  const paths = {
    read: compilePaths(rules.allowedPaths),
    write: compilePaths(rules.allowedWritePaths ?? []),
  };

  return (namespace, path, access) => {
    const problem = secretPathProblem(path);
    if (problem) {
      return new BackendError('InvalidRequest', `path "${truncate(path)}" is not valid: ${problem}`, {
        backend,
      });
    }
    const denied = namespaceDenial(namespace);
    if (denied) return denied;
    const globs = paths[access];
    if (!globs.some((g) => g.test(path, namespace))) {
      const what = access === 'read' ? 'allowed' : 'writable';
      const field = access === 'read' ? 'allowedPaths' : 'allowedWritePaths';
      return new BackendError(
        'TenancyDenied',
        `path "${path}" is not ${what} for namespace "${namespace}" on backend "${backend}" (${field}: ${ruleText(globs, namespace)})`,
        { backend },
      );
    }
    return undefined;
  };
}

/**
 * A compiled rule for listings (`find`): the denial, or undefined when every path a listing of
 * `prefix` names lies under the fixed start of an `allowedPaths` glob for the namespace — its
 * text before the first `*`, `{namespace}` filled in (`{namespace}/**` → `team-a/`). So a
 * tenant lists its own folder, never "" or another team's: the paths found are still checked
 * one by one, and the ones outside the rules are never read nor named.
 */
export type PrefixCheck = (namespace: string, prefix: string) => BackendError | undefined;

export function compilePrefixTenancy(backend: string, rules: TenancyRules): PrefixCheck {
  const namespaceDenial = compileNamespaces(backend, rules);
  const globs = compilePaths(rules.allowedPaths);
  return (namespace, prefix) => {
    const problem = listPrefixProblem(prefix);
    if (problem) {
      return new BackendError('InvalidRequest', `prefix "${truncate(prefix)}" is not valid: ${problem}`, {
        backend,
      });
    }
    const denied = namespaceDenial(namespace);
    if (denied) return denied;
    if (globs.some((g) => prefix.startsWith(fixedStart(g.glob, namespace)))) return undefined;
    return new BackendError(
      'TenancyDenied',
      `prefix "${prefix}" is not inside the paths allowed for namespace "${namespace}" on backend "${backend}" (allowedPaths: ${ruleText(globs, namespace)})`,
      { backend },
    );
  };
}

/** The text of a path glob before its first `*`, for this namespace: what every match starts with. */
export function fixedStart(glob: string, namespace: string): string {
  const star = glob.indexOf('*');
  return (star < 0 ? glob : glob.slice(0, star)).replaceAll(NAMESPACE_PLACEHOLDER, namespace);
}

/** Why `prefix` cannot start a listing: a secret path's rules, but "" and a trailing "/" allowed. */
export function listPrefixProblem(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  return secretPathProblem(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

function compileNamespaces(
  backend: string,
  rules: TenancyRules,
): (namespace: string) => BackendError | undefined {
  const namespaces = rules.allowedNamespaces.map(compileNamespaceGlob);
  const nsList = rules.allowedNamespaces.join(', ');
  return (namespace) =>
    namespaces.some((n) => n.test(namespace))
      ? undefined
      : new BackendError(
          'TenancyDenied',
          `namespace "${namespace}" may not use backend "${backend}" (allowedNamespaces: ${nsList})`,
          { backend },
        );
}

function compilePaths(globs: readonly string[]): readonly TemplatedMatcher[] {
  return globs.map(compilePathGlob);
}

/** The globs as configured and, when `{namespace}` occurs, as they apply to this namespace. */
function ruleText(globs: readonly TemplatedMatcher[], namespace: string): string {
  if (globs.length === 0) return 'none';
  const list = globs.map((g) => g.glob).join(', ');
  const resolved = globs.map((g) => g.glob.replaceAll(NAMESPACE_PLACEHOLDER, namespace)).join(', ');
  return resolved === list ? list : `${list}; for this namespace: ${resolved}`;
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}
