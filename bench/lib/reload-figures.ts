// Pure arithmetic of the reload scenario: which Deployment each change touches, whether every
// change patched its Deployment exactly once (and no other), and the goal's verdict. No I/O, so
// each rule has a unit test beside it.
import type { Knobs } from './knobs.ts';
import { type ResourceRef, resourceRef } from './workload.ts';

/** One Deployment of the scenario, opted in to one bench Secret (a Secret of the cold sync). */
export interface ReloadTarget {
  /** The resource whose Secret the Deployment asks to be reloaded for. */
  ref: ResourceRef;
  /** The Deployment's name (in the Secret's namespace). */
  deployment: string;
}

/**
 * `workloads` Deployments spread evenly over the N resources (so both namespaces and many paths
 * are used), each opted in to its own resource's Secret: one change restarts one Deployment.
 */
export function reloadTargets(workloads: number, knobs: Pick<Knobs, 'resources' | 'paths'>): ReloadTarget[] {
  const w = Math.min(workloads, knobs.resources);
  return Array.from({ length: w }, (_, j) => ({
    ref: resourceRef(Math.floor((j * knobs.resources) / w), knobs),
    deployment: `reload-${j}`,
  }));
}

/** A resource no Deployment asks for (the first; the first of all when every one is asked for). */
export function untargeted(targets: readonly ReloadTarget[], knobs: Pick<Knobs, 'resources' | 'paths'>) {
  const taken = new Set(targets.map((t) => t.ref.index));
  let i = 0;
  while (taken.has(i) && i < knobs.resources - 1) i++;
  return resourceRef(taken.has(i) ? 0 : i, knobs);
}

/** The changes timed, one after another: `reloads` of them, round-robin over the targets. */
export function changeOrder<T>(targets: readonly T[], reloads: number): T[] {
  if (targets.length === 0) return [];
  return Array.from({ length: reloads }, (_, k) => targets[k % targets.length]!);
}

export interface PatchVerdict {
  /** Pod-template patches seen on the scenario's Deployments. */
  patches: number;
  /** Deployments patched more often than they were changed for (a change restarting twice). */
  extra: number;
  /** Deployments patched less often than they were changed for (a change lost). */
  missing: number;
  /** Every Deployment got exactly as many patches as changes asked for it (none for the others). */
  exact: boolean;
}

/**
 * Compares the patches seen per Deployment (`seen`: id → times of its pod-template changes) with
 * the changes that asked for each (`wanted`: id → count); ids in neither count as 0.
 */
export function patchVerdict(
  wanted: ReadonlyMap<string, number>,
  seen: ReadonlyMap<string, readonly number[]>,
): PatchVerdict {
  let patches = 0;
  let extra = 0;
  let missing = 0;
  for (const id of new Set([...wanted.keys(), ...seen.keys()])) {
    const got = seen.get(id)?.length ?? 0;
    const want = wanted.get(id) ?? 0;
    patches += got;
    if (got > want) extra++;
    if (got < want) missing++;
  }
  return { patches, extra, missing, exact: extra === 0 && missing === 0 };
}

/** How many changes asked for each id. */
export function countById(ids: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const id of ids) out.set(id, (out.get(id) ?? 0) + 1);
  return out;
}

/** Issue 15: Secret change → workload patched within the debounce plus 1 s, at p99. */
export const withinGoal = (p99Ms: number, debounceMs: number): boolean => p99Ms <= debounceMs + 1000;

/**
 * A generation is a spec change (here: the pod template, the only spec anyone patches). The
 * first sight of a Deployment (the watch's ADDED) is where counting starts, not a change.
 */
export const isTemplateChange = (previous: number | undefined, generation: number): boolean =>
  previous !== undefined && generation > previous;
