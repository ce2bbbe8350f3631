// `vaultsync sidecar --config <file>`: runs until SIGTERM or SIGINT, then exits 0 once the
// socket is closed (a native sidecar is stopped that way when a Job's containers are done).
import { ConfigError } from '../config/problems.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { startSidecar } from './run.ts';

export async function runSidecar(configPath: string): Promise<number> {
  let logger: Logger | undefined;
  let sidecar;
  try {
    sidecar = await startSidecar({
      configPath,
      logger: (level) => (logger = createLogger({ level: level as 'info' })),
    });
  } catch (err) {
    // A bad config or token: a clear line and exit 2, never a stack (nor anything read).
    console.error(err instanceof ConfigError ? err.message : `vaultsync sidecar: ${(err as Error).message}`);
    return 2;
  }
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
  });
  logger?.info('Stopping the sidecar');
  await sidecar.stop();
  return 0;
}
