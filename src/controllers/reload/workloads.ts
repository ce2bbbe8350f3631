// Workloads (Deployments, StatefulSets, DaemonSets; Argo Rollouts when their CRD is served) as
// the reload controller sees them: which Secrets they use, whether they asked to be reloaded,
// whether a label selector picks them, whether their rollout is complete. Pure.
import { OperatorAnnotation } from '../../apis/v1alpha1/index.ts';
import type { V1LabelSelector, V1PodSpec } from '@kubernetes/client-node';
import { stripBulkyMetadata } from '../../kube/object-cache.ts';
import { ARGO_ROLLOUT, isRestartKind } from '../shared/workloads.ts';
import type { RestartKind, Workload, WorkloadRef } from '../contracts.ts';
import { parseDigests } from './annotations.ts';

/** The API version of a restartable kind. */
export const apiVersionOf = (kind: RestartKind): string =>
  kind === ARGO_ROLLOUT.kind ? ARGO_ROLLOUT.apiVersion : 'apps/v1';

export function parseWorkloadKey(key: string): WorkloadRef | undefined {
  const [namespace, kind, ...rest] = key.split('/');
  if (!namespace || !kind || rest.length !== 1 || !isRestartKind(kind)) return undefined;
  return { namespace, kind, name: rest[0]! };
}

/** The label selector query string of a workload's pods ("a=b,c in (d,e)"). */
export function selectorQuery(selector: V1LabelSelector | undefined): string | undefined {
  if (!selector) return undefined;
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.length > 0 ? parts.join(',') : undefined;
}

const isRollout = (w: Workload) => w.apiVersion === ARGO_ROLLOUT.apiVersion && w.kind === ARGO_ROLLOUT.kind;

/**
 * Digests the workload was last restarted for. A Deployment / StatefulSet / DaemonSet keeps them
 * on its pod template (that change is the restart); an Argo Rollout in its own metadata (its
 * restart is spec.restartAt, its template is never written: a template annotation there is not
 * ours to trust).
 */
export function restartDigests(w: Workload): Record<string, string> {
  return parseDigests(
    isRollout(w)
      ? w.metadata?.annotations?.[OperatorAnnotation.SecretsHmac]
      : w.spec?.template?.metadata?.annotations?.[OperatorAnnotation.SecretsHmac],
  );
}

/** Digests the workload's pods were last restarted (template) or annotated (pods) for. */
export function appliedDigests(w: Workload): Record<string, string> {
  return {
    ...parseDigests(w.metadata?.annotations?.[OperatorAnnotation.PodsSecretsHmac]),
    ...restartDigests(w),
  };
}

/**
 * The Deployment an Argo Rollout takes its pod template from (`spec.workloadRef`), if any. Argo
 * supports `apps/v1` Deployments there; another kind gives undefined (its template is unknown).
 */
export function workloadRefName(w: Workload): string | undefined {
  const ref = w.spec?.workloadRef;
  if (!ref?.name) return undefined;
  const apps = ref.apiVersion === undefined || ref.apiVersion === 'apps/v1';
  return apps && (ref.kind ?? 'Deployment') === 'Deployment' ? ref.name : undefined;
}

export const isPaused = (w: Workload): boolean => w.spec?.paused === true;

/**
 * Has the workload finished rolling out its current template, with every replica ready?
 * Deployment: the controller saw this generation, all replicas updated and available, no old
 * ones left. StatefulSet: current revision is the update revision and all ready. DaemonSet: every
 * scheduled pod updated and available. OnDelete strategies never roll by themselves: complete
 * once the controller saw the change.
 */
