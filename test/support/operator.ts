// Runs the real operator in this process against the test bed, with every log line kept
// (tests search them for canary values) and a config built from the bed's addresses.
import { Writable } from 'node:stream';
import winston from 'winston';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startOperator, type RunningOperator } from '../../src/operator.ts';
import { createKubeClient, createObject } from '../../src/kube/index.ts';
import type { Testbed } from './testbed.ts';

export const OPERATOR_NAMESPACE = 'vaultsync-system';

export interface TestOperator extends RunningOperator {
  logs: string[];
}

/** Vault (token auth) and memory backends for namespaces team-*; SecretRotations write `{namespace}/**`. */
export function backendsYaml(
  bed: Testbed,
  opts: { allowedPaths?: string; allowedWritePaths?: string } = {},
): string {
  return `
backends:
  - name: vault
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ["team-*"]
    allowedPaths: ${opts.allowedPaths ?? '["{namespace}/**", "shared/**"]'}
    allowedWritePaths: ${opts.allowedWritePaths ?? '["{namespace}/**"]'}
  - name: memory
    type: memory
    allowedNamespaces: ["team-*"]
    data:
      shared/dev: {greeting: hello}
`;
}

export async function ensureNamespace(kc: KubeConfig, name: string): Promise<void> {
  await createObject(createKubeClient(kc), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch(
    () => undefined,
  );
}

export async function startTestOperator(
  bed: Testbed,
  opts: { leaderElection?: boolean; identity?: string; config?: string; logs?: string[] } = {},
): Promise<TestOperator> {
  const kubeConfig = bed.kubeConfig();
  await ensureNamespace(kubeConfig, OPERATOR_NAMESPACE);
  // The API on a free loopback port and no audit output, unless the test configures them.
  const extra = opts.config ?? backendsYaml(bed);
  const defaults = [
    /^api:/m.test(extra) ? '' : 'api: {address: "127.0.0.1:0"}',
    /^audit:/m.test(extra) ? '' : 'audit: {sink: "off"}',
  ].join('\n');
  const config = await loadConfig(
    {
      text: `
operator:
  namespace: ${OPERATOR_NAMESPACE}
  healthAddress: "127.0.0.1:0"
  metricsAddress: "0"
  logLevel: debug
  annotatePods: true
  leaderElection: {enabled: ${opts.leaderElection ?? false}, leaseDuration: 4s, renewDeadline: 3s, retryPeriod: 500ms}
${defaults}
${extra}`,
    },
    { env: {} },
  );
  const logs = opts.logs ?? [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({
    level: 'debug',
    transports: [new winston.transports.Stream({ stream: sink })],
  });
  const operator = await startOperator({ config, kubeConfig, logger, identity: opts.identity });
  return Object.assign(operator, { logs });
}
