/**
 * Check-and-set for services with no conditional write (AWS, Google, Azure): the current
 * version is read first and compared here, so two writers racing between the two calls both
 * succeed — what the docs of each backend say.
 */
import { checkAndSetFailed } from '../../resilience/errors.ts';

/** Throws Conflict when `cas` is given and the current version is another (`missing`: none). */
export function requireCurrent(
  path: string,
  cas: string | undefined,
  current: string | undefined,
  missing: string,
  backend: string,
): void {
  if (cas === undefined || cas === current) return;
  throw checkAndSetFailed(`"${path}"`, cas, current ? `found ${current}` : missing, backend);
}
