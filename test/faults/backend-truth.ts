// The fault suite's wrong-write check. Backend truth: every value a test put into the backend
// (canaries: random per write, so no other source could produce them), kept per target Secret in
// order. Every Secret version the apiserver stored is then compared with that history: a version
// holding anything else (a key missing or extra included), no keys at all, or an older backend
// value after a newer one was written to the Secret, is a wrong write; so is a deletion. Pure, so
// the check itself is tested (checks.test.ts): a detector that sees nothing would report 0 too.
import { randomBytes } from 'node:crypto';
import type { StoredChange } from '../support/api-writes.ts';

export type SecretData = Readonly<Record<string, string>>;

export interface WrongWrite {
  secret: string;
  resourceVersion: string;
  /** Never a value: what was wrong about it. */
  why: 'deleted' | 'blanked' | 'not from the backend' | 'older than what it held';
}

/** A canonical text of a Secret's data (keys sorted), for comparing versions. */
function canonical(data: SecretData): string {
  return JSON.stringify(Object.entries(data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export class BackendTruth {
  /** Per Secret name: the canonical data of every backend version, oldest first. */
  readonly #history = new Map<string, string[]>();
  readonly #latest = new Map<string, SecretData>();

  /**
   * The next backend value for `secret` (recorded before the caller writes it: the operator may
   * read it the moment the backend has it).
   */
  next(secret: string): SecretData {
    const generation = (this.#history.get(secret)?.length ?? 0) + 1;
    return this.record(secret, {
      v: `canary-${secret}-${generation}-${randomBytes(6).toString('hex')}`,
      gen: String(generation),
    });
  }

  /** Records `data` as the backend's next value for `secret` (call it before the backend has it). */
  record(secret: string, data: SecretData): SecretData {
    this.#history.set(secret, [...(this.#history.get(secret) ?? []), canonical(data)]);
    this.#latest.set(secret, data);
    return data;
  }

  latest(secret: string): SecretData | undefined {
    return this.#latest.get(secret);
  }

  get secrets(): string[] {
    return [...this.#history.keys()];
  }

  /** Position of `data` in the backend history of `secret` (-1: the backend never held it). */
  indexOf(secret: string, data: SecretData): number {
    return this.#history.get(secret)?.indexOf(canonical(data)) ?? -1;
  }
}

/** A Secret's data as text (the apiserver returns base64). */
export function decodeSecretData(obj: unknown): Record<string, string> {
  const data = (obj as { data?: Record<string, string> } | undefined)?.data ?? {};
  return Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}

/**
 * Every stored Secret version in `changes` (in the order the apiserver stored them; changes of
 * other resources are skipped) that does not hold backend truth. Pass all changes since the
 * Secrets were created: the "older" check needs what each Secret held before. `secretOf` names
 * a version's entry in `truth` (default: the Secret's name).
 */
export function wrongSecretWrites(
  changes: readonly StoredChange[],
  truth: BackendTruth,
  secretOf: (c: StoredChange) => string = (c) => c.name,
): WrongWrite[] {
  const wrong: WrongWrite[] = [];
  const newest = new Map<string, number>();
  for (const c of changes) {
    if (c.resource !== 'secrets') continue;
    const secret = secretOf(c);
    const at = { secret, resourceVersion: c.resourceVersion };
    if (c.type === 'DELETED') {
      wrong.push({ ...at, why: 'deleted' });
      continue;
    }
    const data = decodeSecretData(c.after);
    if (Object.keys(data).length === 0) {
      wrong.push({ ...at, why: 'blanked' });
      continue;
    }
    const index = truth.indexOf(secret, data);
    if (index < 0) {
      wrong.push({ ...at, why: 'not from the backend' });
      continue;
    }
    if (index < (newest.get(secret) ?? -1)) wrong.push({ ...at, why: 'older than what it held' });
    newest.set(secret, Math.max(index, newest.get(secret) ?? -1));
  }
  return wrong;
}

/** A wrong write as `secret@resourceVersion (why)`: never a value. */
export const describeWrongWrite = (w: WrongWrite): string => `${w.secret}@${w.resourceVersion} (${w.why})`;
