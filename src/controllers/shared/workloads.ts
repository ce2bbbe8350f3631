// Workloads as every controller sees them: the kinds vaultsync restarts, their queue keys, which
// Secrets a workload uses (by reference or by the reload annotations) and whether a label
// selector picks it. Shared by the reload controller and SecretRotation (its consumers). Pure.
import type { V1LabelSelector, V1PodSpec } from '@kubernetes/client-node';
import { UserAnnotation } from '../../apis/v1alpha1/annotations.ts';
import type { RestartKind, Workload, WorkloadRef } from '../contracts.ts';

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
export type ReloadableKind = (typeof WORKLOAD_KINDS)[number];

function isReloadableKind(kind: string): kind is ReloadableKind {
  return (WORKLOAD_KINDS as readonly string[]).includes(kind);
}

/**
 * Argo Rollouts (argoproj.io/v1alpha1 Rollout): restarted by Argo's own mechanism, a merge patch
 * of `spec.restartAt`, when its CRD is served. Cached by an informer that exists only while the
 * CRD is served (rollouts.ts), so explicit targets, SecretRotation consumers and the reload
 * annotations all reach it.
 */
export const ARGO_ROLLOUT = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' } as const;

export function isRestartKind(kind: string): kind is RestartKind {
  return isReloadableKind(kind) || kind === ARGO_ROLLOUT.kind;
}

/** Queue key: "<namespace>/<Kind>/<name>" (logs show namespace and "Kind/name"). */
export const workloadKey = (ref: WorkloadRef): string => `${ref.namespace}/${ref.kind}/${ref.name}`;

/** Secret names a pod spec references: env, envFrom, volumes and projected volumes. */
export function referencedSecrets(spec: V1PodSpec | undefined): Set<string> {
  const names = new Set<string>();
  if (!spec) return names;
  const containers = [
    ...(spec.initContainers ?? []),
    ...(spec.containers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ];
  for (const c of containers) {
    for (const e of c.env ?? []) {
      const n = e.valueFrom?.secretKeyRef?.name;
      if (n) names.add(n);
    }
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) names.add(e.secretRef.name);
  }
  for (const v of spec.volumes ?? []) {
    if (v.secret?.secretName) names.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) if (s.secret?.name) names.add(s.secret.name);
  }
  return names;
}

/** Secrets a workload asked to be restarted for, by its annotations. */
export function annotatedSecrets(w: Workload): Set<string> {
  const a = w.metadata?.annotations ?? {};
  const names = new Set<string>();
  if (a[UserAnnotation.Reload]?.trim().toLowerCase() === 'true') {
    for (const n of referencedSecrets(w.spec?.template?.spec)) names.add(n);
  }
  for (const n of (a[UserAnnotation.ReloadSecrets] ?? '').split(',')) if (n.trim()) names.add(n.trim());
  return names;
}

/** Does a label selector (matchLabels and matchExpressions) select these labels? */
export function selectorMatches(
  selector: V1LabelSelector,
  labels: Record<string, string> | undefined,
): boolean {
  const have = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (have[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const present = Object.hasOwn(have, e.key);
    const value = have[e.key];
    switch (e.operator) {
      case 'In':
        if (!present || !(e.values ?? []).includes(value!)) return false;
        break;
      case 'NotIn':
        if (present && (e.values ?? []).includes(value!)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return false;
    }
  }
  // An empty selector selects nothing here: "restart everything" is never what a user meant.
  return Object.keys(selector.matchLabels ?? {}).length > 0 || (selector.matchExpressions ?? []).length > 0;
}
