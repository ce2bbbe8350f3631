// Starts the API over HTTPS. With user-provided files the certificate is re-read when they
// change (a renewed Secret mounted into the pod) and swapped in without dropping connections.
import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { ApiConfig } from '../../config/index.ts';
import type { Logger } from '../../observability/logger.ts';
import { type ApiAppOptions, buildApiApp } from './app.ts';
import { type ServingMaterial, fileStamp, generateServingMaterial, readServingMaterial } from './tls.ts';

export interface RunningApi {
  app: FastifyInstance;
  /** "127.0.0.1:8443". */
  address: string;
  /** PEM of the in-memory CA (generated certificate only). */
  caPem?: string;
  close(): Promise<void>;
}

const RELOAD_CHECK_MS = 30_000;

export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host || '0.0.0.0', port: Number(address.slice(i + 1)) };
}

export async function startApiServer(
  opts: Omit<ApiAppOptions, 'https'> & { dnsNames: readonly string[]; logger: Logger },
): Promise<RunningApi | undefined> {
  const config: ApiConfig = opts.config;
  if (config.address === '0') return undefined;
  const files =
    config.tls.certFile && config.tls.keyFile ? [config.tls.certFile, config.tls.keyFile] : undefined;
  const material: ServingMaterial = files
    ? await readServingMaterial(files[0]!, files[1]!)
    : await generateServingMaterial([...opts.dnsNames, ...config.tls.dnsNames]);
  const app = await buildApiApp({ ...opts, https: { cert: material.cert, key: material.key } });
  const { host, port } = splitAddress(config.address);
  await app.listen({ host, port });

  let timer: NodeJS.Timeout | undefined;
  if (files) {
    let stamp = await fileStamp(...files);
    timer = setInterval(() => {
      void (async () => {
        const now = await fileStamp(...files);
        if (now === stamp) return;
        const next = await readServingMaterial(files[0]!, files[1]!);
        (app.server as HttpsServer).setSecureContext({ cert: next.cert, key: next.key });
        stamp = now;
        opts.logger.info('Reloaded the API serving certificate', { certFile: files[0] });
      })().catch((err: unknown) =>
        opts.logger.warn('Could not reload the API serving certificate', { error: (err as Error).message }),
      );
    }, RELOAD_CHECK_MS);
    timer.unref();
  }
  const bound = app.server.address();
  return {
    app,
    address: bound && typeof bound === 'object' ? `${bound.address}:${bound.port}` : config.address,
    ...(material.caPem && { caPem: material.caPem }),
    close: async () => {
      clearInterval(timer);
      await app.close();
    },
  };
}
