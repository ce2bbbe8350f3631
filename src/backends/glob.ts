/**
 * The globs of the tenancy rules (namespaces, secret paths, issuer roles), compiled once into
 * matchers that use no regular expressions: `*` parts are found left to right with `indexOf`
 * and `**` runs of path segments the same way, one segment group at a time. Leftmost placement
 * is always right here (each part matches a fixed-length stretch), so a match never backtracks
 * and costs time linear in the subject's length for a given glob. `{namespace}` is compared
 * with the caller's namespace at match time; nothing is compiled per call.
 *
 * The syntax rules (which globs are refused, and why) are in `config/paths.ts`.
 */
import { pathGlobProblem, roleGlobProblem } from '../config/paths.ts';

export const NAMESPACE_PLACEHOLDER = '{namespace}';

/** Matches a namespace name. */
export interface NamespaceMatcher {
  readonly glob: string;
  test(namespace: string): boolean;
}

/** Matches a subject (a secret path or an issuer role) for the caller's namespace. */
export interface TemplatedMatcher {
  readonly glob: string;
  test(subject: string, namespace: string): boolean;
}

/** Namespace glob: `*` matches any run of characters (`team-*`, `*-prod`, `*`). */
export function compileNamespaceGlob(glob: string): NamespaceMatcher {
  const parts = starParts(glob);
  return { glob, test: (namespace) => matchStars(parts, namespace) };
}

/**
 * Path glob, segments split by "/": `*` matches within one segment; `**` (a whole segment,
 * runs of them count as one) matches one or more segments at the end of the glob, zero or
 * more elsewhere; a `{namespace}` segment matches exactly the caller's namespace.
 * Throws on a glob `pathGlobProblem` refuses.
 */
export function compilePathGlob(glob: string): TemplatedMatcher {
  const problem = pathGlobProblem(glob);
  if (problem) throw new Error(`invalid path glob "${glob}": ${problem}`);
  const segments: (Segment | typeof ANY)[] = [];
  for (const text of glob.split('/')) {
    if (text === '**') {
      if (segments.at(-1) !== ANY) segments.push(ANY);
    } else {
      segments.push(segmentMatcher(text));
    }
  }
  const plan = planOf(segments);
  return { glob, test: (path, namespace) => matchSegments(plan, path.split('/'), namespace) };
}

/**
 * Role glob: one role name (no "/"); `*` matches any run of characters except "/", and
 * `{namespace}` the caller's namespace where `roleGlobProblem` allows it (a whole name, or set
 * off by "." or "_", with no `*` before it). Throws on a glob `roleGlobProblem` refuses.
 */
export function compileRoleGlob(glob: string): TemplatedMatcher {
  const problem = roleGlobProblem(glob);
  if (problem) throw new Error(`invalid role glob "${glob}": ${problem}`);
  const parts = starParts(glob);
  // No `*` comes before `{namespace}`, so only the first part can hold it.
  const [first = '', ...rest] = parts;
  const templated = first.includes(NAMESPACE_PLACEHOLDER);
  return {
    glob,
    test: (role, namespace) =>
      !role.includes('/') &&
      matchStars(templated ? [first.replaceAll(NAMESPACE_PLACEHOLDER, namespace), ...rest] : parts, role),
  };
}

// ---------------------------------------------------------------------------------------------

/** The literal parts between `*`s (runs of `*` count as one): `a*b` → ["a", "b"]. */
function starParts(glob: string): readonly string[] {
  return glob.split(/\*+/);
}

/** Whether `s` matches the parts: `parts[0]` a prefix, the last a suffix, the rest in order. */
function matchStars(parts: readonly string[], s: string): boolean {
  const first = parts[0] ?? '';
  if (parts.length === 1) return s === first;
  const last = parts[parts.length - 1] ?? '';
  if (s.length < first.length + last.length || !s.startsWith(first) || !s.endsWith(last)) return false;
  const end = s.length - last.length;
  let at = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] ?? '';
    const found = s.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

const ANY = Symbol('**');
/** One glob segment, as a test of one path segment. */
type Segment = (segment: string, namespace: string) => boolean;

function segmentMatcher(text: string): Segment {
  if (text === NAMESPACE_PLACEHOLDER) return (s, namespace) => s === namespace;
  if (text === '*') return () => true;
  if (!text.includes('*')) return (s) => s === text;
  const parts = starParts(text);
  return (s) => matchStars(parts, s);
}

/**
 * A path glob split at its `**`s: `head` matches the first segments, `tail` the last ones,
 * each of `groups` somewhere in between, in order. `exact`: there is no `**`.
 */
interface Plan {
  readonly exact: boolean;
  readonly head: readonly Segment[];
  readonly groups: readonly (readonly Segment[])[];
  readonly tail: readonly Segment[];
  /** The glob ends with `**`, which must match at least one segment. */
  readonly openEnd: boolean;
}

function planOf(segments: readonly (Segment | typeof ANY)[]): Plan {
  const chunks: Segment[][] = [[]];
  for (const s of segments) {
    if (s === ANY) chunks.push([]);
    else chunks[chunks.length - 1]?.push(s);
  }
  const head = chunks[0] ?? [];
  if (chunks.length === 1) return { exact: true, head, groups: [], tail: [], openEnd: false };
  return {
    exact: false,
    head,
    groups: chunks.slice(1, -1),
    tail: chunks[chunks.length - 1] ?? [],
    openEnd: segments.at(-1) === ANY,
  };
}

function matchSegments(plan: Plan, path: readonly string[], namespace: string): boolean {
  const n = path.length;
  const { head, tail } = plan;
  if (plan.exact) return n === head.length && matchRun(head, path, 0, namespace);
  const end = n - tail.length - (plan.openEnd ? 1 : 0);
  if (head.length > end) return false;
  if (!matchRun(head, path, 0, namespace) || !matchRun(tail, path, n - tail.length, namespace)) return false;
  let at = head.length;
  for (const group of plan.groups) {
    let found = -1;
    for (let start = at; start + group.length <= end; start++) {
      if (matchRun(group, path, start, namespace)) {
        found = start;
        break;
      }
    }
    if (found < 0) return false;
    at = found + group.length;
  }
  return true;
}

/** Whether `run` matches the path segments from `start` on, one segment each. */
function matchRun(
  run: readonly Segment[],
  path: readonly string[],
  start: number,
  namespace: string,
): boolean {
  // Index loops: this is the inner loop of every match.
  for (let i = 0; i < run.length; i++) {
    const segment = run[i];
    const s = path[start + i];
    if (segment === undefined || s === undefined || !segment(s, namespace)) return false;
  }
  return true;
}
