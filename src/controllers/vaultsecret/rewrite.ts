// dataFrom[].rewrite: key names rewritten by RE2 regular expressions, in order, as External
// Secrets Operator does (Go's Regexp.ReplaceAllString: every match replaced, the target expanded
// like Regexp.Expand). re2js matches in linear time, so no pattern can make a reconcile hang.
// Pure; key names are not secret and may be named, values never pass through here.
import { RE2JS } from 're2js';
import type { VaultSecretRewrite } from '../../apis/v1alpha1/index.ts';

type Matcher = ReturnType<RE2JS['matcher']>;

/** Go's Regexp.Expand reference: `$name`, `${name}` (name: letters, digits, '_'), `$$`. */
const REFERENCE = /^\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/;

/** The value of a group reference for the current match: by number or by name; unknown is empty. */
function groupValue(m: Matcher, name: string): string {
  if (/^[0-9]+$/.test(name)) {
    const n = Number(name);
    return n <= m.groupCount() ? (m.group(n) ?? '') : '';
  }
  return name in m.pattern().namedGroups() ? (m.group(name) ?? '') : '';
}

/** The target with its references filled in from the current match (Go's Expand; a lone `$` stays). */
export function expandTarget(target: string, m: Matcher): string {
  let out = '';
  let rest = target;
  while (rest.length > 0) {
    const at = rest.indexOf('$');
    if (at < 0) return out + rest;
    out += rest.slice(0, at);
    rest = rest.slice(at);
    if (rest.startsWith('$$')) {
      out += '$';
      rest = rest.slice(2);
      continue;
    }
    const ref = REFERENCE.exec(rest);
    if (!ref) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    out += groupValue(m, (ref[1] ?? ref[2])!);
    rest = rest.slice(ref[0].length);
  }
  return out;
}

/** Every match of `pattern` in `key` replaced by the expanded target (Go's ReplaceAllString). */
function replaceAll(pattern: RE2JS, key: string, target: string): string {
  const m = pattern.matcher(key);
  let out = '';
  let from = 0;
  let afterMatch = false;
  while (m.find()) {
    // As Go: an empty match right after a match is not one (a* on "baaac" gives XbXcX).
    if (afterMatch && m.start() === m.end() && m.start() === from) continue;
    out += key.slice(from, m.start()) + expandTarget(target, m);
    afterMatch = true;
    from = m.end();
  }
  return out + key.slice(from);
}

/** A key renamer for a dataFrom entry's rewrites (identity without any). Throws on a non-RE2 source. */
export function compileRewrites(rules: readonly VaultSecretRewrite[] | undefined): (key: string) => string {
  const steps = (rules ?? []).map(({ regexp }) => ({
    pattern: RE2JS.compile(regexp.source),
    target: regexp.target,
  }));
  return (key) => steps.reduce((k, { pattern, target }) => replaceAll(pattern, k, target), key);
}
