// The gRPC server's TLS, health and renewal, with a certificate from an in-memory CA (the API's
// operations are behind fakes here; test/api-transports.test.ts runs them against the real bed).
import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProto } from 'grpc-health-check';
import { loadConfig } from '../config/index.ts';
import { createApiCa, parseApiCa } from '../http/api/ca.ts';
import { createApiCore } from '../http/api/core.ts';
import { signServingMaterial } from '../http/api/tls.ts';
import type { KubeClient } from '../kube/client.ts';
import { createLogger } from '../observability/logger.ts';
import { startGrpcServer } from './server.ts';

/** The serial number of the certificate served at `address`. */
function servedSerial(address: string, caPem: string): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port), ca: caPem, ALPNProtocols: ['h2'] }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('gRPC server', function () {
  this.timeout(20_000);

  it('serves health over TLS with the API certificate, and a renewed one after reload', async () => {
    const config = await loadConfig(
      { text: 'backends: [{name: mem, type: memory, allowedNamespaces: ["*"]}]\napi: {}\n' },
      { env: {} },
    );
    const core = createApiCore({
      config: config.api!,
      authenticator: { authenticate: async () => undefined, known: () => undefined },
      authorizer: { authorize: async () => ({ allowed: false }) },
      audit: { record: () => {}, close: async () => {} },
      logger: createLogger({ level: 'error' }),
      triggers: {
        client: {} as KubeClient,
        vaultSecrets: { get: () => undefined },
        rotations: { get: () => undefined },
      },
      backends: { get: () => undefined },
      issuers: { get: () => undefined, names: () => [], close: async () => {} },
    });
    const made = await createApiCa('test');
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const ca = parseApiCa({ 'ca.crt': b64(made.certPem), 'ca.key': b64(made.keyPem) }, 'test/ca');
    const first = await signServingMaterial(ca, ['localhost']);
    const running = await startGrpcServer(core, '127.0.0.1:0', first);
    try {
      const serial = await servedSerial(running.address, ca.certPem);
      const { Health } = (
        grpc.loadPackageDefinition(loadSync(healthProto)) as unknown as {
          grpc: { health: { v1: { Health: typeof grpc.Client } } };
        }
      ).grpc.health.v1;
      const client = new Health(
        running.address,
        grpc.credentials.createSsl(Buffer.from(ca.certPem)),
      ) as grpc.Client &
        Record<string, (req: object, cb: (err: unknown, res: { status: unknown }) => void) => void>;
      const check = (service: string) =>
        new Promise<unknown>((resolve, reject) =>
          client.Check!({ service }, (err, res) => (err ? reject(err) : resolve(res.status))),
        );
      assert.ok([1, 'SERVING'].includes((await check('vaultsync.v1.Secrets')) as never));
      client.close();

      await running.reload(await signServingMaterial(ca, ['localhost']));
      const renewed = await servedSerial(running.address, ca.certPem);
      assert.notEqual(renewed, serial, 'the renewed certificate is served');
    } finally {
      await running.close();
    }
  });
});
