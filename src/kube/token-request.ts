// Short-lived ServiceAccount tokens (TokenRequest API), e.g. for Vault's Kubernetes auth.
// The token is a credential: it comes back wrapped in Sensitive, so logging the result
// prints [REDACTED].
import { Sensitive } from '../secrets/sensitive.ts';
import type { KubeClient } from './client.ts';
import { KubeError } from './errors.ts';
import { builtinResources, objectPath } from './resources.ts';

export interface ServiceAccountToken {
  token: Sensitive<string>;
  /** RFC 3339 time after which the API server rejects the token. */
  expirationTimestamp: string;
}

interface TokenRequestResponse {
  status?: { token?: string; expirationTimestamp?: string };
}

export async function createTokenRequest(
  client: KubeClient,
  namespace: string,
  serviceAccount: string,
  audiences: string[],
  expirationSeconds: number,
): Promise<ServiceAccountToken> {
  const res = await client.rest.request<TokenRequestResponse>({
    method: 'POST',
    path: objectPath(builtinResources.ServiceAccount, serviceAccount, namespace, 'token'),
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences, expirationSeconds },
    },
  });
  const token = res?.status?.token;
  if (!token) {
    throw new KubeError({ code: 'Unknown', status: 201, message: 'Unknown: TokenRequest returned no token' });
  }
  return { token: new Sensitive(token), expirationTimestamp: res.status?.expirationTimestamp ?? '' };
}