export function rolloutComplete(kind: RestartKind, w: Workload): boolean {
  const s = w.status ?? {};
  if (kind === 'Rollout') {
    // Argo Rollouts v1: observedGeneration is the generation as a string; phase Healthy means
    // the spec is observed, not paused, every replica updated and available and the stable
    // ReplicaSet is the current one (the replica counts are checked here too, in case the phase
    // is stale); status.restartedAt is set to spec.restartAt once every pod is newer than it.
    const want = w.spec?.replicas ?? 1;
    const restartAt = Date.parse(w.spec?.restartAt ?? '');
    return (
      Number(s.observedGeneration ?? 0) >= (w.metadata?.generation ?? 0) &&
      s.phase === 'Healthy' &&
      (s.updatedReplicas ?? 0) >= want &&
      (s.availableReplicas ?? 0) >= want &&
      (!Number.isFinite(restartAt) || Date.parse(s.restartedAt ?? '') >= restartAt)
    );
  }
  if ((s.observedGeneration ?? 0) < (w.metadata?.generation ?? 0)) return false;
  switch (kind) {
    case 'Deployment': {
      const want = w.spec?.replicas ?? 1;
      return (
        (s.updatedReplicas ?? 0) >= want &&
        (s.replicas ?? 0) <= want &&
        (s.availableReplicas ?? 0) >= want &&
        (s.unavailableReplicas ?? 0) === 0
      );
    }
    case 'StatefulSet': {
      if (w.spec?.updateStrategy?.type === 'OnDelete') return true;
      const want = w.spec?.replicas ?? 1;
      const revisionDone = !s.updateRevision || s.currentRevision === s.updateRevision;
      return revisionDone && (s.updatedReplicas ?? 0) >= want && (s.readyReplicas ?? 0) >= want;
    }
    case 'DaemonSet': {
      if (w.spec?.updateStrategy?.type === 'OnDelete') return true;
      const want = s.desiredNumberScheduled ?? 0;
      return (
        (s.updatedNumberScheduled ?? 0) >= want &&
        (s.numberAvailable ?? 0) >= want &&
        (s.numberUnavailable ?? 0) === 0
      );
    }
  }
}

const OUR_PREFIX = 'vaultsync.io/';

/**
 * What the informers keep of a workload: metadata, status, the replica and strategy fields
 * (for a Rollout also restartAt and workloadRef), our template annotations and the Secret
 * references of the pod spec. Workloads are cached cluster-wide (annotations cannot be selected
 * server-side), so the rest is dropped.
 */
export function slimWorkload<T extends Workload>(obj: T): T {
  const w = stripBulkyMetadata(obj);
  const spec = w.spec ?? {};
  const pod = spec.template?.spec;
  const slimContainer = (c: NonNullable<V1PodSpec['containers']>[number]) => ({
    name: c.name,
    env: (c.env ?? []).filter((e) => e.valueFrom?.secretKeyRef),
    envFrom: (c.envFrom ?? []).filter((e) => e.secretRef),
  });
  const templateAnnotations = Object.fromEntries(
    Object.entries(spec.template?.metadata?.annotations ?? {}).filter(([k]) => k.startsWith(OUR_PREFIX)),
  );
  return {
    ...w,
    spec: {
      replicas: spec.replicas,
      paused: spec.paused,
      ...(spec.restartAt !== undefined && { restartAt: spec.restartAt }),
      ...(spec.workloadRef && {
        workloadRef: {
          apiVersion: spec.workloadRef.apiVersion,
          kind: spec.workloadRef.kind,
          name: spec.workloadRef.name,
        },
      }),
      selector: spec.selector,
      updateStrategy: spec.updateStrategy && { type: spec.updateStrategy.type },
      template: {
        metadata: { annotations: templateAnnotations },
        spec: {
          containers: (pod?.containers ?? []).map(slimContainer),
          initContainers: (pod?.initContainers ?? []).map(slimContainer),
          volumes: (pod?.volumes ?? [])
            .filter((v) => v.secret || v.projected?.sources?.some((s) => s.secret))
            .map((v) => ({
              name: v.name,
              ...(v.secret && { secret: { secretName: v.secret.secretName } }),
              ...(v.projected && {
                projected: { sources: (v.projected.sources ?? []).filter((s) => s.secret) },
              }),
            })),
        } as V1PodSpec,
      },
    },
  } as T;
}
