// A VaultSecret's status: written only when it differs (key order ignored: a no-op reconcile
// must not write), by this controller's field manager.
import type { VaultSecret, VaultSecretStatus } from '../../apis/v1alpha1/index.ts';
import { API_VERSION, FieldManager } from '../../apis/v1alpha1/index.ts';
import { type KubeClient, patchStatus } from '../../kube/client.ts';
import { canonicalJson } from '../shared/canonical-json.ts';

/** Writes `status` if it differs; returns the object as written (undefined: nothing to write). */
export async function writeStatus(
  client: KubeClient,
  vs: VaultSecret,
  status: VaultSecretStatus,
): Promise<VaultSecret | undefined> {
  if (statusEqual(vs.status, status)) return undefined;
  return patchStatus<VaultSecret>(
    client,
    {
      apiVersion: API_VERSION,
      kind: 'VaultSecret',
      namespace: vs.metadata?.namespace ?? '',
      name: vs.metadata?.name ?? '',
    },
    withRemovals(vs.status ?? {}, status),
    { fieldManager: FieldManager.VaultSecret },
  );
}

/** Status equality that ignores key order (a no-op reconcile must not write). */
export function statusEqual(a: VaultSecretStatus | undefined, b: VaultSecretStatus | undefined): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b ?? {});
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `next` as a merge patch over `stored`: a merge patch keeps what it leaves out, so a field (or a
 * map key, such as a path no longer read in sourceVersions) that `next` no longer has is sent as
 * null. Arrays are replaced whole. Pure.
 */
export function withRemovals(stored: object, next: object): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  for (const [key, old] of Object.entries(stored)) {
    const now = patch[key];
    if (now === undefined) patch[key] = null;
    else if (isMap(old) && isMap(now)) patch[key] = withRemovals(old, now);
  }
  return patch;
}
