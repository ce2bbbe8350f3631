// Sync and rotation triggers. A trigger is an annotation with a fresh token on the resource
// (`vaultsync.io/sync-now`, `vaultsync.io/rotate-now`): whichever replica serves the call,
// the leader sees it through its watch and answers it once, recording the token in status.
// The same annotation works from kubectl. With `waitSeconds`, the call waits for that answer.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Type } from '@sinclair/typebox';
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
import { Namespace, ObjectName, maxWaitSeconds, syncBody, syncSelectorBody } from '../schemas.ts';
import type { Operation, OperationContext } from './types.ts';

interface Triggerable extends KubernetesObject {
  status?: {
    conditions?: Condition[];
    syncNowHandled?: string;
    rotateNowHandled?: string;
    rollbackToHandled?: string;
  };
}

/** What the triggers read: the informer caches of the operator. */
export interface TriggerDeps {
  client: KubeClient;
  vaultSecrets: { get(key: string): Triggerable | undefined };
  rotations: { get(key: string): Triggerable | undefined };
  /** Poll interval while waiting for an answer (ms). */
  pollMs?: number;
}

/** Time kept for sending the answer once the wait ends. */
const SEND_MARGIN_MS = 1_000;

export interface Kind {
  kind: 'VaultSecret' | 'SecretRotation';
  plural: string;
  /** The trigger's name in URLs and RBAC subresources. */
  verb: 'sync' | 'rotate' | 'rollback';
  annotation: string;
  handled: (o: Triggerable) => string | undefined;
  /** Ready=False reasons that mean "still working on it", not a failure. */
  progressReasons: ReadonlySet<string>;
  cache: (d: TriggerDeps) => { get(key: string): Triggerable | undefined };
}

export const VAULT_SECRET: Kind = {
  kind: 'VaultSecret',
  plural: 'vaultsecrets',
  verb: 'sync',
  annotation: UserAnnotation.SyncNow,
  handled: (o) => o.status?.syncNowHandled,
  progressReasons: new Set(),
  cache: (d) => d.vaultSecrets,
};
export const SECRET_ROTATION: Kind = {
  kind: 'SecretRotation',
  plural: 'secretrotations',
  verb: 'rotate',
  annotation: UserAnnotation.RotateNow,
  handled: (o) => o.status?.rotateNowHandled,
  progressReasons: new Set([RotationReason.Rotating, RotationReason.RollingOut, RotationReason.Retiring]),
  cache: (d) => d.rotations,
};

export type TriggerState = 'Pending' | 'Done' | 'Failed';
export interface TriggerResult {
  name: string;
  state: TriggerState;
  reason?: string;
  message?: string;
}
export interface TriggerAnswer {
  namespace: string;
  kind: string;
  token: string;
  results: TriggerResult[];
}
export interface NamedTrigger {
  readonly namespace: string;
  readonly name: string;
  readonly waitSeconds?: number | undefined;
}
export interface SelectorTrigger {
  readonly namespace: string;
  readonly labelSelector: string;
  readonly waitSeconds?: number | undefined;
}

/** The answer to a token, read from the cached object (pure). */
export function triggerState(kind: Kind, obj: Triggerable | undefined, token: string): TriggerState {
  // The status holds the token's digest (or, written before digests, the token itself).
  if (!obj || !tokenAnswered(kind.handled(obj), token)) return 'Pending';
  const ready = obj.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'False') return 'Done';
  return kind.progressReasons.has(ready.reason ?? '') ? 'Pending' : 'Failed';
}

/** True while some result still waits for the operator (HTTPS answers 202 then). */
export const anyPending = (a: TriggerAnswer): boolean => a.results.some((r) => r.state === 'Pending');

/** Annotates the objects with one fresh token and, with a wait, polls the caches for the answers. */
export class Trigger {
  private readonly deps: TriggerDeps;
  private readonly kind: Kind;
  constructor(deps: TriggerDeps, kind: Kind) {
    this.deps = deps;
    this.kind = kind;
  }

  /** `valueOf` makes the annotation's value from the fresh token (rollback-to puts a version first). */
  async run(
    namespace: string,
    names: string[],
    waitSeconds = 0,
    ctx?: OperationContext,
    valueOf: (token: string) => string = (token) => token,
  ): Promise<TriggerAnswer> {
    const token = valueOf(`${new Date().toISOString()}-${randomUUID().slice(0, 8)}`);
    await Promise.all(names.map((name) => this.annotate(namespace, name, token)));
    const results =
      waitSeconds > 0
        ? await this.awaitAnswers(namespace, names, token, waitSeconds * 1000, ctx)
        : names.map((name) => ({ name, state: 'Pending' as const }));
    return { namespace, kind: this.kind.kind, token, results };
  }

