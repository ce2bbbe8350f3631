// Adding and removing a finalizer without losing anyone else's. The patch replaces the
// whole finalizers list, so it carries the resourceVersion it was computed from: if the
// object changed in between (someone else's finalizer came or went), the API server answers
// 409 Conflict and the caller retries from a fresh read (the workqueue does this for free).
import type { KubernetesObject } from '@kubernetes/client-node';
import { type KubeClient, mergePatch } from './client.ts';
import { refOf } from './resources.ts';

export function hasFinalizer(obj: KubernetesObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** The merge patch that sets `finalizers`, guarded by the object's resourceVersion. */
export function finalizersPatch(obj: KubernetesObject, finalizers: string[]): Record<string, unknown> {
  const resourceVersion = obj.metadata?.resourceVersion;
  if (!resourceVersion)
    throw new Error('finalizer patch needs the object as read (metadata.resourceVersion)');
  // null rather than [] removes the field, as the API server itself would store it.
  return { metadata: { resourceVersion, finalizers: finalizers.length > 0 ? finalizers : null } };
}

/** Adds `finalizer` if missing; returns the object as stored (unchanged object if nothing to do). */
export async function addFinalizer<T extends KubernetesObject>(
  client: KubeClient,
  obj: T,
  finalizer: string,
  opts: { fieldManager?: string } = {},
): Promise<T> {
  if (hasFinalizer(obj, finalizer)) return obj;
  const next = [...(obj.metadata?.finalizers ?? []), finalizer];
  return mergePatch<T>(client, refOf(obj), finalizersPatch(obj, next), opts);
}

/** Removes `finalizer` if present; returns the object as stored (unchanged object if nothing to do). */
export async function removeFinalizer<T extends KubernetesObject>(
  client: KubeClient,
  obj: T,
  finalizer: string,
  opts: { fieldManager?: string } = {},
): Promise<T> {
  if (!hasFinalizer(obj, finalizer)) return obj;
  const next = (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer);
  return mergePatch<T>(client, refOf(obj), finalizersPatch(obj, next), opts);
}
