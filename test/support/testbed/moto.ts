// moto server: a local AWS Secrets Manager for the cloud backend tests.
import { join } from 'node:path';
import { binary } from './paths.ts';
import { freePort } from './ports.ts';
import { spawnManaged, waitUntil, type ManagedProcess } from './processes.ts';

export interface Moto {
  endpoint: string;
  process: ManagedProcess;
}

export async function startMoto(dir: string, group: ManagedProcess[]): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const process = spawnManaged(
    'moto',
    binary('moto', 'moto_server'),
    ['-H', '127.0.0.1', '-p', String(port)],
    {
      logDir: join(dir, 'logs'),
      group,
    },
  );
  await waitUntil('moto', async () => (await fetch(`${endpoint}/moto-api/`)).ok, {
    timeoutMs: 30_000,
    process,
  });
  return { endpoint, process };
}
