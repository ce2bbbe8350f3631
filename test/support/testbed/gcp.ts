// Google Secret Manager for the bed: the gRPC fake in this directory (no emulator can be had
// here; see gcp-secret-manager-fake.ts), started as its own process on loopback.
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { spawnManaged, waitUntil, type ManagedProcess } from './processes.ts';

export interface GcpFake {
  /** gRPC `host:port` (plain text). */
  endpoint: string;
  /** HTTP admin address of the fake (throttle switch, call log). */
  admin: string;
  process: ManagedProcess;
}

export async function startGcpFake(dir: string, group: ManagedProcess[]): Promise<GcpFake> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const script = join(import.meta.dirname, 'gcp-secret-manager-fake.ts');
  const process = spawnManaged(
    'gcp-secret-manager-fake',
    globalThis.process.execPath,
    [script, '--port', String(port), '--admin-port', String(adminPort)],
    { logDir: join(dir, 'logs'), group },
  );
  const admin = `http://127.0.0.1:${adminPort}`;
  await waitUntil('gcp-secret-manager-fake', async () => (await fetch(`${admin}/healthz`)).ok, {
    timeoutMs: 30_000,
    process,
  });
  return { endpoint: `127.0.0.1:${port}`, admin, process };
}
