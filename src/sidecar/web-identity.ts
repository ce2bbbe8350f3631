/**
 * AWS web identity for the sidecar (EKS IRSA, or any OIDC provider AWS trusts): the pod's
 * projected ServiceAccount token exchanged at STS (AssumeRoleWithWebIdentity) for the role's
 * temporary credentials. Written in the sidecar file as `auth.webIdentity` of an
 * `aws-secrets-manager` backend; taken out of the backend before the operator's loader sees it
 * (the operator's schema has no such field) and handed to the backend as its credentials.
 */
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { fromTokenFile } from '@aws-sdk/credential-provider-web-identity';
import { Type, type StaticDecode } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { pointerToPath } from '../config/pointer.ts';
import type { ConfigProblem } from '../config/problems.ts';
import { describeSchemaError } from '../config/schema-messages.ts';
import type { SecretFileReader } from '../config/files.ts';
import type { AwsBackendConfig, BackendConfig } from '../config/schema.ts';
import { audienceProblem, identityFromToken, type PodIdentity } from './identity.ts';

export const STS_AUDIENCE = 'sts.amazonaws.com';

export const WebIdentitySchema = Type.Object(
  {
    /** The IAM role whose trust policy names the cluster's OIDC provider and this ServiceAccount. */
    roleArn: Type.String({
      pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$',
      errorMessage: 'must be an IAM role ARN such as arn:aws:iam::123456789012:role/team-a-app',
    }),
    /** The projected token for STS; left out: `sidecar.serviceAccountToken.path`. */
    tokenFile: Type.Optional(
      Type.String({ pattern: '^/', minLength: 2, errorMessage: 'must be an absolute file path' }),
    ),
    /** The audience the token is projected for (the OIDC provider's client ID in IAM). */
    audience: Type.String({ minLength: 1, maxLength: 256, default: STS_AUDIENCE }),
    /** Another STS endpoint (a VPC endpoint, an emulator); left out: the region's STS. */
    stsEndpoint: Type.Optional(
      Type.String({ pattern: '^https?://', maxLength: 2048, errorMessage: 'must be an http(s) URL' }),
    ),
  },
  { additionalProperties: false },
);

export type WebIdentity = StaticDecode<typeof WebIdentitySchema>;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface TakenWebIdentity {
  /** The backends as written, without `auth.webIdentity` (for the operator's loader). */
  readonly backends: unknown;
  /** Backend name → its web identity. */
  readonly byBackend: ReadonlyMap<string, WebIdentity>;
  readonly problems: readonly ConfigProblem[];
}

/** Takes `auth.webIdentity` out of each backend of the file, checked (pure). */
export function takeWebIdentity(backends: unknown): TakenWebIdentity {
  if (!Array.isArray(backends)) return { backends, byBackend: new Map(), problems: [] };
  const byBackend = new Map<string, WebIdentity>();
  const problems: ConfigProblem[] = [];
  const rest = backends.map((item: unknown, index) => {
    if (!isObject(item) || !isObject(item.auth) || item.auth.webIdentity === undefined) return item;
    const { webIdentity, ...auth } = item.auth;
    const at = `backends[${index}].auth.webIdentity`;
    if (item.type !== 'aws-secrets-manager') {
      problems.push({ path: at, message: 'only an aws-secrets-manager backend has web identity' });
    } else {
      const found = parseWebIdentity(webIdentity, at, item.tls);
      if (Array.isArray(found)) problems.push(...found);
      else byBackend.set(String(item.name), found);
    }
    return { ...item, auth };
  });
  return { backends: rest, byBackend, problems };
}

function parseWebIdentity(raw: unknown, at: string, tls: unknown): WebIdentity | ConfigProblem[] {
  const value: unknown = Value.Default(WebIdentitySchema, raw);
  const problems = [...Value.Errors(WebIdentitySchema, value)].map((e) => ({
    path: e.path === '' ? at : `${at}.${pointerToPath(e.path)}`,
    message: describeSchemaError(e),
  }));
  if (problems.length > 0) return problems;
  const decoded = Value.Decode(WebIdentitySchema, value);
  const insecure = isObject(tls) && tls.insecure === true;
  if (decoded.stsEndpoint?.startsWith('http://') && !insecure) {
    return [{ path: `${at}.stsEndpoint`, message: 'plain http needs tls.insecure: true (emulators only)' }];
  }
  return decoded;
}

