/**
 * `vaultsync sidecar --config <file>`: one pod's secrets, read with the pod's own identity.
 * Builds the backend stack the operator uses (tenancy, coalescing with the cache age, breaker,
 * token bucket, timeout: `backends/registry.ts`), serves the read routes on a Unix socket or a
 * loopback address, and stops cleanly on SIGTERM so a Job's pod can complete.
 */
import { chmod, lstat, readFile, unlink } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { kubeSecretsApi } from '../backends/kube-client.ts';
import { createBackends, type BackendRegistry } from '../backends/registry.ts';
import { readSecretFile } from '../config/files.ts';
import { ConfigError } from '../config/problems.ts';
import type { Logger } from '../observability/logger.ts';
import { listenTarget, parseSidecarFile, sidecarConfig, type ListenTarget } from './config.ts';
import { audienceProblem, identityFromToken, projectedTokenSource, type PodIdentity } from './identity.ts';
import { buildSidecarApp } from './server.ts';
import { takeWebIdentity, webIdentityProviders } from './web-identity.ts';

export interface Sidecar {
  readonly identity: PodIdentity;
  /** The socket path, or `host:port`. */
  readonly address: string;
  /** Stops listening (the socket file goes), lets requests in flight finish, closes the backends. */
  stop(): Promise<void>;
}

export interface SidecarStart {
  readonly configPath: string;
  readonly logger: (level: string) => Logger;
}

export async function startSidecar(opts: SidecarStart): Promise<Sidecar> {
  const file = parseSidecarFile(await readConfigText(opts.configPath), opts.configPath);
  const { settings } = file;
  const logger = opts.logger(settings.logLevel);
  const tokenPath = settings.serviceAccountToken.path;
  const token = await readSecretFile(tokenPath).catch((err: unknown) => {
    throw new Error(
      `the pod's ServiceAccount token: ${(err as Error).message} (a projected token volume, docs/sidecar.md)`,
    );
  });
  const identity = identityFromToken(token.reveal());
  const wrongAudience = audienceProblem(identity, settings.serviceAccountToken.audience);
  if (wrongAudience) throw new Error(wrongAudience);
  const web = takeWebIdentity(file.backends);
  if (web.problems.length > 0) throw new ConfigError(file.name, [...web.problems]);
  const config = await sidecarConfig({ ...file, backends: web.backends }, identity);
  const aws = await webIdentityProviders(config.backends, web.byBackend, tokenPath, identity, readSecretFile);
  const backends = createBackends(config, {
    tokenSource: projectedTokenSource(tokenPath, readSecretFile),
    readSecretFile,
    awsCredentials: (name) => aws.get(name),
    // Only a `kubernetes` backend talks to the apiserver, with the pod's own token.
    ...(config.backends.some((b) => b.type === 'kubernetes') && { secrets: kubeSecretsApi(inCluster()) }),
  });
  let app: FastifyInstance | undefined;
  try {
    app = await buildSidecarApp({ identity, backends, settings, logger });
    const target = listenTarget(settings.listen);
    const address = await listen(app, target);
    logger.info('Sidecar serving', {
      address,
      namespace: identity.namespace,
      serviceAccount: identity.serviceAccount,
      backends: backends.names(),
    });
    return { identity, address, stop: () => stop(app!, backends, target, settings.shutdownTimeout, logger) };
  } catch (err) {
    await app?.close();
    await backends.close();
    throw err;
  }
}

async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read the sidecar config ${path}: ${(err as { code?: string }).code ?? 'read failed'}`,
    );
  }
}

function inCluster(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

async function listen(app: FastifyInstance, target: ListenTarget): Promise<string> {
  if (target.kind === 'tcp') {
    await app.listen({ host: target.host, port: target.port });
    const bound = app.server.address();
    return typeof bound === 'object' && bound
      ? `${target.host}:${bound.port}`
      : `${target.host}:${target.port}`;
  }
  await removeStaleSocket(target.path);
  // Created owner-only, then opened up to the configured mode: never briefly wider.
  const umask = process.umask(0o177);
  try {
    await app.listen({ path: target.path });
  } finally {
    process.umask(umask);
  }
  await chmod(target.path, target.mode);
  return target.path;
}

/** A socket left by a killed predecessor (the volume outlives container restarts) is replaced. */
async function removeStaleSocket(path: string): Promise<void> {
  const found = await lstat(path).catch(() => undefined);
  if (!found) return;
  if (!found.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  await unlink(path);
}

async function stop(
  app: FastifyInstance,
  backends: BackendRegistry,
  target: ListenTarget,
  graceMs: number,
  logger: Logger,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
  const closed = app.close().then(() => 'closed' as const);
  if ((await Promise.race([closed, grace])) === 'late') {
    logger.warn('Requests still in flight after the shutdown timeout; closing anyway', { graceMs });
    app.server.closeAllConnections();
  }
  clearTimeout(timer);
  if (target.kind === 'socket') await unlink(target.path).catch(() => undefined);
  await backends.close();
}
