// The restart itself: the one write to a workload. A Deployment, StatefulSet or DaemonSet gets the
// digests of the new data on its pod template (that change is the rollout); an Argo Rollout gets
// spec.restartAt (Argo's own restart); AnnotatePods mode writes the digests onto the running pods
// and rolls nothing. Each write also removes the pending-restart annotation an earlier release
// left. The patches are built by pure functions; `writeRestart` sends them.
import { OperatorAnnotation } from '../../apis/v1alpha1/index.ts';
import type { V1Pod } from '@kubernetes/client-node';
import type { RestartMode } from '../../apis/v1alpha1/index.ts';
import { type KubeClient, mergePatch } from '../../kube/client.ts';
import { isNotFound } from '../../kube/errors.ts';
import type { Digests } from '../shared/digests.ts';
import { formatDigests, parseDigests } from './annotations.ts';
import type { Workload, WorkloadRef } from '../contracts.ts';
import { apiVersionOf, selectorQuery } from './workloads.ts';

const iso = (ms: number) => new Date(ms).toISOString();
/** RFC 3339 to the second, as `kubectl argo rollouts restart` writes spec.restartAt. */
const isoSeconds = (ms: number) => iso(ms).replace(/\.\d{3}Z$/, 'Z');

export const objectRef = (ref: WorkloadRef) => ({
  apiVersion: apiVersionOf(ref.kind),
  kind: ref.kind,
  namespace: ref.namespace,
  name: ref.name,
});

/** How a workload is restarted: by mode first, then by kind. */
export type RestartWrite = 'template' | 'rollout' | 'pods';

export function restartWriteOf(mode: RestartMode, ref: WorkloadRef): RestartWrite {
  if (mode === 'AnnotatePods') return 'pods';
  return ref.kind === 'Rollout' ? 'rollout' : 'template';
}

/** Who restarted it, when, for whom; the old pending annotation removed. */
const restartedBy = (group: string, now: number) => ({
  [OperatorAnnotation.PendingRestart]: null,
  [OperatorAnnotation.RestartedAt]: iso(now),
  [OperatorAnnotation.RestartGroup]: group,
});

/** The digests already there, with the new ones over them. */
const withDigests = (current: string | undefined, digests: Digests) =>
  formatDigests({ ...parseDigests(current), ...digests });

/** Deployment, StatefulSet, DaemonSet: the digests on the pod template roll the pods. */
export function templatePatch(w: Workload, digests: Digests, group: string, now: number) {
  const current = w.spec?.template?.metadata?.annotations?.[OperatorAnnotation.SecretsHmac];
  return {
    metadata: { annotations: restartedBy(group, now) },
    spec: {
      template: {
        metadata: { annotations: { [OperatorAnnotation.SecretsHmac]: withDigests(current, digests) } },
      },
    },
  };
}

/**
 * Argo's own restart (what `kubectl argo rollouts restart` and Argo CD's restart action do):
 * spec.restartAt, and the digests on the Rollout's metadata. Not a pod-template annotation:
 * that would be a new revision, a full canary / blue-green update through its steps, pauses
 * (a `pause: {}` step waits for a manual promotion), analysis and traffic shifting, for data
 * the pods merely need to re-read. restartAt is rounded up to the next second: Argo compares
 * it with pod creation times (whole seconds) and evicts the pods created before it, so a pod
 * started in the second of the change is restarted too; Argo waits for a restartAt in the
 * future (as with `restart --in`).
 */
export function rolloutPatch(w: Workload, digests: Digests, group: string, now: number) {
  const current = w.metadata?.annotations?.[OperatorAnnotation.SecretsHmac];
  return {
    metadata: {
      annotations: {
        ...restartedBy(group, now),
        [OperatorAnnotation.SecretsHmac]: withDigests(current, digests),
      },
    },
    spec: { restartAt: isoSeconds(Math.ceil(now / 1000) * 1000) },
  };
}

/** AnnotatePods mode: what the pods get, and what the workload records of it. */
export function podsPatches(w: Workload, digests: Digests, group: string, now: number) {
  const all = withDigests(w.metadata?.annotations?.[OperatorAnnotation.PodsSecretsHmac], digests);
  return {
    pod: { metadata: { annotations: { [OperatorAnnotation.SecretsHmac]: all } } },
    workload: {
      metadata: { annotations: { ...restartedBy(group, now), [OperatorAnnotation.PodsSecretsHmac]: all } },
    },
  };
}

/** Removes the pending-restart annotation an earlier release left (no rollout). */
export const legacyRecordRemoval = {
  metadata: { annotations: { [OperatorAnnotation.PendingRestart]: null } },
};

export interface RestartWriteInput {
  mode: RestartMode;
  ref: WorkloadRef;
  w: Workload;
  /** Workload-bound digests of the data the pods must get. */
  digests: Digests;
  group: string;
  now: number;
  fieldManager: string;
}

/** Sends the restart (checked against the cached resourceVersion); resolves with the workload. */
export async function writeRestart(client: KubeClient, input: RestartWriteInput): Promise<Workload> {
  const { ref, w, digests, group, now } = input;
  const opts = { resourceVersion: w.metadata?.resourceVersion, fieldManager: input.fieldManager };
  switch (restartWriteOf(input.mode, ref)) {
    case 'template':
      return mergePatch<Workload>(client, objectRef(ref), templatePatch(w, digests, group, now), opts);
    case 'rollout':
      return mergePatch<Workload>(client, objectRef(ref), rolloutPatch(w, digests, group, now), opts);
    case 'pods': {
      const patches = podsPatches(w, digests, group, now);
      await annotatePods(client, ref, w, patches.pod, input.fieldManager);
      return mergePatch<Workload>(client, objectRef(ref), patches.workload, opts);
    }
  }
}

/** Writes the digests onto every running pod of the workload (a pod gone meanwhile is skipped). */
async function annotatePods(
  client: KubeClient,
  ref: WorkloadRef,
  w: Workload,
  patch: Record<string, unknown>,
  fieldManager: string,
): Promise<void> {
  const query = selectorQuery(w.spec?.selector);
  if (!query) return;
  const pods = await client.rest.request<{ items?: V1Pod[] }>({
    method: 'GET',
    path: `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods`,
    query: { labelSelector: query },
  });
  for (const pod of pods.items ?? []) {
    if (pod.metadata?.deletionTimestamp || !pod.metadata?.name) continue;
    await mergePatch(
      client,
      { apiVersion: 'v1', kind: 'Pod', namespace: ref.namespace, name: pod.metadata.name },
      patch,
      { fieldManager },
    ).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }
}
