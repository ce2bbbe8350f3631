// The operator's version, from package.json (beside src/ in the repo, beside dist/ in the image).
import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const VERSION = readVersion();

/**
 * The User-Agent of the operator's API requests: names the replica, so the apiserver's audit
 * log tells two replicas with the same ServiceAccount apart.
 */
export function userAgent(identity: string): string {
  // Header values: printable ASCII only.
  return `vaultsync/${VERSION} (${identity.replace(/[^\x20-\x7e]/g, '?')})`;
}
