// Starts the API over HTTPS with one of two certificates: the user's files (re-read when they
// change, e.g. a renewed Secret mounted into the pod), or one signed for this replica by the CA
// every replica shares (ca.ts), re-signed before it expires. Either is swapped in without
// dropping connections. The CA bundle clients verify with is published in the ConfigMap
// `vaultsync-api-ca` (the shared CA, or the user's `caFile`).
import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { ApiConfig } from '../../config/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { retryTransient } from '../../kube/retry-transient.ts';
import type { Logger } from '../../observability/logger.ts';
import { type RunningGrpc, startGrpcServer } from '../../grpc/server.ts';
import { type ApiAppOptions, buildApiApp } from './app.ts';
import { API_CA_NAME, loadOrCreateApiCa, publishCaBundle } from './ca.ts';
import { createApiCore } from './core.ts';
import { type ServingMaterial, fileStamp, readServingMaterial, signServingMaterial } from './tls.ts';

export interface RunningApi {
  app: FastifyInstance;
  /** "127.0.0.1:8443". */
  address: string;
  /** Where the gRPC API listens, when api.grpc.address is set. */
  grpcAddress?: string;
  /** The CA bundle clients verify the API with (as published in the ConfigMap), if known. */
  caPem?: string;
  close(): Promise<void>;
}

export interface ApiServerOptions extends Omit<ApiAppOptions, 'https'> {
  /** Names for a CA-signed certificate (the config's `tls.dnsNames` are added). */
  dnsNames: readonly string[];
  logger: Logger;
  /** Where the shared CA is kept and the bundle published: the operator's namespace. */
  kube: { client: KubeClient; namespace: string };
  now?: () => number;
}

const RELOAD_CHECK_MS = 30_000;

export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host || '0.0.0.0', port: Number(address.slice(i + 1)) };
}

/** Where the serving material comes from, and whether it is time to take it again. */
interface MaterialSource {
  describe: string;
  load(): Promise<ServingMaterial>;
  /** True when `load()` would now give something new. */
  due(current: ServingMaterial): Promise<boolean>;
}

async function materialSource(opts: ApiServerOptions): Promise<MaterialSource> {
  const { tls } = opts.config;
  const now = opts.now ?? Date.now;
  if (tls.certFile && tls.keyFile) {
    const files = [tls.certFile, tls.keyFile, ...(tls.caFile ? [tls.caFile] : [])];
    let stamp = '';
    return {
      describe: tls.certFile,
      async load() {
        const next = await fileStamp(...files);
        const material = await readServingMaterial(tls.certFile!, tls.keyFile!, tls.caFile);
        stamp = next; // only once read: a failed read is tried again on the next check
        return material;
      },
      due: async () => (await fileStamp(...files)) !== stamp,
    };
  }
  const ca = await retryTransient('API CA', () => loadOrCreateApiCa(opts.kube.client, opts.kube.namespace), {
    logger: opts.logger,
  });
  const names = [...opts.dnsNames, ...tls.dnsNames];
  return {
    describe: `a certificate from the CA in Secret ${opts.kube.namespace}/${API_CA_NAME}`,
    load: () => signServingMaterial(ca, names, now()),
    due: async (current) => current.renewAt !== undefined && now() >= current.renewAt,
  };
}

export async function startApiServer(opts: ApiServerOptions): Promise<RunningApi | undefined> {
  const config: ApiConfig = opts.config;
  if (config.address === '0') return undefined;
  const source = await materialSource(opts);
  let material = await source.load();
  const publish = async (caPem: string | undefined) => {
    if (caPem === undefined) return;
    const result = await publishCaBundle(opts.kube.client, opts.kube.namespace, caPem);
    if (result !== 'unchanged')
      opts.logger.info('Published the API CA bundle', {
        configMap: `${opts.kube.namespace}/${API_CA_NAME}`,
        result,
      });
  };
  await retryTransient('API CA bundle', () => publish(material.caPem), { logger: opts.logger });
  const core = createApiCore(opts);
  const app = await buildApiApp({ ...opts, core, https: { cert: material.cert, key: material.key } });
  const { host, port } = splitAddress(config.address);
  await app.listen({ host, port });
  // The same certificate, gate, audit and operations over gRPC.
  let grpc: RunningGrpc | undefined;
  if (config.grpc.address !== '0') {
    grpc = await startGrpcServer(core, config.grpc.address, material);
    opts.logger.info('Serving the API over gRPC', { address: grpc.address });
  }

  const timer = setInterval(() => {
    void (async () => {
      if (!(await source.due(material))) return;
      const next = await source.load();
      (app.server as HttpsServer).setSecureContext({ cert: next.cert, key: next.key });
      await grpc?.reload(next);
      const caChanged = next.caPem !== material.caPem;
      material = next;
      opts.logger.info('Renewed the API serving certificate', { from: source.describe });
      if (caChanged) await publish(next.caPem);
    })().catch((err: unknown) =>
      opts.logger.warn('Could not renew the API serving certificate', { error: (err as Error).message }),
    );
  }, RELOAD_CHECK_MS);
  timer.unref();

  const bound = app.server.address();
  return {
    app,
    address: bound && typeof bound === 'object' ? `${bound.address}:${bound.port}` : config.address,
    ...(grpc && { grpcAddress: grpc.address }),
    get caPem() {
      return material.caPem;
    },
    close: async () => {
      clearInterval(timer);
      await Promise.all([app.close(), grpc?.close()]);
    },
  };
}
