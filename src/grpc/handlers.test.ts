// The gRPC adapters with fakes for authentication, authorisation and the audit sink
// (test/api-transports.test.ts runs them against the real bed): what a streamed batchGet sends,
// and that with audit.failClosed nothing is sent before its audit line is written.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Metadata, type ServerWritableStream, type ServiceError, status } from '@grpc/grpc-js';
import { createBackends } from '../backends/registry.ts';
import { loadConfig } from '../config/index.ts';
import type { KubeClient } from '../kube/client.ts';
import { createApiCore } from '../http/api/core.ts';
import { createLogger } from '../observability/logger.ts';
import type { AuditEntry, AuditLog } from '../observability/audit.ts';
import { secretHandlers } from './services.ts';
import { ERROR_CODE_KEY } from './status.ts';

const CANARY = 'canary-grpc-7a2c-do-not-send';
const caller = { user: 'system:serviceaccount:team-a:app', groups: [] };

async function setup(audit: Pick<AuditLog, 'record' | 'failClosed' | 'healthy'>) {
  const config = await loadConfig(
    {
      text: `
backends:
  - name: mem
    type: memory
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
    data: {team-a/db: {password: ${CANARY}}, team-a/other: {k: v}}
api: {secretReads: true, grpc: {address: "127.0.0.1:0"}}
`,
    },
    { env: {} },
  );
  const backends = createBackends(config);
  const core = createApiCore({
    config: config.api!,
    authenticator: { authenticate: async () => caller, known: () => caller },
    authorizer: { authorize: async () => ({ allowed: true }) },
    audit: { ...audit, close: async () => {} },
    logger: createLogger({ level: 'error' }),
    triggers: {
      client: {} as KubeClient,
      vaultSecrets: { get: () => undefined },
      rotations: { get: () => undefined },
    },
    backends,
    issuers: { get: () => undefined, names: () => [], close: async () => {} },
  });
  return { handlers: secretHandlers(core), close: () => backends.close() };
}

/** A server-streaming call as grpc-js hands it to a handler; resolves with what was sent. */
function streamCall(request: object) {
  const call = new EventEmitter() as EventEmitter & Record<string, unknown>;
  const metadata = new Metadata();
  metadata.set('authorization', 'Bearer t');
  const sent: unknown[] = [];
  const done = new Promise<{ sent: unknown[]; error?: ServiceError }>((resolve) => {
    Object.assign(call, {
      request,
      metadata,
      getPeer: () => 'ipv4:127.0.0.1:5000',
      write: (m: unknown) => sent.push(m),
      end: () => resolve({ sent }),
    });
    call.on('error', (error: ServiceError) => resolve({ sent, error }));
  });
  return { call: call as unknown as ServerWritableStream<never, never>, done };
}

const request = { namespace: 'team-a', backend: 'mem', paths: ['team-a/db', 'team-a/missing', 'team-b/db'] };

describe('gRPC handlers', () => {
  it('StreamBatchGet sends every item, each failed path as its own error, and audits the counts', async () => {
    const lines: AuditEntry[] = [];
    const { handlers, close } = await setup({ record: (e) => void lines.push(e) });
    const { call, done } = streamCall(request);
    handlers.StreamBatchGet(call);
    const { sent, error } = await done;
    await close();
    assert.equal(error, undefined);
    type Item = { path: string; data?: Record<string, Buffer>; error?: { code: string } };
    const byPath = new Map((sent as Item[]).map((m) => [m.path, m]));
    assert.equal(String(byPath.get('team-a/db')?.data?.password), CANARY);
    assert.equal(byPath.get('team-a/missing')?.error?.code, 'NotFound');
    assert.equal(byPath.get('team-b/db')?.error?.code, 'Forbidden');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.transport, 'grpc');
    assert.deepEqual(lines[0]!.detail, { succeeded: 1, failed: 2 });
  });

  it('with audit.failClosed and a line that cannot be written, no value is sent: UNAVAILABLE', async () => {
    const { handlers, close } = await setup({
      record: () => Promise.reject(new Error('disk full')),
      failClosed: true,
      healthy: () => true,
    });
    const { call, done } = streamCall(request);
    handlers.StreamBatchGet(call);
    const { sent, error } = await done;
    await close();
    assert.deepEqual(sent, [], 'nothing sent');
    assert.equal(error?.code, status.UNAVAILABLE);
    assert.deepEqual(error?.metadata?.get(ERROR_CODE_KEY), ['AuditUnavailable']);
    assert.doesNotMatch(String(error?.details), new RegExp(CANARY));
  });
});
