// One test bed per test run, started on first use and stopped by the root hook in hooks.ts
// (and on SIGINT/SIGTERM). A bed from `make testbed-up` is reused when
// VAULTSYNC_TESTBED_DIR points at it; that one is left running.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachTestbed, startTestbed, type Testbed } from './testbed/index.ts';
import { killGroup } from './testbed/processes.ts';

export type { Testbed };

let shared: Promise<Testbed> | undefined;
let owned: Testbed | undefined;

export function testbed(): Promise<Testbed> {
  shared ??= acquire();
  return shared;
}

async function acquire(): Promise<Testbed> {
  const existing = process.env.VAULTSYNC_TESTBED_DIR;
  if (existing) {
    const bed = attachTestbed(existing);
    if (bed) return bed;
    throw new Error(`VAULTSYNC_TESTBED_DIR=${existing} names no running test bed (run make testbed-up)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'vaultsync-testbed-'));
  owned = await startTestbed({ dir, log: (line) => console.log(`      [testbed] ${line}`) });
  installSignalTeardown(dir);
  return owned;
}

export async function stopOwnedTestbed(): Promise<void> {
  if (owned) {
    await owned.stop();
    rmSync(owned.dir, { recursive: true, force: true });
  }
  owned = undefined;
  shared = undefined;
}

function installSignalTeardown(dir: string): void {
  const killSync = () => {
    // pids.json is the record; read it synchronously so this also works on 'exit'.
    try {
      const pids = JSON.parse(readFileSync(join(dir, 'pids.json'), 'utf8')) as { pid: number }[];
      for (const p of pids) killGroup(p.pid, 'SIGKILL');
    } catch {
      // nothing recorded
    }
  };
  process.once('exit', killSync);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killSync();
      process.exit(130);
    });
  }
}
