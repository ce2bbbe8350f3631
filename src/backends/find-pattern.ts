/**
 * The name filter of a find (`dataFrom[].find.name.regexp`): RE2 syntax, matched by re2js (the
 * JavaScript port of RE2) against the whole path, so matching takes time linear in the path
 * whatever the pattern — no backtracking to exploit. What RE2 has no syntax for (backreferences,
 * lookaround) fails to compile and is refused; so is a pattern longer than the CRD allows.
 */
import { RE2JS } from 're2js';
import { RE2_PATTERN_MAX_LENGTH, re2Problem } from '../apis/v1alpha1/re2.ts';

/** Why `pattern` cannot filter a find, or undefined when it can. Pure; reused at reconcile. */
export function findPatternProblem(pattern: string): string | undefined {
  if (pattern.length > RE2_PATTERN_MAX_LENGTH) {
    return `must be at most ${RE2_PATTERN_MAX_LENGTH} characters`;
  }
  const problem = re2Problem(pattern);
  return problem && `is not an RE2 regular expression (${problem})`;
}

/** A test of whole paths against `pattern` (checked first with `findPatternProblem`). */
export function compileFindPattern(pattern: string): (path: string) => boolean {
  const re = RE2JS.compile(pattern);
  return (path) => re.matches(path);
}
