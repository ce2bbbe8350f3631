// Which remote secrets a VaultSecret reads, and the links that follow from it between
// VaultSecrets and SecretRotations (a rotation's readers; the rotation a VaultSecret follows).
// Shared by the VaultSecret, SecretRotation and reload controllers. Pure.
import type { SecretRotation, VaultSecret, VaultSecretSpec } from '../../apis/v1alpha1/index.ts';

export interface SourceRef {
  readonly path: string;
  readonly version?: string;
}

export const sourceKey = (ref: SourceRef): string => (ref.version ? `${ref.path}@${ref.version}` : ref.path);

/**
 * Every remote secret the spec names, once each (dataFrom first, as it is applied first); what a
 * dataFrom[].find finds is known only once it ran (vaultsecret/find.ts).
 */
export function sourceRefs(spec: VaultSecretSpec): SourceRef[] {
  const refs = new Map<string, SourceRef>();
  const add = (path: string, version?: string) => {
    const ref = version ? { path, version } : { path };
    refs.set(sourceKey(ref), ref);
  };
  for (const { extract } of spec.dataFrom ?? []) if (extract) add(extract.path, extract.version);
  for (const item of spec.data ?? []) add(item.remoteRef.path, item.remoteRef.version);
  return [...refs.values()];
}

/**
 * Does the VaultSecret read backend/path at its latest version (so a new version reaches it)? A
 * path a dataFrom[].find found counts once read: status.sourceVersions names it.
 */
export function readsLatest(vs: VaultSecret, backend: string, path: string): boolean {
  if (vs.spec.backend !== backend) return false;
  if (sourceRefs(vs.spec).some((r) => r.path === path && r.version === undefined)) return true;
  const finds = (vs.spec.dataFrom ?? []).some((item) => item.find !== undefined);
  return finds && vs.status?.sourceVersions?.[path] !== undefined;
}

/** VaultSecrets (of the rotation's namespace) that read its backend path at its latest version. */
export function readersOf(sr: SecretRotation, vaultSecrets: readonly VaultSecret[]): VaultSecret[] {
  return vaultSecrets.filter((vs) => readsLatest(vs, sr.spec.backend, sr.spec.path));
}

/** The rotation (of the VaultSecret's namespace) writing a path it reads at its latest version. */
export function rotationFor(
  vs: VaultSecret,
  rotations: readonly SecretRotation[],
): SecretRotation | undefined {
  return rotations.find((sr) => readsLatest(vs, sr.spec.backend, sr.spec.path));
}

/** "namespace/backend/path": a rotated path, as the retirement notice names it. */
export const pathKey = (namespace: string, backend: string, path: string): string =>
  `${namespace}/${backend}/${path}`;
