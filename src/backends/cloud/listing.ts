/**
 * What the cloud backends (AWS, Google, Azure) share when they list (`BackendAdapter.list`): the
 * services filter loosely or not at all (AWS by prefix, Google by substring, Azure not), so
 * every listed name is checked here exactly — the path prefix, every tag — and names a path
 * cannot read back to are left out: listing never names what a read would refuse.
 */
import { flatName, SEGMENT_SEPARATOR, type NameRules } from './value.ts';

/** Every wanted pair is present with exactly that value (case-sensitive, as the services store them). */
export function hasEveryTag(
  have: Readonly<Record<string, string>> | undefined,
  want: Readonly<Record<string, string>> | undefined,
): boolean {
  return Object.entries(want ?? {}).every(
    ([key, value]) => have !== undefined && Object.hasOwn(have, key) && have[key] === value,
  );
}

/** `[{Key, Value}]` (AWS) as a record; entries without a key are dropped. */
export function tagRecord(
  tags: readonly { Key?: string; Value?: string }[] | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/**
 * The path a flat secret name stands for (`team-a--db` → `team-a/db`), or undefined when the
 * name is not one `flatName` makes (`a---b`, upper case where the rules forbid it): such a
 * secret cannot be read by any path, so it is not listed.
 */
export function pathOfFlatName(name: string, rules: NameRules): string | undefined {
  const path = name.split(SEGMENT_SEPARATOR).join('/');
  try {
    return flatName(path, rules, '') === name ? path : undefined;
  } catch {
    return undefined;
  }
}

/** The flat-name prefix of a path prefix: `team-a/` → `team-a--`, `team-a/d` → `team-a--d`. */
export function flatPrefix(prefix: string): string {
  return prefix.split('/').join(SEGMENT_SEPARATOR);
}

/** The readable paths of one page: mapped, under the prefix, carrying every tag; sorted. */
export function listedPaths<T>(
  items: readonly T[],
  pathOf: (item: T) => string | undefined,
  tagsOf: (item: T) => Readonly<Record<string, string>> | undefined,
  req: { readonly prefix: string; readonly tags?: Readonly<Record<string, string>> | undefined },
): string[] {
  const paths: string[] = [];
  for (const item of items) {
    const path = pathOf(item);
    if (path === undefined || !path.startsWith(req.prefix)) continue;
    if (hasEveryTag(tagsOf(item), req.tags)) paths.push(path);
  }
  return paths.sort();
}
