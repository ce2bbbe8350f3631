// Re-validation of a stored spec at the start of every reconcile: the same rules as the CRD
// (OpenAPI schema and the TypeScript twins of its CEL rules, apis/v1alpha1/validation.ts). An
// object stored before a CRD upgrade, or where CEL is not enforced, gets Ready=False InvalidSpec
// instead of a throw (parseDuration, croner) or a hot loop (a 1ms interval). Never throws.
import { type Kind, validateSpec } from '../apis/v1alpha1/index.ts';

/** How many problems the condition message names before "and N more". */
const SHOWN = 3;

/** Undefined when the spec passes the CRD's rules, else one readable message naming the fields. */
export function invalidSpecMessage(kind: Kind, spec: unknown): string | undefined {
  let problems: string[];
  try {
    problems = validateSpec(kind, spec);
  } catch (err) {
    // A rule without a twin is a bug of ours: still refuse rather than act on an unchecked spec.
    return `the spec could not be validated (${err instanceof Error ? err.name : 'error'})`;
  }
  if (problems.length === 0) return undefined;
  const shown = problems.slice(0, SHOWN).join('; ');
  const more = problems.length > SHOWN ? `; and ${problems.length - SHOWN} more` : '';
  return `the spec is invalid (the CRD refuses it today; it was stored before a CRD upgrade or past validation): ${shown}${more}`;
}
