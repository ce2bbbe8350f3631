/**
 * Who the sidecar is: the pod's ServiceAccount, read from the claims of its projected token.
 * The token is not verified here — it is our own, read from our own volume; the backends
 * (Vault's Kubernetes auth through TokenReview) are the ones who verify it. The claims only tell
 * the sidecar its namespace, so that it serves that namespace and no other.
 */
import type { SecretFileReader } from '../config/files.ts';
import type { TokenSource } from '../backends/kube-client.ts';

export interface PodIdentity {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly audiences: readonly string[];
  /** The token's `exp` claim, when it has one. */
  readonly expiresAtMs?: number;
}

interface ServiceAccountClaims {
  aud?: string | string[];
  exp?: number;
  'kubernetes.io'?: { namespace?: string; serviceaccount?: { name?: string } };
}

/** The ServiceAccount a projected token was issued to (pure; never prints the token). */
export function identityFromToken(jwt: string): PodIdentity {
  const payload = jwt.split('.')[1];
  let claims: ServiceAccountClaims;
  try {
    claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as ServiceAccountClaims;
  } catch {
    throw new Error('the ServiceAccount token file does not hold a JWT');
  }
  const namespace = claims['kubernetes.io']?.namespace;
  const serviceAccount = claims['kubernetes.io']?.serviceaccount?.name;
  if (typeof namespace !== 'string' || typeof serviceAccount !== 'string') {
    throw new Error('the token file holds no ServiceAccount token (no kubernetes.io claims)');
  }
  const aud = claims.aud;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.map(String) : [];
  const expiresAtMs = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  return { namespace, serviceAccount, audiences, ...(expiresAtMs !== undefined && { expiresAtMs }) };
}

/** Why this identity's token will not do for `audience`, or undefined; `setting` is where it is set. */
export function audienceProblem(
  identity: PodIdentity,
  audience: string,
  setting = 'sidecar.serviceAccountToken.audience',
): string | undefined {
  if (identity.audiences.includes(audience)) return undefined;
  const found = identity.audiences.length > 0 ? identity.audiences.join(', ') : 'none';
  return (
    `the ServiceAccount token is for audience ${found}, not "${audience}": project it with ` +
    `audience: ${audience} (serviceAccountToken in the pod's volumes), or set ${setting}`
  );
}

/**
 * The pod's projected token as the TokenSource Vault's Kubernetes auth asks at each login. The
 * file is read again every time: the kubelet replaces it before it expires, and a login happens
 * only when the Vault token must be renewed or replaced, never per request.
 */
export function projectedTokenSource(path: string, read: SecretFileReader): TokenSource {
  return { getServiceAccountToken: () => read(path) };
}
