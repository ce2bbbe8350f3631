#!/usr/bin/env node
// vaultsync run --config <file> [--kubeconfig <file>] · vaultsync sidecar --config <file>
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, loadConfig } from './config/index.ts';
import { createLogger } from './observability/logger.ts';
import { startOperator } from './operator.ts';
import { runSidecar } from './sidecar/main.ts';

const usage =
  'usage: vaultsync run --config <file> [--kubeconfig <file>] [--identity <name>]\n' +
  "       vaultsync sidecar --config <file>   (one pod's secrets: docs/sidecar.md)";

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      kubeconfig: { type: 'string' },
      identity: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (!values.help && positionals[0] === 'sidecar' && values.config) return runSidecar(values.config);
  if (values.help || positionals[0] !== 'run' || !values.config) {
    console.error(usage);
    return values.help ? 0 : 2;
  }
  let config;
  try {
    config = await loadConfig({ path: values.config });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ level: config.operator.logLevel });
  const kubeConfig = new KubeConfig();
  if (values.kubeconfig) kubeConfig.loadFromFile(values.kubeconfig);
  else kubeConfig.loadFromDefault();
  const operator = await startOperator({ config, kubeConfig, logger, identity: values.identity });
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
  });
  logger.info('Stopping vaultsync');
  await operator.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`vaultsync: ${(err as Error).message}`);
    process.exit(1);
  },
);
