// The rules every backend and issuer shares: coalescing, the patterns of what it allows, and
// the paths of a memory backend's data.
import { parseDuration } from '../../apis/v1alpha1/duration.ts';
import { isObject, type Json } from '../json.ts';
import { domainPatternProblem, ipRangeProblem, uriPatternProblem } from '../name-patterns.ts';
import { pathGlobProblem, roleGlobProblem, secretPathProblem } from '../paths.ts';
import { escapePointer } from '../pointer.ts';
import type { ProblemList } from '../problems.ts';

/** Longest a read result may be shared (`coalesce.ttl`). */
const MAX_COALESCE_TTL_MS = 60_000;

/** Each allow-list field and what makes one of its patterns wrong. */
const PATTERN_FIELDS = [
  ['allowedPaths', pathGlobProblem],
  ['allowedWritePaths', pathGlobProblem],
  ['allowedRoles', roleGlobProblem],
  // Certificate issuers: what they certify (src/issuers/name-policy.ts).
  ['allowedDomains', domainPatternProblem],
  ['allowedUriSans', uriPatternProblem],
  ['allowedIpRanges', ipRangeProblem],
] as const;

export function checkCommon(item: Json, at: string, problems: ProblemList): void {
  const coalesce = item.coalesce;
  if (isObject(coalesce) && typeof coalesce.ttl === 'string' && !problems.has(`${at}/coalesce`)) {
    if (parseDuration(coalesce.ttl) > MAX_COALESCE_TTL_MS) {
      problems.add(`${at}/coalesce/ttl`, 'must be at most 1m (values kept longer would outlive a refresh)');
    }
  }
  for (const [field, problemOf] of PATTERN_FIELDS) {
    const globs = item[field];
    if (!Array.isArray(globs)) continue;
    for (const [i, glob] of globs.entries()) {
      if (typeof glob !== 'string' || problems.has(`${at}/${field}/${i}`)) continue;
      const problem = problemOf(glob);
      if (problem) problems.add(`${at}/${field}/${i}`, problem);
    }
  }
  if (item.type === 'memory' && isObject(item.data)) {
    for (const path of Object.keys(item.data)) {
      const problem = secretPathProblem(path);
      if (problem) problems.add(`${at}/data/${escapePointer(path)}`, `is not a valid path: ${problem}`);
    }
  }
}
