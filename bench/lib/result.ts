// One row of bench/out/summary.json: the common fields, then the scenario's own.
import { loadavg } from 'node:os';
import type { Counts } from './counters.ts';
import { isNoisy, round } from './figures.ts';

export interface ScenarioResult {
  scenario: string;
  resources: number;
  uniquePaths: number;
  baselineSeconds: number | null;
  vaultsyncSeconds: number | null;
  /** vaultsync's time over the baseline's (lower is better; 1 = as fast as the script). */
  ratio: number | null;
  backendReads: number | null;
  apiserverRequests: number | null;
  apiserverMutations: number | null;
  heapBytesPerResource: number | null;
  /** The two baselines of the sandwich differ by more than 15 % (null: no sandwich). */
  noisy: boolean | null;
  /** The machine's 1/5/15-minute load averages when the scenario started and ended. */
  loadStart: number[];
  loadEnd: number[];
  /** The goal of the issue this row is judged by, and whether it was met. */
  goal: string;
  goalMet: boolean | null;
  [field: string]: unknown;
}

export const loadNow = (): number[] => loadavg().map((x) => round(x) ?? 0);

/** The sandwich's verdict: the baselines' mean, the ratio, and whether they agree within 15 %. */
export function sandwich(first: number, second: number, vaultsync: number) {
  const baseline = (first + second) / 2;
  return {
    baselineSeconds: round(baseline),
    baselineFirstSeconds: round(first),
    baselineSecondSeconds: round(second),
    vaultsyncSeconds: round(vaultsync),
    ratio: round(vaultsync / baseline),
    noisy: isNoisy(first, second),
  };
}

/** Per-scenario series for the plots (not in summary.json: they can be long). */
export interface Series {
  /** Seconds at which the nth resource was done, per run ("baseline 1", "vaultsync", ...). */
  completions: Record<string, number[]>;
  /** Latency samples in ms, per run. */
  latenciesMs: Record<string, number[]>;
}

/** The servers' counts of vaultsync's side as the summary's fields. */
export const countFields = (c: Counts) => ({
  backendReads: c.backendReads,
  apiserverRequests: c.requests,
  apiserverMutations: c.mutations,
  requestsByKind: c.byKind,
});
