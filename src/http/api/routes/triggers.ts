// Sync and rotation triggers. A trigger is an annotation with a fresh token on the resource
// (`vaultsync.io/sync-now`, `vaultsync.io/rotate-now`): whichever replica serves the call,
// the leader sees it through its watch and answers it once, recording the token in status.
// The same annotation works from kubectl. With `waitSeconds`, the call waits for that answer.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  API_VERSION,
  FieldManager,
  SecretRotationReason as RotationReason,
  UserAnnotation,
  tokenAnswered,
} from '../../../apis/v1alpha1/index.ts';
import { type KubeClient, mergePatch } from '../../../kube/client.ts';
import type { Condition } from '../../../kube/conditions.ts';
import { KubeError } from '../../../kube/errors.ts';
import { keyFor } from '../../../kube/resources.ts';
import { ApiError } from '../errors.ts';
import {
  Namespace,
  ObjectName,
  TriggerResponse,
  maxWaitSeconds,
  responses,
  syncBody,
  syncSelectorBody,
} from '../schemas.ts';
import type { RouteAccess } from '../access.ts';

const FIELD_MANAGER = FieldManager.Api;

interface Triggerable extends KubernetesObject {
  status?: { conditions?: Condition[]; syncNowHandled?: string; rotateNowHandled?: string };
}

/** What the routes read: the informer caches of the operator. */
export interface TriggerDeps {
  client: KubeClient;
  vaultSecrets: { get(key: string): Triggerable | undefined };
  rotations: { get(key: string): Triggerable | undefined };
  /** Poll interval while waiting for an answer (ms). */
  pollMs?: number;
}

/** What a wait is bounded by: the request's deadline and its client. */
interface WaitLimits {
  /** When the answer must be on its way (epoch ms): before the request timeout closes the connection. */
  answerBy?: number;
  /** Aborted when the client goes away (or the request times out): the poll stops at once. */
  signal?: AbortSignal;
}

/** Time kept for sending the answer once the wait ends. */
const SEND_MARGIN_MS = 1_000;

export interface Kind {
  kind: 'VaultSecret' | 'SecretRotation';
  plural: string;
  annotation: string;
  handled: (o: Triggerable) => string | undefined;
  /** Ready=False reasons that mean "still working on it", not a failure. */
  progressReasons: ReadonlySet<string>;
  cache: (d: TriggerDeps) => { get(key: string): Triggerable | undefined };
}

export const VAULT_SECRET: Kind = {
  kind: 'VaultSecret',
  plural: 'vaultsecrets',
  annotation: UserAnnotation.SyncNow,
  handled: (o) => o.status?.syncNowHandled,
  progressReasons: new Set(),
  cache: (d) => d.vaultSecrets,
};
export const SECRET_ROTATION: Kind = {
  kind: 'SecretRotation',
  plural: 'secretrotations',
  annotation: UserAnnotation.RotateNow,
  handled: (o) => o.status?.rotateNowHandled,
  progressReasons: new Set([RotationReason.Rotating, RotationReason.RollingOut, RotationReason.Retiring]),
  cache: (d) => d.rotations,
};

type Result = { name: string; state: 'Pending' | 'Done' | 'Failed'; reason?: string; message?: string };

/** The answer to a token, read from the cached object (pure). */
export function triggerState(kind: Kind, obj: Triggerable | undefined, token: string): Result['state'] {
  // The status holds the token's digest (or, written before digests, the token itself).
  if (!obj || !tokenAnswered(kind.handled(obj), token)) return 'Pending';
  const ready = obj.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'False') return 'Done';
  return kind.progressReasons.has(ready.reason ?? '') ? 'Pending' : 'Failed';
}

