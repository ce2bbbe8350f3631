// A private test bed for a fault case that breaks it (freezes, restarts or seals what it runs):
// started in a temp dir and stopped after, so later test files in the same mocha run get a
// healthy shared bed. The cloud fakes stay off unless asked for: no fault case uses them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Testbed, type TestbedOptions, startTestbed } from '../support/testbed/index.ts';
import { killGroup } from '../support/testbed/processes.ts';

const killOnExit = new Map<Testbed, () => void>();

/** Starts a bed in a new temp dir named after `name`; its processes die with this one. */
export async function startPrivateBed(
  name: string,
  opts: Omit<TestbedOptions, 'dir' | 'log'> = {},
): Promise<Testbed> {
  const dir = mkdtempSync(join(tmpdir(), `vaultsync-faults-${name}-`));
  const bed = await startTestbed({
    dir,
    aws: false,
    gcp: false,
    azure: false,
    ...opts,
    log: (line) => console.log(`      [private testbed] ${line}`),
  });
  // An interrupted run (Ctrl-C, a mocha timeout with --exit) leaves no bed behind.
  const kill = () => {
    for (const p of bed.processes) killGroup(p.pid, 'SIGKILL');
  };
  process.once('exit', kill);
  killOnExit.set(bed, kill);
  return bed;
}

/**
 * Stops the bed and removes its dir; VAULTSYNC_KEEP_FAULT_BED=1 keeps the dir (the operator's,
 * the apiserver's and OpenBao's logs, the audit logs).
 */
export async function stopPrivateBed(bed: Testbed | undefined): Promise<void> {
  if (!bed) return;
  // A process a failed case left frozen (SIGSTOP) would not stop.
  for (const p of bed.processes) killGroup(p.pid, 'SIGCONT');
  await bed.stop();
  const kill = killOnExit.get(bed);
  if (kill) process.removeListener('exit', kill);
  killOnExit.delete(bed);
  if (process.env.VAULTSYNC_KEEP_FAULT_BED) console.log(`      [private testbed] kept in ${bed.dir}`);
  else rmSync(bed.dir, { recursive: true, force: true });
}
