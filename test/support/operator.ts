// Runs the real operator in this process against the test bed as it ships (the chart's identity
// and RBAC, least-privilege OpenBao credentials), with every log line kept (tests search them for
// canary values) and a config built from the bed's addresses.
import { Writable } from 'node:stream';
import winston from 'winston';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startOperator, type RunningOperator } from '../../src/operator.ts';
import { createKubeClient, createObject } from '../../src/kube/index.ts';
import { forbiddenLines, installShippedIdentity, withLeastPrivilegeVault } from './shipped.ts';
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

/** The chart's release the tests install: ServiceAccount `vaultsync` in OPERATOR_NAMESPACE. */
const RELEASE = 'vaultsync';

export interface ShippedOperatorFiles {
  /** The operator config: the chart's rendering of the test's backends and issuers, bed addresses. */
  configText: string;
  /** Holds nothing but a token of the chart's ServiceAccount. */
  kubeConfig: KubeConfig;
}

/**
 * What the operator runs with in these tests, as shipped: the chart rendered with the test's
 * backends and issuers, its ServiceAccount and RBAC applied, and OpenBao's root token replaced by
 * Kubernetes auth with a least-privilege policy (test/support/shipped.ts).
 */
export async function shippedOperatorConfig(
  bed: Testbed,
  opts: { leaderElection?: boolean; config?: string } = {},
): Promise<ShippedOperatorFiles> {
  await ensureNamespace(bed.kubeConfig(), OPERATOR_NAMESPACE);
  const doc = (parse(opts.config ?? backendsYaml(bed)) ?? {}) as Record<string, unknown>;
  const operatorIdentity = { namespace: OPERATOR_NAMESPACE, serviceAccount: RELEASE };
  const [backends, issuers] = await Promise.all(
    (['backends', 'issuers'] as const).map((k) =>
      withLeastPrivilegeVault(bed, operatorIdentity, (doc[k] as Record<string, unknown>[] | undefined) ?? []),
    ),
  );
  const shipped = await installShippedIdentity(bed, RELEASE, OPERATOR_NAMESPACE, {
    config: {
      // Operator features a test turns on (e.g. annotatePods) change what the chart grants.
      ...(doc.operator ? { operator: doc.operator } : {}),
      backends: backends!.length ? backends : [{ name: 'memory', type: 'memory', allowedNamespaces: ['*'] }],
      ...(issuers!.length ? { issuers } : {}),
    },
    audit: { sink: 'off' },
  });
  const rendered = shipped.config;
  // The API on a free loopback port and no audit output, unless the test configures them.
  const configText = stringify({
    operator: {
      ...rendered.operator,
      namespace: OPERATOR_NAMESPACE,
      healthAddress: '127.0.0.1:0',
      metricsAddress: '0',
      logLevel: 'debug',
      leaderElection: {
        enabled: opts.leaderElection ?? false,
        leaseDuration: '4s',
        renewDeadline: '3s',
        retryPeriod: '500ms',
      },
    },
    backends: rendered.backends, // the chart renders issuers into this list too
    api: doc.api ?? { address: '127.0.0.1:0' },
    audit: doc.audit ?? { sink: 'off' },
    ...(doc.webhooks ? { webhooks: doc.webhooks } : {}),
  });
  return { configText, kubeConfig: shipped.kubeConfig };
}

/**
 * Runs the operator in this process as shipped (shippedOperatorConfig). `stop()` fails the test
 * when the operator logged a refusal (403, PermissionDenied) that `allowForbidden` does not match.
 */
export async function startTestOperator(
  bed: Testbed,
  opts: {
    leaderElection?: boolean;
    identity?: string;
    config?: string;
    logs?: string[];
    /** Refusals this test provokes on purpose (matched against each log line). */
    allowForbidden?: RegExp;
  } = {},
): Promise<TestOperator> {
  const shipped = await shippedOperatorConfig(bed, opts);
  const config = await loadConfig({ text: shipped.configText }, { env: {} });
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
  const operator = await startOperator({
    config,
    kubeConfig: shipped.kubeConfig,
    logger,
    identity: opts.identity,
  });
  const stop = operator.stop.bind(operator);
  return Object.assign(operator, {
    logs,
    async stop() {
      await stop();
      const refused = forbiddenLines(logs).filter((l) => !opts.allowForbidden?.test(l));
      if (refused.length > 0) {
        throw new Error(
          `the operator (chart RBAC, least-privilege OpenBao) was refused ${refused.length} time(s):\n${refused.slice(0, 5).join('\n')}`,
        );
      }
    },
  });
}
