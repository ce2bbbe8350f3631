// How results are printed: kubectl-style tables (no borders, columns padded by the `table`
// package), JSON or YAML; and times as kubectl shows them (5m, 3h, 2d).
import { getBorderCharacters, table } from 'table';
import { stringify } from 'yaml';
import { UsageError } from './kinds.ts';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function outputFormat(value: string | undefined): OutputFormat {
  const format = value ?? 'table';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`unknown output format "${format}": use json or yaml (default: a table)`);
  }
  return format as OutputFormat;
}

/** A machine-readable document: JSON (2-space indent) or YAML, ending with a newline. */
export function formatDocument(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value);
}

// `table` refuses control characters; a message with a newline becomes one line.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]+/g;

/** Columns left-aligned, three spaces apart, headers in capitals, as `kubectl get` prints them. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  return formatColumns([headers.map((h) => h.toUpperCase()), ...rows]);
}

/** Rows in aligned columns, three spaces apart; an empty cell shows as `-`. */
export function formatColumns(rows: readonly (readonly string[])[], indent = ''): string {
  const cells = rows.map((row) => row.map((cell) => (cell === '' ? '-' : cell.replace(CONTROL, ' '))));
  const text = table(cells, {
    border: getBorderCharacters('void'),
    columnDefault: { paddingLeft: 0, paddingRight: 3 },
    drawHorizontalLine: () => false,
  });
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .map((line) => indent + line)
    .join('\n')
    .concat('\n');
}

/** A span as kubectl prints ages: 45s, 12m, 5h, 3d, 2y (never negative). */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  return d < 730 ? `${d}d` : `${Math.floor(d / 365)}y`;
}

/** `12m ago`, `in 3h`, or `-` when there is no time. */
export function relativeTime(iso: string | undefined, now: number): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '-';
  return t <= now ? `${humanDuration(now - t)} ago` : `in ${humanDuration(t - now)}`;
}
