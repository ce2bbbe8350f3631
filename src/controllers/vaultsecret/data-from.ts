// The keys spec.dataFrom gives: an extract entry copies every key of one remote secret; a find
// entry gives, as External Secrets Operator does, one key per found secret — its path with '/'
// replaced by '_', holding the whole secret — or, with merge, every key of every found secret.
// Each entry's key names then go through its rewrites. Entries are merged in order: a key two
// sources would both write is a KeyConflict naming both (only two extract entries keep the older
// rule: the later wins). Pure; values stay Buffers the caller keeps inside Sensitive.
import type { VaultSecretDataFromItem } from '../../apis/v1alpha1/index.ts';
import { VaultSecretReason } from '../../apis/v1alpha1/index.ts';
import type { RemoteSecret } from '../../backends/types.ts';
import { Failure } from '../failure/index.ts';
import { showKey } from './secret-limits.ts';
import { compileRewrites } from './rewrite.ts';

/** The whole remote secret as one value: its only value, or all keys as a JSON object. */
export function wholeSecret(secret: RemoteSecret): Buffer {
  const data = secret.data.reveal();
  if (data.size === 1) return [...data.values()][0] as Buffer;
  const obj: Record<string, string> = {};
  for (const [k, v] of [...data.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) obj[k] = v.toString('utf8');
  return Buffer.from(JSON.stringify(obj), 'utf8');
}

/** The key a found secret gets (without merge): its path, '/' replaced by '_' (shop/db → shop_db). */
export const foundKey = (path: string): string => path.replaceAll('/', '_');

/** One key an entry gives, and where it came from (a path, and the remote key when copied). */
export interface SourcedValue {
  readonly key: string;
  readonly value: Buffer;
  readonly from: string;
}

const copied = (path: string, key: string) => `${path} (key ${showKey(key)})`;

/** What one entry gives before its rewrites: `read` returns what was read of a path. */
function entryValues(
  item: VaultSecretDataFromItem,
  found: readonly string[],
  read: (path: string, version?: string) => RemoteSecret,
): SourcedValue[] {
  if (item.extract) {
    const { path, version } = item.extract;
    return [...read(path, version).data.reveal()].map(([key, value]) => ({
      key,
      value,
      from: copied(path, key),
    }));
  }
  if (item.find?.merge === true)
    return found.flatMap((path) =>
      [...read(path).data.reveal()].map(([key, value]) => ({ key, value, from: copied(path, key) })),
    );
  return found.map((path) => ({ key: foundKey(path), value: wholeSecret(read(path)), from: path }));
}

function conflict(key: string, first: string, second: string, index: number): Failure {
  return new Failure(
    VaultSecretReason.KeyConflict,
    `dataFrom[${index}]: the key ${showKey(key)} would come from both ${first} and ${second}; ` +
      'give one of them another name with dataFrom[].rewrite, or narrow the find',
  );
}

/**
 * The keys and values of spec.dataFrom, in order. `found[i]` lists the paths the find of entry i
 * found (sorted); `read` returns what was read of a path. Throws Failure(KeyConflict).
 */
export function dataFromValues(
  items: readonly VaultSecretDataFromItem[],
  found: ReadonlyMap<number, readonly string[]>,
  read: (path: string, version?: string) => RemoteSecret,
): Map<string, Buffer> {
  const values = new Map<string, Buffer>();
  const sources = new Map<string, { from: string; find: boolean }>();
  items.forEach((item, index) => {
    const rename = compileRewrites(item.rewrite);
    const own = new Map<string, string>();
    for (const { key: original, value, from } of entryValues(item, found.get(index) ?? [], read)) {
      const key = rename(original);
      const mine = own.get(key);
      if (mine !== undefined) throw conflict(key, mine, from, index);
      const earlier = sources.get(key);
      if (earlier && (earlier.find || item.find)) throw conflict(key, earlier.from, from, index);
      own.set(key, from);
      sources.set(key, { from, find: item.find !== undefined });
      values.set(key, value);
    }
  });
  return values;
}
