// The problems found in one config file, collected so that every one is reported at once.
import type { TSchema } from '@sinclair/typebox';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { pointerToPath } from './pointer.ts';
import { describeSchemaError } from './schema-messages.ts';

export interface ConfigProblem {
  /** Field path such as `backends[1].tls.caFile`, or `(file)` / `(yaml)`. */
  readonly path: string;
  readonly message: string;
}

/** The config is unusable; `problems` lists every problem found (schema problems first, then rules). */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  readonly source: string;

  constructor(source: string, problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.path}: ${p.message}`);
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`Invalid operator config ${source} (${count}):\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.source = source;
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ ...p })));
  }
}

/**
 * The problems of one file, in the order found. Rules ask `has` before reading a field, so a
 * field the schema already refused is not reported twice.
 */
export class ProblemList {
  readonly #problems: ConfigProblem[] = [];
  /** JSON pointers whose value came from the environment, with the variable's name. */
  readonly fromEnv = new Map<string, string>();

  get count(): number {
    return this.#problems.length;
  }

  /** A problem without a field (the file, the YAML). */
  push(problem: ConfigProblem): void {
    this.#problems.push(problem);
  }

  add(pointer: string, message: string): void {
    const env = this.fromEnv.get(pointer);
    const path = pointerToPath(pointer) + (env ? ` (from ${env})` : '');
    this.#problems.push({ path, message });
  }

  /** Whether a problem was already reported at this pointer or below it. */
  has(pointer: string): boolean {
    const path = pointerToPath(pointer);
    return this.#problems.some(
      (p) => p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`),
    );
  }

  /** Whether a problem was reported at exactly this pointer. */
  hasAt(pointer: string): boolean {
    const path = pointerToPath(pointer);
    return this.#problems.some((p) => p.path === path);
  }

  /** Every schema error of `value`, once per field, under `prefix`. */
  addSchemaErrors(schema: TSchema, value: unknown, prefix: string): void {
    const errors = [...Value.Errors(schema, value)];
    const required = new Set(
      errors.filter((e) => e.type === ValueErrorType.ObjectRequiredProperty).map((e) => e.path),
    );
    const seen = new Set<string>();
    for (const e of errors) {
      if (e.type !== ValueErrorType.ObjectRequiredProperty && required.has(e.path)) continue;
      if (seen.has(e.path)) continue;
      // An error inside an array or object already reported as wrong as a whole adds nothing.
      if ([...seen].some((p) => e.path.startsWith(`${p}/`))) continue;
      seen.add(e.path);
      this.add(prefix + e.path, describeSchemaError(e));
    }
  }

  /** Throws the `ConfigError` listing every problem. */
  fail(source: string): never {
    throw new ConfigError(source, this.#problems);
  }
}

/** Each repeat of an earlier value (`undefined` never counts): its index → the first one's. */
export function repeats(values: readonly unknown[]): Map<number, number> {
  const first = new Map<unknown, number>();
  const out = new Map<number, number>();
  for (const [i, v] of values.entries()) {
    if (v === undefined) continue;
    const at = first.get(v);
    if (at === undefined) first.set(v, i);
    else out.set(i, at);
  }
  return out;
}