export function registerTriggerRoutes(
  app: FastifyInstance,
  deps: TriggerDeps,
  limits: { requestTimeoutMs: number },
): void {
  const pollMs = deps.pollMs ?? 50;
  const maxWait = maxWaitSeconds(limits.requestTimeoutMs);

  async function annotate(kind: Kind, namespace: string, name: string, token: string): Promise<void> {
    try {
      await mergePatch(
        deps.client,
        { apiVersion: API_VERSION, kind: kind.kind, namespace, name },
        { metadata: { annotations: { [kind.annotation]: token } } },
        { fieldManager: FIELD_MANAGER },
      );
    } catch (err) {
      if (err instanceof KubeError && err.code === 'NotFound') {
        throw new ApiError('NotFound', `${kind.kind} "${name}" not found in namespace "${namespace}"`);
      }
      throw err;
    }
  }

  async function awaitAnswers(
    kind: Kind,
    namespace: string,
    names: string[],
    token: string,
    waitMs: number,
    wait: WaitLimits,
  ) {
    const deadline = Math.min(Date.now() + waitMs, (wait.answerBy ?? Infinity) - SEND_MARGIN_MS);
    const cache = kind.cache(deps);
    const results = new Map<string, Result>();
    for (;;) {
      for (const name of names) {
        const obj = cache.get(keyFor(namespace, name));
        const state = triggerState(kind, obj, token);
        const ready = obj?.status?.conditions?.find((c) => c.type === 'Ready');
        results.set(name, {
          name,
          state,
          ...(state !== 'Pending' && ready?.reason && { reason: ready.reason }),
          ...(state !== 'Pending' && ready?.message && { message: ready.message }),
        });
      }
      const pending = [...results.values()].some((r) => r.state === 'Pending');
      if (!pending || Date.now() >= deadline) return [...results.values()];
      // Rejects at once when the client has gone: nobody is left to answer.
      await sleep(Math.min(pollMs, Math.max(deadline - Date.now(), 0)), undefined, {
        ...(wait.signal && { signal: wait.signal }),
      }).catch((err: unknown) => {
        throw (wait.signal?.reason as unknown) ?? err;
      });
    }
  }

  async function trigger(
    kind: Kind,
    namespace: string,
    names: string[],
    waitSeconds = 0,
    wait: WaitLimits = {},
  ) {
    const token = `${new Date().toISOString()}-${randomUUID().slice(0, 8)}`;
    await Promise.all(names.map((name) => annotate(kind, namespace, name, token)));
    const results =
      waitSeconds > 0
        ? await awaitAnswers(kind, namespace, names, token, waitSeconds * 1000, wait)
        : names.map((name) => ({ name, state: 'Pending' as const }));
    return { namespace, kind: kind.kind, token, results };
  }

  const status = (r: { results: Result[] }) => (r.results.some((x) => x.state === 'Pending') ? 202 : 200);

  /** `POST .../<plural>/{name}/<verb>`: one named object, RBAC `create` on `<plural>/<verb>`. */
  function namedTrigger(kind: Kind, verb: string, summary: string): void {
    app.post<{ Params: { namespace: string; name: string }; Body: { waitSeconds?: number } }>(
      `/v1/namespaces/:namespace/${kind.plural}/:name/${verb}`,
      {
        schema: {
          summary,
          tags: ['triggers'],
          params: { type: 'object', properties: { namespace: Namespace, name: ObjectName } },
          body: syncBody(maxWait),
          response: responses({ 200: TriggerResponse, 202: TriggerResponse }),
        },
        config: {
          action: `${kind.plural}.${verb}`,
          access: (p) => ({
            verb: 'create',
            resource: kind.plural,
            subresource: verb,
            namespace: p.namespace,
            name: p.name,
          }),
        } satisfies RouteAccess,
      },
      async (req, reply) => {
        const { namespace, name } = req.params;
        req.auditDetail = { resource: `${kind.kind}/${name}` };
        const result = await trigger(kind, namespace, [name], req.body?.waitSeconds, waitLimits(req));
        return reply.code(status(result)).send(result);
      },
    );
  }

  namedTrigger(VAULT_SECRET, 'sync', 'Read the backend for one VaultSecret now');
  namedTrigger(
    SECRET_ROTATION,
    'rotate',
    'Rotate now (generate, write a new backend version, refresh and roll out consumers)',
  );

  app.post<{ Params: { namespace: string }; Body: { labelSelector: string; waitSeconds?: number } }>(
    '/v1/namespaces/:namespace/vaultsecrets::sync',
    {
      schema: {
        summary: 'Read the backend now for every VaultSecret of a namespace matching a label selector',
        tags: ['triggers'],
        params: { type: 'object', properties: { namespace: Namespace } },
        body: syncSelectorBody(maxWait),
        response: responses({ 200: TriggerResponse, 202: TriggerResponse }),
      },
      config: {
        action: 'vaultsecrets.sync',
        access: (p) => ({
          verb: 'create',
          resource: 'vaultsecrets',
          subresource: 'sync',
          namespace: p.namespace,
        }),
      } satisfies RouteAccess,
    },
    async (req, reply) => {
      const { namespace } = req.params;
      const names = await listNames(deps.client, namespace, req.body.labelSelector);
      req.auditDetail = {
        resource: `VaultSecret?labelSelector=${req.body.labelSelector}`,
        detail: { matched: names.length },
      };
      const result = await trigger(VAULT_SECRET, namespace, names, req.body.waitSeconds, waitLimits(req));
      return reply.code(status(result)).send(result);
    },
  );
}

function waitLimits(req: FastifyRequest): WaitLimits {
  return {
    ...(req.deadline !== undefined && { answerBy: req.deadline }),
    ...(req.abortSignal && { signal: req.abortSignal }),
  };
}

/** Names of the VaultSecrets matching a selector; the apiserver parses (and rejects) it. */
async function listNames(client: KubeClient, namespace: string, labelSelector: string): Promise<string[]> {
  try {
    const list = await client.rest.request<{ items?: KubernetesObject[] }>({
      method: 'GET',
      path: `/apis/${API_VERSION}/namespaces/${namespace}/vaultsecrets`,
      query: { labelSelector },
    });
    return (list.items ?? []).map((o) => o.metadata?.name ?? '').filter(Boolean);
  } catch (err) {
    if (err instanceof KubeError && (err.status === 400 || err.code === 'Invalid')) {
      throw new ApiError('BadRequest', `invalid labelSelector: ${err.message}`);
    }
    throw err;
  }
}
