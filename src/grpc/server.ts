// The API over gRPC (off unless api.grpc.address is set), beside the HTTPS server and sharing
// its certificate, its admission gate, audit writer and operations (http/api/core.ts). Also
// serves the standard grpc.health.v1 service and server reflection (what grpcurl lists with).
// A renewed certificate is taken by binding a new server and draining the old one.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProto } from 'grpc-health-check';
import type { ApiCore } from '../http/api/core.ts';
import { apiPackage, apiPackageDefinition } from './proto.ts';
import { certificateHandlers, historyHandlers, secretHandlers, triggerHandlers } from './services.ts';

const GRPC_SERVICES = [
  'vaultsync.v1.Triggers',
  'vaultsync.v1.Certificates',
  'vaultsync.v1.Secrets',
  'vaultsync.v1.History',
];

export interface GrpcTls {
  cert: string;
  key: string;
}

export interface RunningGrpc {
  /** "127.0.0.1:9443". */
  readonly address: string;
  /** Serves with a renewed certificate (new calls; calls under way finish on the old one). */
  reload(tls: GrpcTls): Promise<void>;
  close(): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 5_000;

function buildServer(core: ApiCore): Server {
  const definition = apiPackageDefinition();
  const pkg = apiPackage(definition);
  // Messages no larger than the HTTPS API's bodies (api.bodyLimit): RESOURCE_EXHAUSTED beyond.
  const server = new Server({ 'grpc.max_receive_message_length': core.config.bodyLimit });
  server.addService(pkg.Triggers.service, triggerHandlers(core));
  server.addService(pkg.Certificates.service, certificateHandlers(core));
  server.addService(pkg.Secrets.service, secretHandlers(core));
  server.addService(pkg.History.service, historyHandlers(core));
  const health = new HealthImplementation({
    '': 'SERVING',
    ...Object.fromEntries(GRPC_SERVICES.map((s) => [s, 'SERVING' as const])),
  });
  health.addToServer(server);
  new ReflectionService({ ...definition, ...loadSync(healthProto) }).addToServer(server);
  return server;
}

const credentials = (tls: GrpcTls) =>
  ServerCredentials.createSsl(
    null,
    [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
    false,
  );

function bind(server: Server, address: string, tls: GrpcTls): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, credentials(tls), (err, port) => (err ? reject(err) : resolve(port))),
  );
}

/** Ends the server's calls gracefully, forcibly after the grace. */
function drain(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

/** `:9443` → `0.0.0.0:9443`; `[::1]:9443` as it is. */
const listenAddress = (address: string) => (address.startsWith(':') ? `0.0.0.0${address}` : address);

export async function startGrpcServer(core: ApiCore, address: string, tls: GrpcTls): Promise<RunningGrpc> {
  let server = buildServer(core);
  const port = await bind(server, listenAddress(address), tls);
  const host = listenAddress(address).slice(0, listenAddress(address).lastIndexOf(':'));
  const bound = `${host}:${port}`;
  return {
    address: bound,
    async reload(next) {
      const old = server;
      await old.unbind(bound);
      server = buildServer(core);
      await bind(server, bound, next);
      await drain(old);
    },
    close: () => drain(server),
  };
}
