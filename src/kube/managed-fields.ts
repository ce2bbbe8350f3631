// Who wrote an object, from its metadata.managedFields (the apiserver's record of which field
// manager owns which fields): whether a field manager applied or wrote it, a slim informer
// transform that keeps just that much, and handing over the fields of a field manager no longer
// used.
import type { KubernetesObject, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { type KubeClient, serverSideApply } from './client.ts';
import { stripBulkyMetadata } from './object-cache.ts';

/** The server-side apply entries of the object (updates and patches are not ownership). */
function applyEntries(obj: KubernetesObject | undefined): V1ManagedFieldsEntry[] {
  return (obj?.metadata?.managedFields ?? []).filter((m) => m.operation === 'Apply');
}

/** Did one of `managers` apply fields of this object (and still own some)? */
export function appliedBy(obj: KubernetesObject | undefined, managers: readonly string[]): boolean {
  return applyEntries(obj).some((m) => m.manager !== undefined && managers.includes(m.manager));
}

/** The field managers among `managers` that wrote fields of this object (apply, update or patch). */
export function writers(obj: KubernetesObject | undefined, managers: readonly string[]): string[] {
  return [
    ...new Set(
      (obj?.metadata?.managedFields ?? []).map((m) => m.manager ?? '').filter((m) => managers.includes(m)),
    ),
  ];
}

/**
 * An informer transform: drops bulky metadata (object-cache.ts) but keeps, of managedFields, the
 * manager and operation of the entries of `managers`, which is all appliedBy() and writers() read. The field
 * sets are left out: a Secret's would list every data key once more.
 */
export function keepWriters(managers: readonly string[]) {
  return <T extends KubernetesObject>(obj: T): T => {
    const kept = (obj.metadata?.managedFields ?? [])
      .filter((m) => m.manager !== undefined && managers.includes(m.manager))
      .map((m) => ({ manager: m.manager, operation: m.operation }));
    const slim = stripBulkyMetadata(obj);
    if (kept.length === 0) return slim;
    return { ...slim, metadata: { ...slim.metadata, managedFields: kept } };
  };
}

/**
 * `legacy` gives up every field it applied: what the current field manager applies as well stays
 * (it owns it too), what only `legacy` still owned (keys since dropped from the spec) is removed,
 * as it would have been had one manager written both times. Call it right after an apply by the
 * current manager, with the object that apply returned; it writes only when `legacy` still owns
 * fields. Returns the object as stored.
 */
export async function releaseFields<T extends KubernetesObject>(
  client: KubeClient,
  applied: T,
  legacy: string,
): Promise<T> {
  if (!appliedBy(applied, [legacy])) return applied;
  const { apiVersion, kind } = applied;
  const { name, namespace } = applied.metadata ?? {};
  return serverSideApply<T>(
    client,
    { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } } as T,
    { fieldManager: legacy },
  );
}
