// An OpenBao dev server on loopback, configured the way the tests need it: KV v2 at secret/
// (the dev default), a PKI engine with a root CA and a role, and Kubernetes auth against
// the local apiserver with one tenant role.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binary } from './paths.ts';
import { freePort } from './ports.ts';
import { spawnManaged, waitUntil, type ManagedProcess } from './processes.ts';

export const baoRootToken = 'root';

export interface OpenBao {
  addr: string;
  token: string;
  process: ManagedProcess;
}

/**
 * OpenBao's file audit device (JSON lines, one request and one response entry per call; values
 * HMAC'd, never in clear), when the bed is started with `openbaoAudit`: fault tests count the
 * requests that reached OpenBao and the ones it refused.
 */
export const openbaoAuditLogFile = (dir: string) => join(dir, 'logs', 'openbao-audit.log');

export async function startOpenBao(
  dir: string,
  group: ManagedProcess[],
  opts: { audit?: boolean } = {},
): Promise<OpenBao> {
  const port = await freePort();
  const addr = `http://127.0.0.1:${port}`;
  const args = [
    'server',
    '-dev',
    `-dev-root-token-id=${baoRootToken}`,
    `-dev-listen-address=127.0.0.1:${port}`,
  ];
  if (opts.audit) {
    // OpenBao enables audit devices only from its config file (not through the API).
    const config = join(dir, 'openbao-audit.hcl');
    writeFileSync(
      config,
      `audit "file" "testbed" {\n  options {\n    file_path = ${JSON.stringify(openbaoAuditLogFile(dir))}\n  }\n}\n`,
    );
    args.push(`-config=${config}`);
  }
  const process = spawnManaged('openbao', binary('openbao', 'bao'), args, {
    logDir: join(dir, 'logs'),
    env: { HOME: dir, BAO_ADDR: addr },
    group,
  });
  await waitUntil('openbao', async () => (await fetch(`${addr}/v1/sys/health`)).ok, {
    timeoutMs: 30_000,
    process,
  });
  return { addr, token: baoRootToken, process };
}

/** A tiny client for set-up calls only; the operator itself goes through node-vault. */
export function baoApi(bao: { addr: string; token: string }) {
  return async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${bao.addr}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': bao.token, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`OpenBao ${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  };
}

export const pkiRole = { mount: 'pki', role: 'svc', allowedDomain: 'svc.cluster.local' };
export const kubernetesAuth = {
  mountPath: 'kubernetes',
  role: 'vaultsync-test',
  namespace: 'team-a',
  serviceAccount: 'vaultsync',
  policy: 'team-a',
};

export async function configurePki(bao: OpenBao): Promise<void> {
  const call = baoApi(bao);
  await call('POST', `sys/mounts/${pkiRole.mount}`, { type: 'pki', config: { max_lease_ttl: '87600h' } });
  await call('POST', `${pkiRole.mount}/root/generate/internal`, {
    common_name: 'vaultsync-testbed-root',
    ttl: '87600h',
    key_type: 'ec',
    key_bits: 256,
  });
  await call('POST', `${pkiRole.mount}/roles/${pkiRole.role}`, {
    allowed_domains: [pkiRole.allowedDomain, 'localhost'],
    allow_subdomains: true,
    allow_localhost: true,
    allow_ip_sans: true,
    max_ttl: '72h',
    key_type: 'any',
  });
}

export interface KubernetesAuthTarget {
  server: string;
  caPem: string;
  reviewerJwt: string;
}

export async function configureKubernetesAuth(bao: OpenBao, target: KubernetesAuthTarget): Promise<void> {
  const call = baoApi(bao);
  const { mountPath, role, namespace, serviceAccount, policy } = kubernetesAuth;
  await call('POST', `sys/auth/${mountPath}`, { type: 'kubernetes' });
  await call('POST', `auth/${mountPath}/config`, {
    kubernetes_host: target.server,
    kubernetes_ca_cert: target.caPem,
    token_reviewer_jwt: target.reviewerJwt,
    disable_local_ca_jwt: true,
  });
  await call('PUT', `sys/policies/acl/${policy}`, {
    // delete on data/ is a recoverable delete of the newest version; on metadata/ it removes
    // every version (the backend contract's delete `all`).
    policy: `path "secret/data/${namespace}/*" { capabilities = ["read", "create", "update", "delete"] }
path "secret/metadata/${namespace}/*" { capabilities = ["read", "list", "delete"] }`,
  });
  await call('POST', `auth/${mountPath}/role/${role}`, {
    bound_service_account_names: [serviceAccount],
    bound_service_account_namespaces: [namespace],
    // vaultsync asks for tokens with audience `vault` (auth.kubernetes.audiences default).
    audience: 'vault',
    token_policies: [policy],
    token_ttl: '1h',
  });
}
