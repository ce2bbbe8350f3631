// Regular expressions users write in a spec (dataFrom[].find.name.regexp, dataFrom[].rewrite):
// RE2 syntax, checked at admission by CEL and again at reconcile with re2js, the JavaScript port
// of RE2, which matches in linear time — so a pattern never backtracks, whatever its nesting.
import { Type } from '@sinclair/typebox';
import { RE2JS } from 're2js';
import { cel } from './common.ts';

/** Longest pattern accepted. */
export const RE2_PATTERN_MAX_LENGTH = 256;

/** Why RE2 refuses the pattern (its parser's message), or undefined when it compiles. */
export function re2Problem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const LOOKAROUND = ['(?=', '(?!', '(?<=', '(?<!'];
// A quantifier closing a group that is quantified again: (a+)+, (x*)*, (y{2,}){3}.
const NESTED_QUANTIFIER = '[*+}][?]?[)]+[*+{]';

/**
 * A regular expression in RE2 syntax. CEL refuses lookaround and nested quantifiers by name, so
 * the message says what to change; the last rule compiles the pattern with the apiserver's RE2
 * (matches() with the pattern as its argument), which refuses backreferences and anything else
 * RE2 does not have, quoting RE2's parser. (No backslash may appear in a CEL rule here.)
 */
export function Re2Pattern(description: string) {
  return Type.String({
    description,
    minLength: 1,
    maxLength: RE2_PATTERN_MAX_LENGTH,
    'x-kubernetes-validations': [
      cel<string>(
        LOOKAROUND.map((l) => `!self.contains('${l}')`).join(' && '),
        'lookaround ((?=, (?!, (?<=, (?<!) is not RE2 syntax: match the text itself, or use a capture group',
        (s) => !LOOKAROUND.some((l) => s.includes(l)),
      ),
      cel<string>(
        `!self.matches('${NESTED_QUANTIFIER}')`,
        'nested quantifiers such as (a+)+ are refused: write the group once, e.g. (a+) or a+',
        (s) => !new RegExp(NESTED_QUANTIFIER).test(s),
      ),
      cel<string>(
        "'x'.matches(self) || !'x'.matches(self)",
        'must be a valid RE2 regular expression: no backreferences (\\1), no lookaround, repeats at most {1000}',
        (s) => re2Problem(s) === undefined,
      ),
    ],
  });
}
