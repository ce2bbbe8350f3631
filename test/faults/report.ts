// The fault suite's figures: every case reports one row (what was broken, for how long, what
// the operator did meanwhile, how long it took to recover). Rows are appended as JSON lines to
// test/faults/out/results.jsonl; `make faults` prints them as the table in docs/reliability.md.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '../support/testbed/paths.ts';

export interface FaultRow {
  /** What was broken, e.g. "OpenBao frozen (SIGSTOP)". */
  fault: string;
  /** How long the fault lasted, in seconds. */
  faultSeconds: number;
  /** Secret writes that put data not from the backend (or blanked it): must be 0. */
  wrongSecretWrites: number;
  /** From the end of the fault until every resource was correct again (null: not measured). */
  recoverySeconds: number | null;
  /** Requests the operator sent during the fault, by target (e.g. { openbao: 12, apiserver: 3 }). */
  requestsDuringFault: Record<string, number>;
  /** Anything else the case measured (short, no secret values). */
  notes?: string;
}

export const faultsResultsFile = join(repoRoot, 'test/faults/out/results.jsonl');

/**
 * `full` (make faults) runs every case at the durations the issue names; `quick` (make test)
 * runs the cases that fit, with shorter faults, asserting the same properties.
 */
export function faultsMode(): 'quick' | 'full' {
  return process.env.FAULTS === 'full' ? 'full' : 'quick';
}

/** Records one row and prints it (mocha shows it under the test). */
export function reportFault(row: FaultRow): void {
  mkdirSync(dirname(faultsResultsFile), { recursive: true });
  const line = { ...row, mode: faultsMode(), at: new Date().toISOString() };
  appendFileSync(faultsResultsFile, JSON.stringify(line) + '\n');
  const requests = Object.entries(row.requestsDuringFault)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(
    `      fault: ${row.fault} for ${row.faultSeconds} s — wrong Secret writes ${row.wrongSecretWrites}, ` +
      `recovery ${row.recoverySeconds === null ? 'n/a' : `${row.recoverySeconds.toFixed(1)} s`}, ` +
      `requests during the fault: ${requests || 'none'}${row.notes ? ` (${row.notes})` : ''}`,
  );
}
