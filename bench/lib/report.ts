// The bench's outputs: summary.json (one object per scenario), the Markdown table printed and
// written to summary.md, and history.jsonl (every run's rows appended, so plots against the
// resource count gain a point with every run at another BENCH_RESOURCES).
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScenarioResult } from './result.ts';

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  return String(v);
};

const COLUMNS: [string, (r: ScenarioResult) => unknown][] = [
  ['scenario', (r) => r.scenario],
  ['resources', (r) => r.resources],
  ['paths', (r) => r.uniquePaths],
  ['baseline s', (r) => r.baselineSeconds],
  ['vaultsync s', (r) => r.vaultsyncSeconds],
  ['ratio', (r) => r.ratio],
  ['backend reads', (r) => r.backendReads],
  ['apiserver requests', (r) => r.apiserverRequests],
  ['mutations', (r) => r.apiserverMutations],
  ['heap B/resource', (r) => r.heapBytesPerResource],
  ['noisy', (r) => r.noisy],
  ['load start → end', (r) => `${r.loadStart[0]} → ${r.loadEnd[0]}`],
  ['goal met', (r) => r.goalMet],
];

/** The Markdown table of the rows, then one line per scenario with its goal and own figures. */
export function markdownTable(rows: readonly ScenarioResult[]): string {
  const head = `| ${COLUMNS.map(([h]) => h).join(' | ')} |`;
  const rule = `| ${COLUMNS.map(() => '---').join(' | ')} |`;
  const body = rows.map((r) => `| ${COLUMNS.map(([, f]) => cell(f(r))).join(' | ')} |`);
  const notes = rows.map((r) => `- **${r.scenario}** — goal: ${r.goal}. ${details(r)}`);
  return [head, rule, ...body, '', ...notes].join('\n');
}

const COMMON = new Set([
  'scenario',
  'resources',
  'uniquePaths',
  'baselineSeconds',
  'vaultsyncSeconds',
  'ratio',
  'backendReads',
  'apiserverRequests',
  'apiserverMutations',
  'heapBytesPerResource',
  'noisy',
  'loadStart',
  'loadEnd',
  'goal',
  'goalMet',
]);

/** The scenario's own fields, as `name value` pairs. */
function details(r: ScenarioResult): string {
  return Object.entries(r)
    .filter(([k]) => !COMMON.has(k))
    .map(([k, v]) => `${k} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : cell(v)}`)
    .join('; ');
}

/**
 * Writes summary.json and summary.md (after every scenario, so a run that fails later keeps what
 * it measured); with `final`, also appends the rows to history.jsonl.
 */
export function writeSummary(
  outDir: string,
  rows: readonly ScenarioResult[],
  run: Record<string, unknown>,
  final = false,
): string {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'summary.json'), `${JSON.stringify(rows, null, 2)}\n`);
  const md = markdownTable(rows);
  writeFileSync(join(outDir, 'summary.md'), `${md}\n\nRun: ${JSON.stringify(run)}\n`);
  if (final)
    for (const r of rows)
      appendFileSync(join(outDir, 'history.jsonl'), `${JSON.stringify({ ...run, ...r })}\n`);
  return md;
}
