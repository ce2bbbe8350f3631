// Writing a Secret the informer has not seen, without reading it first. The informer caches
// only Secrets labelled as ours, so a miss is either no Secret at all — a new VaultSecret, the
// common case — or someone else's. The apply carries the precondition resourceVersion "1", a
// version no stored object has (etcd's revision 1 is its empty start; the first write is 2):
// a missing Secret is created (a create ignores it), an existing one fails with 409 Conflict
// before any field of it is touched — force included. Only then is the Secret read and judged
// by ownership.ts, so someone else's Secret is still refused untouched.
import type { V1Secret } from '@kubernetes/client-node';
import { FieldManager } from '../../apis/v1alpha1/index.ts';
import { type KubeClient, serverSideApply } from '../../kube/client.ts';
import { isConflict } from '../../kube/errors.ts';

/** A resourceVersion no existing object has: the apply may only create. */
export const CREATE_ONLY_VERSION = '1';

/** The applied object, made a create-only apply. */
export function createOnly(desired: V1Secret): V1Secret {
  return { ...desired, metadata: { ...desired.metadata, resourceVersion: CREATE_ONLY_VERSION } };
}

/** Creates the Secret only if none exists; undefined when one does (the apiserver's Conflict). */
export async function createFirst(client: KubeClient, desired: V1Secret): Promise<V1Secret | undefined> {
  try {
    return await serverSideApply(client, createOnly(desired), {
      fieldManager: FieldManager.VaultSecret,
      force: true,
    });
  } catch (err) {
    if (isConflict(err)) return undefined;
    throw err;
  }
}
