// The one duration grammar of vaultsync — the CRDs' fields and the operator config alike: a Go
// duration without sign ("0", "30s", "1h30m", "1.5h", "500ms", "250us"). The pattern is valid in
// RE2 (apiserver, CEL) and JavaScript, and the CRD schemas and the chart's values schema carry it.

/** A Go duration without sign: "0", "30s", "1h30m", "1.5h", "500ms". */
export const DURATION_PATTERN = '^(0|([0-9]+([.][0-9]+)?(ns|us|µs|ms|s|m|h))+)$';

/** Milliseconds. */
export type Milliseconds = number;

const DURATION_RE = new RegExp(DURATION_PATTERN);
const DURATION_PART_RE = /([0-9]+(?:[.][0-9]+)?)(ns|us|µs|ms|s|m|h)/g;
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export function isDuration(value: string): boolean {
  return DURATION_RE.test(value);
}

/**
 * Parses a duration into milliseconds, exactly (no rounding: the CEL twins compare durations as
 * the apiserver does). Throws a RangeError for anything else.
 */
export function parseDuration(value: string): Milliseconds {
  if (!DURATION_RE.test(value)) throw new RangeError(`invalid duration ${JSON.stringify(value)}`);
  let ms = 0;
  for (const [, amount, unit] of value.matchAll(DURATION_PART_RE)) ms += Number(amount) * UNIT_MS[unit!]!;
  return ms;
}

/** Formats whole milliseconds in the same grammar (`1h30m`, `45s`, `250ms`, `0`). */
export function formatDuration(ms: Milliseconds): string {
  if (ms === 0) return '0';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
