// dataFrom[].find: ask the backend which paths match (backends/guard.ts lists, filters by name
// and tags, checks every found path against the tenancy rules and bounds the result; one list is
// shared by the resources asking the same within the sharing window, like reads), then decide
// whether the result may be read at all. The other paths a tenant's find touched are never named:
// a refusal gives their count and the prefix only.
import { FIND_DEFAULTS, VaultSecretReason } from '../../apis/v1alpha1/index.ts';
import type { VaultSecretFind, VaultSecretSpec } from '../../apis/v1alpha1/index.ts';
import type { Backend, CallContext, FindRequest, FoundPaths } from '../../backends/types.ts';
import { canonicalJson } from '../shared/canonical-json.ts';
import { Failure } from '../failure/index.ts';

/** What the backend is asked for a find entry. */
export function findRequest(find: VaultSecretFind): FindRequest {
  return {
    prefix: find.path ?? '',
    ...(find.tags !== undefined && Object.keys(find.tags).length > 0 && { tags: find.tags }),
    ...(find.name !== undefined && { name: find.name.regexp }),
    maxItems: find.maxItems ?? FIND_DEFAULTS.maxItems,
  };
}

/** A find entry as a refresh source (refresh.ts): resources with the same find share slots. */
export const findSourceKey = (find: VaultSecretFind): string => `find:${canonicalJson(findRequest(find))}`;

/** The finds of a spec, by their dataFrom index. */
export function findEntries(spec: VaultSecretSpec): [number, VaultSecretFind][] {
  return (spec.dataFrom ?? []).flatMap((item, index) =>
    item.find ? [[index, item.find] as [number, VaultSecretFind]] : [],
  );
}

const where = (req: FindRequest): string =>
  req.prefix === '' ? 'in the whole backend' : `under "${req.prefix}"`;

/**
 * Why a find result may not be used, or undefined. Paths outside the tenancy rules refuse the
 * whole find (TenancyDenied): a find that reaches into another team's paths is a mistake or a
 * probe, and a partial result would hide it. More matches than maxItems: TooManyMatches.
 */
export function foundProblem(index: number, req: FindRequest, found: FoundPaths): Failure | undefined {
  const entry = `dataFrom[${index}].find`;
  if (found.refused > 0) {
    return new Failure(
      VaultSecretReason.TenancyDenied,
      `${entry} matched ${found.refused} secret(s) ${where(req)} outside the paths this namespace may read (the backend's allowedPaths); none was read: narrow path, name or tags to this namespace's paths`,
    );
  }
  if (found.truncated) {
    return new Failure(
      VaultSecretReason.TooManyMatches,
      `${entry} matched more than maxItems (${req.maxItems}) secrets ${where(req)}; none was read: narrow path, name or tags, or raise maxItems (at most 1000)`,
    );
  }
  return undefined;
}

/** Runs every find of the spec; the paths each found, by dataFrom index. Throws a Failure. */
export async function findAll(
  spec: VaultSecretSpec,
  backend: Backend,
  ctx: CallContext,
): Promise<Map<number, readonly string[]>> {
  const entries = findEntries(spec);
  if (entries.length === 0) return new Map();
  const find = backend.find?.bind(backend);
  if (!find) {
    throw new Failure(
      VaultSecretReason.InvalidRequest,
      `backend "${backend.name}" (${backend.type}) cannot list secrets: dataFrom[].find needs a backend that lists; use extract with a path`,
    );
  }
  const results = await Promise.all(
    entries.map(async ([index, entry]) => {
      const req = findRequest(entry);
      const found = await find(req, ctx);
      const problem = foundProblem(index, req, found);
      if (problem) throw problem;
      return [index, found.paths] as const;
    }),
  );
  return new Map(results);
}
