// Who must follow a rotation, and where they stand: the VaultSecrets reading its path (readers)
// and the workloads using their Secrets (consumers). Pure: the caches' contents come in as
// arguments; asking for refreshes and restarts is steps/roll-out.ts.
import type { SecretRotation, VaultSecret } from '../../apis/v1alpha1/index.ts';
import type { RolloutState, Workload, WorkloadRef } from '../contracts.ts';
import { type Digests, macDigest } from '../shared/digests.ts';
import { targetName } from '../shared/target-name.ts';
import {
  annotatedSecrets,
  isRestartKind,
  referencedSecrets,
  selectorMatches,
  workloadKey,
} from '../shared/workloads.ts';
import { versionAtLeast } from './data.ts';

export interface Consumer {
  ref: WorkloadRef;
  /** Secret (or the rotation's pseudo entry) → digest of the data this consumer must run with. */
  wanted: Digests;
}

/** Reasons a VaultSecret gives when it cannot write its Secret: a rotation cannot roll out through it. */
const READER_STUCK: ReadonlySet<string> = new Set([
  'SecretWriteFailed',
  'SecretTooLarge',
  'InvalidKey',
  'InvalidSpec',
  'UnsafeShrink',
]);

/** Why a VaultSecret reading the path cannot sync at all (it needs a person), if it says so. */
export function readerStuck(vs: VaultSecret): string | undefined {
  const ready = vs.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'False' || !READER_STUCK.has(ready.reason)) return undefined;
  if (vs.status?.observedGeneration !== vs.metadata?.generation) return undefined;
  return `${ready.reason}: ${ready.message}`;
}

/** Has the VaultSecret synced at least `version` of `path` into its Secret? */
export function readerSynced(vs: VaultSecret, path: string, version: string): boolean {
  const ready = vs.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  return (
    !!ready &&
    vs.status?.observedGeneration === vs.metadata?.generation &&
    versionAtLeast(vs.status?.sourceVersions?.[path], version) &&
    vs.status?.secretMAC !== undefined
  );
}

/** A version of the path newer than `version` that a reader synced (a rollback written before a restart?). */
export function newerReaderVersion(readers: readonly VaultSecret[], path: string, version: string) {
  return readers
    .map((vs) => vs.status?.sourceVersions?.[path])
    .find((v) => v !== undefined && v !== version && versionAtLeast(v, version));
}

/** The entry that stands for a rotation's data when no VaultSecret syncs its path. */
const pseudoSecret = (sr: SecretRotation) => `SecretRotation.${sr.metadata?.name ?? ''}`;

/**
 * The digests of the data the rotation produced, per Secret synced from its path. With no
 * VaultSecret syncing it (the workloads read the backend themselves), the version is the data:
 * `versionMac` is the rotation's keyed MAC of it.
 */
export function affectedDigests(
  sr: SecretRotation,
  readers: readonly VaultSecret[],
  versionMac: () => string,
): Digests {
  const out: Record<string, string> = {};
  for (const vs of readers) if (vs.status?.secretMAC) out[targetName(vs)] = macDigest(vs.status.secretMAC);
  if (Object.keys(out).length === 0) out[pseudoSecret(sr)] = macDigest(versionMac());
  return out;
}

/**
 * When the data of each affected entry was written (a reader's lastSyncTime; for the rotation
 * itself, its time): a workload restarted after it runs with that data even when its digest
 * was made before an upgrade or a MAC key change and cannot be checked.
 */
export function writtenAt(sr: SecretRotation, readers: readonly VaultSecret[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const vs of readers) {
    const at = Date.parse(vs.status?.lastSyncTime ?? '');
    if (Number.isFinite(at)) out[targetName(vs)] = at;
  }
  const rotatedAt = Date.parse(sr.status?.lastRotationTime ?? '');
  if (Number.isFinite(rotatedAt)) out[pseudoSecret(sr)] = rotatedAt;
  return out;
}

/**
 * The consumers of a rotation: its explicit targets and selector, or (with neither) the
 * workloads annotated to reload one of the affected Secrets. Each wants the digests of the
 * Secrets it uses (all of them when it names none). Targets of kinds that cannot be restarted
 * come back as `unsupported`.
 */
export function consumersOf(
  sr: SecretRotation,
  workloads: readonly { ref: WorkloadRef; obj: Workload }[],
  affected: Digests,
): { consumers: Consumer[]; unsupported: string[] } {
  const namespace = sr.metadata?.namespace ?? '';
  const found = new Map<string, WorkloadRef>();
  const unsupported: string[] = [];
  const spec = sr.spec.consumers;
  for (const t of spec?.targets ?? []) {
    // Deployment, StatefulSet, DaemonSet, and Argo Rollout (followed while its CRD is served).
    if (!isRestartKind(t.kind)) {
      unsupported.push(`${t.kind} ${t.name}`);
      continue;
    }
    const ref: WorkloadRef = { kind: t.kind, namespace, name: t.name };
    found.set(workloadKey(ref), ref);
  }
  if (spec?.selector) {
    for (const { ref, obj } of workloads)
      if (selectorMatches(spec.selector, obj.metadata?.labels)) found.set(workloadKey(ref), ref);
  }
  if (!spec?.targets?.length && !spec?.selector) {
    for (const { ref, obj } of workloads) {
      const uses = annotatedSecrets(obj);
      if (Object.keys(affected).some((s) => uses.has(s))) found.set(workloadKey(ref), ref);
    }
  }
  const consumers = [...found.values()].map((ref) => {
    const obj = workloads.find((w) => workloadKey(w.ref) === workloadKey(ref))?.obj;
    const uses = new Set([
      ...(obj ? annotatedSecrets(obj) : []),
      ...referencedSecrets(obj?.spec?.template?.spec),
    ]);
    const mine = Object.fromEntries(Object.entries(affected).filter(([s]) => uses.has(s)));
    return { ref, wanted: Object.keys(mine).length > 0 ? mine : affected };
  });
  return { consumers, unsupported };
}

export interface ConsumerState {
  c: Consumer;
  s: RolloutState;
}

export interface RolloutVerdict {
  /** Not ready in time (timed out; unknown or never restarted when time is up). */
  failing: ConsumerState[];
  /** Neither ready nor gone. */
  waiting: ConsumerState[];
  notFound: ConsumerState[];
}

/** Where the consumers stand together. `late`: past debounce plus readyTimeout since the rotation. */
export function rolloutVerdict(
  states: readonly ConsumerState[],
  requested: ReadonlySet<string>,
  late: boolean,
): RolloutVerdict {
  return {
    failing: states.filter(
      ({ c, s }) =>
        s.state === 'TimedOut' ||
        (s.state === 'Unknown' && late) ||
        (s.state === 'NotRestarted' && requested.has(workloadKey(c.ref)) && late),
    ),
    waiting: states.filter(({ s }) => s.state !== 'Ready' && s.state !== 'NotFound'),
    notFound: states.filter(({ s }) => s.state === 'NotFound'),
  };
}

/** "Deployment api, Rollout web". */
export const describeConsumers = (list: readonly ConsumerState[]) =>
  list.map(({ c }) => `${c.ref.kind} ${c.ref.name}`).join(', ');
