// Prints test/faults/out/results.jsonl (written by the fault suite) as a Markdown table, the
// one docs/reliability.md carries.
import { existsSync, readFileSync } from 'node:fs';
import { type FaultRow, faultsResultsFile } from '../test/faults/report.ts';

if (!existsSync(faultsResultsFile)) {
  console.error(`no fault results in ${faultsResultsFile}: run make faults`);
  process.exit(1);
}
const rows = readFileSync(faultsResultsFile, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as FaultRow & { mode: string });
console.log(
  '| fault | lasted (s) | wrong Secret writes | recovery (s) | requests during the fault | notes |',
);
console.log('|---|---:|---:|---:|---|---|');
for (const r of rows) {
  const requests = Object.entries(r.requestsDuringFault)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const recovery = r.recoverySeconds === null ? 'n/a' : r.recoverySeconds.toFixed(1);
  console.log(
    `| ${r.fault} | ${r.faultSeconds} | ${r.wrongSecretWrites} | ${recovery} | ${requests || '—'} | ${r.notes ?? ''} |`,
  );
}
