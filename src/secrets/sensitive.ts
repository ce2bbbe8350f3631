import { inspect } from 'node:util';

const REDACTED = '[REDACTED]';

/**
 * Holds a secret value so that it cannot leak by accident: `String(s)`, template literals,
 * `JSON.stringify`, `util.inspect` / `console.log` and winston all print `[REDACTED]`.
 * The value lives in a private field (not enumerable, not copied by spread or
 * `structuredClone`); `reveal()` is the one explicit way to get it.
 */
export class Sensitive<T> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  /** The wrapped value. Call it only on the data path, right where the value is used. */
  reveal(): T {
    return this.#value;
  }

  /** Derives another sensitive value without exposing this one. */
  map<U>(fn: (value: T) => U): Sensitive<U> {
    return new Sensitive(fn(this.#value));
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }

  static isSensitive(value: unknown): value is Sensitive<unknown> {
    return value instanceof Sensitive;
  }
}

export function sensitive<T>(value: T): Sensitive<T> {
  return new Sensitive(value);
}