  private async annotate(namespace: string, name: string, token: string): Promise<void> {
    const { kind } = this;
    try {
      await mergePatch(
        this.deps.client,
        { apiVersion: API_VERSION, kind: kind.kind, namespace, name },
        { metadata: { annotations: { [kind.annotation]: token } } },
        { fieldManager: FieldManager.Api },
      );
    } catch (err) {
      if (err instanceof KubeError && err.code === 'NotFound') {
        throw new ApiError('NotFound', `${kind.kind} "${name}" not found in namespace "${namespace}"`);
      }
      throw err;
    }
  }

  private result(namespace: string, name: string, token: string): TriggerResult {
    const obj = this.kind.cache(this.deps).get(keyFor(namespace, name));
    const state = triggerState(this.kind, obj, token);
    const ready = obj?.status?.conditions?.find((c) => c.type === 'Ready');
    return {
      name,
      state,
      ...(state !== 'Pending' && ready?.reason && { reason: ready.reason }),
      ...(state !== 'Pending' && ready?.message && { message: ready.message }),
    };
  }

  private async awaitAnswers(
    namespace: string,
    names: string[],
    token: string,
    waitMs: number,
    ctx?: OperationContext,
  ): Promise<TriggerResult[]> {
    // Answered before the call's own deadline closes it.
    const deadline = Math.min(Date.now() + waitMs, (ctx?.deadline ?? Infinity) - SEND_MARGIN_MS);
    const pollMs = this.deps.pollMs ?? 50;
    for (;;) {
      const results = names.map((name) => this.result(namespace, name, token));
      if (!results.some((r) => r.state === 'Pending') || Date.now() >= deadline) return results;
      // Rejects at once when the client has gone: nobody is left to answer.
      const signal = ctx?.signal;
      await sleep(Math.min(pollMs, Math.max(deadline - Date.now(), 0)), undefined, {
        ...(signal && { signal }),
      }).catch((err: unknown) => {
        throw (signal?.reason as unknown) ?? err;
      });
    }
  }
}

/**
 * Asks the leader, from any replica, to read these VaultSecrets now (the sync-now annotation).
 * Returns how many were annotated: one deleted meanwhile, or a refused patch, is skipped.
 */
export async function requestSync(deps: TriggerDeps, namespace: string, names: string[]): Promise<number> {
  const trigger = new Trigger(deps, VAULT_SECRET);
  const done = await Promise.allSettled(names.map((name) => trigger.run(namespace, [name])));
  return done.filter((d) => d.status === 'fulfilled').length;
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

/** `<verb>` one named object: RBAC `create` on `<plural>/<verb>`. */
function namedTrigger(
  deps: TriggerDeps,
  kind: Kind,
  maxWait: number,
): Operation<NamedTrigger, TriggerAnswer> {
  const trigger = new Trigger(deps, kind);
  return {
    action: `${kind.plural}.${kind.verb}`,
    access: (p) => ({
      verb: 'create',
      resource: kind.plural,
      subresource: kind.verb,
      namespace: p.namespace,
      name: p.name,
    }),
    schema: { params: Type.Object({ namespace: Namespace, name: ObjectName }), body: syncBody(maxWait) },
    async run(input, ctx) {
      ctx.audit({ resource: `${kind.kind}/${input.name}` });
      return trigger.run(input.namespace, [input.name], input.waitSeconds, ctx);
    },
  };
}

export function triggerOperations(deps: TriggerDeps, limits: { requestTimeoutMs: number }) {
  const maxWait = maxWaitSeconds(limits.requestTimeoutMs);
  const syncSelected: Operation<SelectorTrigger, TriggerAnswer> = {
    action: 'vaultsecrets.sync',
    access: (p) => ({
      verb: 'create',
      resource: 'vaultsecrets',
      subresource: 'sync',
      namespace: p.namespace,
    }),
    schema: { params: Type.Object({ namespace: Namespace }), body: syncSelectorBody(maxWait) },
    async run(input, ctx) {
      const names = await listNames(deps.client, input.namespace, input.labelSelector);
      ctx.audit({
        resource: `VaultSecret?labelSelector=${input.labelSelector}`,
        detail: { matched: names.length },
      });
      return new Trigger(deps, VAULT_SECRET).run(input.namespace, names, input.waitSeconds, ctx);
    },
  };
  return {
    sync: namedTrigger(deps, VAULT_SECRET, maxWait),
    rotate: namedTrigger(deps, SECRET_ROTATION, maxWait),
    syncSelected,
  };
}
