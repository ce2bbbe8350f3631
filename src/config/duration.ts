/** Durations in the config are strings such as `500ms`, `30s`, `5m`, `1h30m` (or `0`). */
export const DURATION_PATTERN = '^(0|([0-9]+(\\.[0-9]+)?(ms|s|m|h))+)$';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
const WHOLE = new RegExp(DURATION_PATTERN);

/** Milliseconds. */
export type Milliseconds = number;

/** Parses a duration string; throws a plain Error on bad input (validated by the schema first). */
export function parseDuration(text: string): Milliseconds {
  if (!WHOLE.test(text)) throw new Error(`invalid duration '${text}'`);
  if (text === '0') return 0;
  let ms = 0;
  for (const m of text.matchAll(PART)) {
    ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return Math.round(ms);
}

/** Formats milliseconds the way the config writes them (`1h30m`, `45s`, `250ms`). */
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
