// Which workloads a change of data owes a restart, and the record of that change. Pure: the
// workloads of the namespace come from the caches, the time from the caller.
import type { VaultSecret } from '../../apis/v1alpha1/index.ts';
import type { PendingAddition } from './annotations.ts';
import { macDigest } from '../shared/digests.ts';
import type { ManagedSecretChange, RotationContext } from './types.ts';
import type { RestartRequest, SecretChange, Workload, WorkloadRef } from '../contracts.ts';
import { annotatedSecrets, isRestartKind, workloadKey } from '../shared/workloads.ts';

export interface ChangeTargets {
  /** Explicit targets and the workloads asking for the Secret by annotation, each once. */
  targets: WorkloadRef[];
  /** Explicit targets of a kind the reload controller cannot restart (said in the log). */
  unsupported: { kind: string; name: string }[];
}

/** The workloads a managed Secret's change touches, among `workloads` (its namespace's). */
export function changeTargets(
  change: ManagedSecretChange,
  workloads: readonly { ref: WorkloadRef; obj: Workload }[],
): ChangeTargets {
  const targets = new Map<string, WorkloadRef>();
  const unsupported: ChangeTargets['unsupported'] = [];
  for (const t of change.targets ?? []) {
    if (!isRestartKind(t.kind)) {
      unsupported.push(t);
      continue;
    }
    const ref = { kind: t.kind, namespace: change.namespace, name: t.name };
    targets.set(workloadKey(ref), ref);
  }
  for (const { ref, obj } of workloads) {
    if (annotatedSecrets(obj).has(change.secretName)) targets.set(workloadKey(ref), ref);
  }
  return { targets: [...targets.values()], unsupported };
}

/** The pending-restart entry a managed Secret's change adds to each workload it touches. */
export function changeAddition(change: ManagedSecretChange, now: number): PendingAddition {
  return {
    secrets: { [change.secretName]: macDigest(change.mac) },
    at: now,
    group: change.group,
    ...(change.rotation !== undefined && { rotation: change.rotation }),
    reason: change.reason ?? `Secret ${change.secretName} changed`,
  };
}

/**
 * A VaultSecret's data change as a managed Secret change: its rolloutRestartTargets, grouped by
 * the SecretRotation that wrote the value when there is one (its restart settings apply).
 * Undefined when the change retires a previous value (TwoPhase): no restart is owed for it.
 */
export function vaultSecretChange(
  vs: VaultSecret,
  change: SecretChange,
  context: RotationContext | undefined,
): ManagedSecretChange | undefined {
  if (context?.suppress) return undefined;
  return {
    namespace: vs.metadata?.namespace ?? '',
    secretName: change.secretName,
    mac: change.mac,
    targets: vs.spec.rolloutRestartTargets ?? [],
    group: context ? `SecretRotation/${context.rotation}` : `VaultSecret/${vs.metadata?.name ?? ''}`,
    ...(context && { rotation: context.rotation }),
  };
}

/** A restart asked for workloads by name (a SecretRotation's consumers, a certificate's targets). */
export function requestAdditions(
  req: RestartRequest,
  now: number,
): { ref: WorkloadRef; addition: PendingAddition }[] {
  const addition: PendingAddition = {
    secrets: req.secrets,
    at: now,
    group: req.group,
    ...(req.rotation !== undefined && { rotation: req.rotation }),
    reason: req.reason,
  };
  return req.workloads.map((w) => ({
    ref: { kind: w.kind, namespace: req.namespace, name: w.name },
    addition: { ...addition },
  }));
}
