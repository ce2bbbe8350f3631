// Callers of the embedded API in integration tests: ServiceAccount tokens for the API's audience,
// the RBAC a tenant needs, and a call over either transport (HTTPS, gRPC) with one result shape.
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { type KubeClient, createObject } from '../../src/kube/index.ts';
import { apiPackage } from '../../src/grpc/proto.ts';
import { ERROR_CODE_KEY } from '../../src/grpc/status.ts';

/** A token for the API's audience (or, with `audiences: []`, for the kube-apiserver). */
export async function serviceAccountToken(
  client: KubeClient,
  namespace: string,
  name: string,
  audiences: string[] = ['vaultsync'],
): Promise<string> {
  await createObject(client, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name, namespace },
  }).catch(() => undefined);
  const tr = await client.rest.request<{ status: { token: string } }>({
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600, audiences },
    },
  });
  return tr.status.token;
}

/** Every API permission in `namespace`, for one ServiceAccount. */
export async function grantApiUser(
  client: KubeClient,
  namespace: string,
  subject: { namespace: string; name: string },
): Promise<void> {
  await createObject(client, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'vaultsync-api-user', namespace },
    rules: [
      {
        apiGroups: ['vaultsync.io'],
        resources: ['vaultsecrets/sync', 'secretrotations/rotate', 'issuers/issue', 'issuers/sign'],
        verbs: ['create'],
      },
      { apiGroups: ['vaultsync.io'], resources: ['backends/secrets'], verbs: ['get', 'update'] },
    ],
  } as never).catch(() => undefined);
  await createObject(client, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `api-${subject.name}`, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'vaultsync-api-user' },
    subjects: [{ kind: 'ServiceAccount', name: subject.name, namespace: subject.namespace }],
  } as never);
}

export interface HttpsReply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

/** One HTTPS call to the API at `address`, verified with `caPem`. */
export function httpsCall(
  api: { address: string; caPem: string | undefined },
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<HttpsReply> {
  const [host, port] = api.address.split(':');
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host,
        port: Number(port),
        path,
        method,
        ca: api.caPem,
        servername: 'localhost',
        headers: {
          ...(token && { authorization: `Bearer ${token}` }),
          ...(payload !== undefined && { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export interface GrpcReply {
  /** grpc status code (0: OK). */
  code: number;
  /** The API's error code (trailing metadata vaultsync-error-code), if it failed. */
  apiCode?: string;
  details?: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

type Untyped = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** gRPC clients of the API's services (and of health and reflection) at `address`. */
export function grpcClients(address: string, caPem: string | undefined) {
  const creds = grpc.credentials.createSsl(caPem === undefined ? null : Buffer.from(caPem));
  const pkg = apiPackage();
  const require = createRequire(import.meta.url);
  const healthProto = (require('grpc-health-check') as { protoPath: string }).protoPath;
  const reflectionProto = require
    .resolve('@grpc/reflection')
    .replace(/build\/src\/index\.js$/, 'build/proto/grpc/reflection/v1/reflection.proto');
  readFileSync(reflectionProto); // fails clearly if the package layout moved
  const other = grpc.loadPackageDefinition({
    ...loadSync(healthProto),
    ...loadSync(reflectionProto),
  }) as never as {
    grpc: {
      health: { v1: { Health: typeof grpc.Client } };
      reflection: { v1: { ServerReflection: typeof grpc.Client } };
    };
  };
  const make = (ctor: typeof grpc.Client) => new ctor(address, creds) as Untyped;
  const clients = {
    Triggers: make(pkg.Triggers),
    Certificates: make(pkg.Certificates),
    Secrets: make(pkg.Secrets),
    History: make(pkg.History),
    Health: make(other.grpc.health.v1.Health),
    Reflection: make(other.grpc.reflection.v1.ServerReflection),
  };
  const metadataOf = (token?: string) => {
    const m = new grpc.Metadata();
    if (token) m.set('authorization', `Bearer ${token}`);
    return m;
  };
  return {
    clients,
    /** One unary call, answered as a reply (never rejects). */
    unary(
      service: keyof typeof clients,
      method: string,
      request: object,
      token?: string,
    ): Promise<GrpcReply> {
      return new Promise((resolve) =>
        clients[service][method]!(
          request,
          metadataOf(token),
          (err: grpc.ServiceError | null, body: unknown) =>
            resolve(
              err
                ? {
                    code: err.code,
                    details: err.details,
                    apiCode: err.metadata?.get(ERROR_CODE_KEY)[0] as string | undefined,
                    body: undefined,
                  }
                : { code: grpc.status.OK, body },
            ),
        ),
      );
    },
    /** A server-streaming call: every message, then how it ended. */
    stream(service: keyof typeof clients, method: string, request: object, token?: string) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return new Promise<{ items: any[]; code: number; details?: string }>((resolve) => {
        const items: unknown[] = [];
        const call = clients[service][method]!(
          request,
          metadataOf(token),
        ) as grpc.ClientReadableStream<unknown>;
        call.on('data', (m) => items.push(m));
        call.on('error', (err: grpc.ServiceError) =>
          resolve({ items, code: err.code, details: err.details }),
        );
        call.on('end', () => resolve({ items, code: grpc.status.OK }));
      });
    },
    /** The services reflection lists (what `grpcurl list` prints). */
    listServices(): Promise<string[]> {
      return new Promise((resolve, reject) => {
        const call = clients.Reflection.ServerReflectionInfo!() as grpc.ClientDuplexStream<object, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        call.on('data', (m) => {
          resolve((m.listServicesResponse?.service ?? []).map((s: { name: string }) => s.name).sort());
          call.end();
        });
        call.on('error', reject);
        call.write({ listServices: '' });
      });
    },
    close: () => Object.values(clients).forEach((c) => c.close()),
  };
}

/** The SecretRotation the API tests rotate: 16 random bytes (hex) at `<namespace>/rotated`. */
export const apiKeyRotation = (namespace: string) =>
  ({
    apiVersion: 'vaultsync.io/v1alpha1',
    kind: 'SecretRotation',
    metadata: { name: 'api-key', namespace },
    spec: {
      backend: 'vault',
      path: `${namespace}/rotated`,
      interval: '720h',
      generate: { key: { type: 'randomBytes', length: 16, encoding: 'hex' } },
    },
  }) as never;
