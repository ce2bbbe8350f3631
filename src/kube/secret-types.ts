// Which Secret types hold user data, and which the cluster or a tool keeps for itself: vaultsync
// writes only the former (a VaultSecret merging keys, a kubernetes backend's writes).

/** Kubernetes' own Secret types that hold user data: a VaultSecret may merge keys into these. */
const USER_DATA_TYPES: ReadonlySet<string> = new Set([
  'Opaque',
  'kubernetes.io/basic-auth',
  'kubernetes.io/ssh-auth',
  'kubernetes.io/tls',
  'kubernetes.io/dockercfg',
  'kubernetes.io/dockerconfigjson',
]);
/** Type domains of Secrets that the cluster or a tool keeps for itself (tokens, Helm releases). */
const SYSTEM_TYPE_DOMAINS = ['kubernetes.io', 'k8s.io', 'helm.sh'];

/**
 * A Secret type vaultsync never merges into: every type of a reserved domain
 * (`kubernetes.io/service-account-token`, `bootstrap.kubernetes.io/token`, `helm.sh/release.v1`,
 * and types Kubernetes may add) except the user-data types above.
 */
export function isSystemSecretType(type: string | undefined): boolean {
  if (type === undefined || type === '' || USER_DATA_TYPES.has(type)) return false;
  const domain = type.includes('/') ? type.slice(0, type.indexOf('/')) : '';
  return SYSTEM_TYPE_DOMAINS.some((d) => domain === d || domain.endsWith(`.${d}`));
}
