// The OpenAPI document of the API with the default config, without a server or a cluster:
// `make generate` writes it to docs/api/openapi.json, and a test keeps the two equal.
import { Value } from '@sinclair/typebox/value';
import { ApiSchema, type ApiConfig } from '../../config/schema.ts';
import type { KubeClient } from '../../kube/client.ts';
import { createLogger } from '../../observability/logger.ts';
import { buildApiApp } from './app.ts';

export async function openApiDocument(): Promise<unknown> {
  const refuse = async () => {
    throw new Error('not serving');
  };
  const app = await buildApiApp({
    config: Value.Decode(ApiSchema, Value.Default(ApiSchema, {})) as ApiConfig,
    authenticator: { authenticate: refuse, known: () => undefined },
    authorizer: { authorize: refuse },
    audit: { record: () => {}, close: async () => {} },
    logger: createLogger({ transports: [] }),
    triggers: {
      client: {} as KubeClient,
      vaultSecrets: { get: () => undefined },
      rotations: { get: () => undefined },
    },
    backends: { get: () => undefined },
    issuers: { get: () => undefined, names: () => [], close: async () => {} },
  });
  await app.ready();
  const doc = app.swagger();
  await app.close();
  return doc;
}