/**
 * Why the token at the web identity's file will not do, or undefined (pure): it must belong to
 * the pod the sidecar serves, be projected for the STS audience and not have expired. STS checks
 * the signature and the role's trust; these checks only give a clear error before asking.
 */
export function webIdentityTokenProblem(
  pod: PodIdentity,
  token: PodIdentity,
  audience: string,
  nowMs: number,
): string | undefined {
  if (token.namespace !== pod.namespace || token.serviceAccount !== pod.serviceAccount) {
    return `the web identity token is ServiceAccount ${token.namespace}/${token.serviceAccount}'s, not this pod's (${pod.namespace}/${pod.serviceAccount})`;
  }
  const wrongAudience = audienceProblem(token, audience, 'auth.webIdentity.audience');
  if (wrongAudience) return `web identity: ${wrongAudience}`;
  if (token.expiresAtMs !== undefined && token.expiresAtMs <= nowMs) {
    return `the web identity token expired at ${new Date(token.expiresAtMs).toISOString()}`;
  }
  return undefined;
}

/** The session name STS records (CloudTrail shows it): the pod's ServiceAccount (pure). */
export function roleSessionName(pod: PodIdentity): string {
  return `vaultsync-sidecar.${pod.namespace}.${pod.serviceAccount}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

/**
 * The credentials of one backend: AssumeRoleWithWebIdentity with the token file read again at
 * each call. The SDK client calls this when it has no credentials or they are about to expire,
 * so a token the kubelet has replaced is the one sent.
 */
export function webIdentityCredentials(
  web: WebIdentity,
  tokenFile: string,
  backend: AwsBackendConfig,
  pod: PodIdentity,
): ReturnType<typeof fromTokenFile> {
  const caPem = backend.tls.caPem;
  return fromTokenFile({
    webIdentityTokenFile: tokenFile,
    roleArn: web.roleArn,
    roleSessionName: roleSessionName(pod),
    clientConfig: {
      region: backend.region,
      maxAttempts: 1,
      ...(web.stsEndpoint !== undefined && { endpoint: web.stsEndpoint }),
      requestHandler: {
        requestTimeout: backend.timeout,
        ...(caPem !== undefined && {
          httpsAgent: new Agent({ keepAlive: true, ca: [...rootCertificates, caPem] }),
        }),
      },
    },
  });
}

/**
 * The credentials of each backend with `auth.webIdentity`, once its token file is checked
 * against the pod (refused at start-up with the reason; the token itself is never printed).
 */
export async function webIdentityProviders(
  backends: readonly BackendConfig[],
  byBackend: ReadonlyMap<string, WebIdentity>,
  defaultTokenFile: string,
  pod: PodIdentity,
  read: SecretFileReader,
  nowMs = Date.now(),
): Promise<Map<string, ReturnType<typeof fromTokenFile>>> {
  const providers = new Map<string, ReturnType<typeof fromTokenFile>>();
  for (const backend of backends) {
    const web = byBackend.get(backend.name);
    if (!web || backend.type !== 'aws-secrets-manager') continue;
    const tokenFile = web.tokenFile ?? defaultTokenFile;
    const what = `backend "${backend.name}": the web identity token ${tokenFile}`;
    const token = await read(tokenFile).catch((err: unknown) => {
      throw new Error(`${what}: ${(err as Error).message}`);
    });
    let problem: string | undefined;
    try {
      problem = webIdentityTokenProblem(pod, identityFromToken(token.reveal()), web.audience, nowMs);
    } catch (err) {
      problem = (err as Error).message;
    }
    if (problem) throw new Error(`${what}: ${problem}`);
    providers.set(backend.name, webIdentityCredentials(web, tokenFile, backend, pod));
  }
  return providers;
}
