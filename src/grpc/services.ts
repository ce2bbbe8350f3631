// The gRPC services of proto/vaultsync/v1/api.proto, each method an adapter around the
// operation the HTTPS route of the same name uses.
import type { ApiCore } from '../http/api/core.ts';
import type { CertificateAnswer, CertificateFields } from '../http/api/operations/certificates.ts';
import type { DeleteScope } from '../http/api/operations/deletes.ts';
import type { BatchGetInput } from '../http/api/operations/secrets.ts';
import type { TriggerAnswer } from '../http/api/operations/triggers.ts';
import type { CertificatesHandlers } from './generated/vaultsync/v1/Certificates.ts';
import type { HistoryHandlers } from './generated/vaultsync/v1/History.ts';
import type { SecretsHandlers } from './generated/vaultsync/v1/Secrets.ts';
import type { SyncRequest__Output } from './generated/vaultsync/v1/SyncRequest.ts';
import type { TriggersHandlers } from './generated/vaultsync/v1/Triggers.ts';
import { serverStream, unary } from './handlers.ts';
import { bodyOf, itemMessage, secretMessage } from './messages.ts';

const answer = (a: TriggerAnswer) => a;
const waitOf = (m: { waitSeconds: number }) => (m.waitSeconds > 0 ? m.waitSeconds : undefined);

export function triggerHandlers(core: ApiCore): TriggersHandlers {
  const ops = core.operations.triggers;
  const named = {
    request: (m: SyncRequest__Output) => ({
      params: { namespace: m.namespace, name: m.name },
      body: bodyOf(m, ['namespace', 'name']),
    }),
    input: (m: SyncRequest__Output) => ({ namespace: m.namespace, name: m.name, waitSeconds: waitOf(m) }),
    reply: answer,
  };
  return {
    SyncVaultSecret: unary(core, ops.sync, named),
    RotateSecret: unary(core, ops.rotate, named),
    RollbackSecret: unary(core, core.operations.rollback, {
      request: (m) => ({
        params: { namespace: m.namespace, name: m.name },
        body: bodyOf(m, ['namespace', 'name']),
      }),
      input: (m) => ({
        namespace: m.namespace,
        name: m.name,
        toVersion: m.toVersion,
        waitSeconds: waitOf(m),
      }),
      reply: answer,
    }),
    SyncVaultSecrets: unary(core, ops.syncSelected, {
      request: (m) => ({ params: { namespace: m.namespace }, body: bodyOf(m, ['namespace']) }),
      input: (m) => ({ namespace: m.namespace, labelSelector: m.labelSelector, waitSeconds: waitOf(m) }),
      reply: answer,
    }),
  };
}

export function certificateHandlers(core: ApiCore): CertificatesHandlers {
  const ops = core.operations.certificates;
  const adapter = {
    request: (m: { namespace: string; issuer: string }) => ({
      params: { namespace: m.namespace, issuer: m.issuer },
      body: bodyOf(m, ['namespace', 'issuer']),
    }),
    input: (m: { namespace: string; issuer: string }) => ({
      namespace: m.namespace,
      issuer: m.issuer,
      fields: bodyOf(m, ['namespace', 'issuer']) as CertificateFields,
    }),
    reply: (c: CertificateAnswer) => c,
  };
  return { Issue: unary(core, ops.issue, adapter), Sign: unary(core, ops.sign, adapter) };
}

export function secretHandlers(core: ApiCore): SecretsHandlers {
  const ops = core.operations.secrets;
  const at = (m: { namespace: string; backend: string; path: string }) => ({
    params: { namespace: m.namespace, backend: m.backend, '*': m.path },
  });
  const batch = {
    request: (m: { namespace: string; backend: string; paths: string[] }) => ({
      params: { namespace: m.namespace, backend: m.backend },
      body: { paths: m.paths },
    }),
    input: (m: BatchGetInput) => m,
  };
  return {
    Get: unary(core, ops.get, { request: at, input: (m) => m, reply: secretMessage }),
    BatchGet: unary(core, ops.batchGet, {
      ...batch,
      reply: (r) => ({ items: r.items.map(itemMessage), succeeded: r.succeeded, failed: r.failed }),
    }),
    StreamBatchGet: serverStream(core, ops.batchGet, ops.batchGet.readEach, { ...batch, item: itemMessage }),
    Write: unary(core, ops.write, {
      request: (m) => ({ ...at(m), body: { data: m.data, ...(m.cas !== undefined && { cas: m.cas }) } }),
      input: (m) => ({ namespace: m.namespace, backend: m.backend, path: m.path, data: m.data, cas: m.cas }),
      reply: (r) => r,
    }),
    Delete: unary(core, core.operations.deletes.delete, {
      request: (m) => ({
        ...at(m),
        query: bodyOf(m, ['namespace', 'backend', 'path']) as Record<string, string>,
      }),
      input: (m) => ({ ...m, scope: (m.scope || undefined) as DeleteScope | undefined }),
      reply: (r) => r,
    }),
  };
}

export function historyHandlers(core: ApiCore): HistoryHandlers {
  const ops = core.operations.history;
  const named = {
    request: (m: { namespace: string; name: string }) => ({
      params: { namespace: m.namespace, name: m.name },
    }),
    input: (m: { namespace: string; name: string }) => ({ namespace: m.namespace, name: m.name }),
  };
  return {
    VaultSecretHistory: unary(core, ops.vaultSecret, { ...named, reply: (a) => a }),
    SecretRotationHistory: unary(core, ops.rotation, { ...named, reply: (a) => a }),
  };
}
