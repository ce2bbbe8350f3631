// PNG plots of a run: Vega-Lite specs compiled to Vega, rendered to SVG headless (no canvas),
// rasterised by resvg (a prebuilt binary shipped in its npm package; no native build, nothing
// fetched at install). Text uses the system's fonts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { type TopLevelSpec, compile } from 'vega-lite';
import type { Series } from './result.ts';

async function renderPng(spec: TopLevelSpec, file: string): Promise<void> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { background: 'white', font: { loadSystemFonts: true } }).render().asPng();
  writeFileSync(file, png);
}

/** At most `max` evenly spaced points of a sorted series (a line of 10,000 points draws the same). */
export function thin<T>(xs: readonly T[], max = 400): T[] {
  if (xs.length <= max) return [...xs];
  const step = (xs.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => xs[Math.round(i * step)]!);
}

/** Rows of a cumulative curve: the nth done at `seconds`, per run. */
export function completionRows(completions: Record<string, number[]>) {
  return Object.entries(completions).flatMap(([run, times]) =>
    thin(times.map((seconds, i) => ({ run, seconds, done: i + 1 }))),
  );
}

/** Rows of an empirical CDF per run: the share of samples at or under `ms` (thinned, max kept). */
export function cdfRows(latencies: Record<string, number[]>) {
  return Object.entries(latencies).flatMap(([run, xs]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return thin(sorted.map((ms, i) => ({ run, ms, share: (i + 1) / sorted.length })));
  });
}

/** The runs whose name starts with `prefix` (one scenario's plot of its own), and the rest. */
export function splitRuns(runs: Record<string, number[]>, prefix: string) {
  const entries = Object.entries(runs);
  return {
    matching: Object.fromEntries(entries.filter(([run]) => run.startsWith(prefix))),
    rest: Object.fromEntries(entries.filter(([run]) => !run.startsWith(prefix))),
  };
}

const line = (title: string, values: object[], x: object, y: object): TopLevelSpec => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title,
  width: 560,
  height: 320,
  data: { values },
  mark: { type: 'line', point: values.length < 60 },
  encoding: { x, y, color: { field: 'run', type: 'nominal', legend: { labelLimit: 400 } } } as never,
});

interface HistoryRow {
  scenario: string;
  resources: number;
  baselineSeconds: number | null;
  vaultsyncSeconds: number | null;
  apiserverRequests: number | null;
  baselineApiserverRequests?: number;
}

/** Cold-sync rows of every run so far (bench/out/history.jsonl), as points against the resource count. */
function scalingRows(outDir: string) {
  const file = join(outDir, 'history.jsonl');
  if (!existsSync(file)) return { time: [], requests: [] };
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as HistoryRow)
    .filter((r) => r.scenario === 'cold');
  return {
    time: rows.flatMap((r) => [
      { run: 'baseline', resources: r.resources, seconds: r.baselineSeconds },
      { run: 'vaultsync', resources: r.resources, seconds: r.vaultsyncSeconds },
    ]),
    requests: rows.flatMap((r) => [
      { run: 'baseline', resources: r.resources, requests: r.baselineApiserverRequests ?? null },
      { run: 'vaultsync', resources: r.resources, requests: r.apiserverRequests },
    ]),
  };
}

/** Writes the run's PNGs into `outDir`; returns their file names. */
export async function writePlots(outDir: string, series: Series): Promise<string[]> {
  const written: string[] = [];
  const save = async (name: string, spec: TopLevelSpec) => {
    await renderPng(spec, join(outDir, name));
    written.push(name);
  };
  const q = (field: string, title: string, scale?: object) => ({
    field,
    type: 'quantitative',
    title,
    ...(scale ? { scale } : {}),
  });
  if (Object.keys(series.completions).length > 0)
    await save(
      'cold-completions.png',
      line(
        'Cold sync: Secrets correct over time',
        completionRows(series.completions),
        q('seconds', 'seconds from the first create'),
        q('done', 'Secrets holding their value'),
      ),
    );
  const cdf = async (name: string, title: string, runs: Record<string, number[]>) => {
    if (Object.keys(runs).length > 0)
      await save(name, line(title, cdfRows(runs), q('ms', 'ms', { type: 'log' }), q('share', 'share ≤ x')));
  };
  // The api scenario's thousands of requests per run get a plot of their own.
  const { matching: apiRuns, rest: otherRuns } = splitRuns(series.latenciesMs, 'api ');
  await cdf('latency-cdf.png', 'Latency distribution (CDF)', otherRuns);
  await cdf('api-latency-cdf.png', 'API at a fixed rate: latency from each scheduled start (CDF)', apiRuns);
  const scaling = scalingRows(outDir);
  if (scaling.time.length > 0) {
    await save(
      'scaling-time.png',
      line(
        'Cold sync time against resource count (every run in history.jsonl)',
        scaling.time,
        q('resources', 'resources'),
        q('seconds', 'seconds'),
      ),
    );
    await save(
      'scaling-requests.png',
      line(
        'Apiserver requests against resource count',
        scaling.requests,
        q('resources', 'resources'),
        q('requests', 'apiserver requests'),
      ),
    );
  }
  return written;
}
