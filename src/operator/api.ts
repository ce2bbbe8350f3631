// The HTTPS API (and gRPC beside it), when the config has an `api:` section. It serves on every
// replica and writes on behalf of its callers, so it gets the unfenced client, backends and
// issuers; callers are authenticated by TokenReview and authorised by SubjectAccessReview.
import type { ApiConfig } from '../config/index.ts';
import { subjectAccessReviewAuthorizer, tokenReviewAuthenticator } from '../http/api/auth.ts';
import { type ApiServerOptions, type RunningApi, startApiServer } from '../http/api/server.ts';
import { serviceDnsNames } from '../http/api/tls.ts';
import type { KubeClient } from '../kube/client.ts';

/** The Service in front of the API (the chart's default name); its DNS names go into a generated certificate. */
const API_SERVICE_NAME = 'vaultsync';

export interface OperatorApiDeps extends Pick<
  ApiServerOptions,
  'logger' | 'audit' | 'backends' | 'issuers' | 'readers'
> {
  /** Unfenced. */
  client: KubeClient;
  /** The operator's namespace: the shared CA is kept there and the Service lives there. */
  namespace: string;
  /** What the trigger routes read. */
  caches: Omit<ApiServerOptions['triggers'], 'client'>;
}

export async function startOperatorApi(
  config: ApiConfig | undefined,
  d: OperatorApiDeps,
): Promise<RunningApi | undefined> {
  if (!config) return undefined;
  return startApiServer({
    config,
    logger: d.logger,
    audit: d.audit,
    authenticator: tokenReviewAuthenticator(d.client, {
      ttlMs: config.authCacheTtl,
      audience: config.audience,
    }),
    authorizer: subjectAccessReviewAuthorizer(d.client, config.authCacheTtl),
    triggers: { client: d.client, ...d.caches },
    backends: d.backends,
    issuers: d.issuers,
    readers: d.readers,
    dnsNames: serviceDnsNames(API_SERVICE_NAME, d.namespace),
    kube: { client: d.client, namespace: d.namespace },
  });
}
