/**
 * A find's tags as a Kubernetes label selector (`k=v,k2=v2`, every pair must match). Keys and
 * values are checked against Kubernetes' label syntax first: a value holding "," or "!" would
 * otherwise add terms of its own to the selector.
 */
import { BackendError } from '../resilience/errors.ts';

/** A label name, or a value when not empty: 63 characters, alphanumeric at both ends. */
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash === -1) return NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix) && NAME.test(key.slice(slash + 1));
}

/** `tags` as a selector ("" for none); InvalidRequest naming the first key or value that is no label. */
export function labelSelector(tags: Readonly<Record<string, string>>, backend: string): string {
  const terms: string[] = [];
  for (const [key, value] of Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!isLabelKey(key)) {
      throw new BackendError('InvalidRequest', `tag "${key.slice(0, 80)}" is not a Kubernetes label name`, {
        backend,
      });
    }
    if (value !== '' && !NAME.test(value)) {
      throw new BackendError(
        'InvalidRequest',
        `the value of tag "${key}" is not a Kubernetes label value (63 characters: letters, digits, "-", "_", ".")`,
        { backend },
      );
    }
    terms.push(`${key}=${value}`);
  }
  return terms.join(',');
}
