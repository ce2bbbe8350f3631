/**
 * Vault / OpenBao PKI as a certificate issuer, reached like the KV backend (src/backends/vault):
 * node-vault on our own transport, the same token / AppRole / Kubernetes auth and token cache.
 *   sign:   POST <mount>/sign/<role>   {csr, common_name, alt_names, ip_sans, uri_sans, ttl}
 *   issue:  POST <mount>/issue/<role>  {common_name, ..., private_key_format: pkcs8}
 *   revoke: POST <mount>/revoke        {serial_number}
 * The names are the request's. With the role's defaults (use_csr_common_name, use_csr_sans)
 * Vault takes them from the CSR, so a CSR asking for more than the request (names, subject,
 * usages, CA:TRUE) is refused before anything is sent.
 */
import type { Clock } from '../kube/clock.ts';
import { BackendError } from '../resilience/errors.ts';
import type { SecretsApi, TokenSource } from '../backends/kube-client.ts';
import type { CallContext } from '../backends/types.ts';
import {
  createVaultApi,
  createVaultRawApi,
  type VaultApi,
  type VaultRawApi,
  type VaultResponse,
} from '../backends/vault/api.ts';
import type { VaultAuth } from '../backends/vault/auth.ts';
import { createAuth } from '../backends/vault/backend.ts';
import type { SecretFileReader } from '../config/files.ts';
import type { VaultPkiIssuerConfig } from '../config/schema.ts';
import {
  CsrError,
  type KeySpec,
  assertCsrWithinRequest,
  colonSerial,
  csrPem,
  readCsr,
} from '../pki/index.ts';
import { Sensitive } from '../secrets/sensitive.ts';
import { splitChain } from './chain.ts';
import type { CertificateOrder, IssuedCertificate, Issuer, IssueRequest, SignRequest } from './types.ts';
import { withVaultToken } from '../backends/vault/with-token.ts';

export interface VaultPkiIssuerDeps {
  readonly clock: Clock;
  readonly operator: { readonly namespace: string; readonly serviceAccountName: string };
  readonly tokenSource?: TokenSource;
  readonly secrets?: SecretsApi;
  readonly readSecretFile?: SecretFileReader;
  readonly onAuthEvent?: (event: 'login' | 'renew' | 'renew-failed', identity: string) => void;
  /** Test seams. */
  readonly api?: VaultApi;
  readonly raw?: VaultRawApi;
}

export class VaultPkiIssuer implements Issuer {
  readonly name: string;
  readonly type = 'vault-pki' as const;
  readonly supportsRevocation = true;
  readonly #cfg: VaultPkiIssuerConfig;
  readonly #api: VaultApi;
  readonly #raw: VaultRawApi;
  readonly #auth: VaultAuth;

  constructor(cfg: VaultPkiIssuerConfig, deps: VaultPkiIssuerDeps) {
    this.name = cfg.name;
    this.#cfg = cfg;
    const options = {
      address: cfg.address,
      ...(cfg.namespace === undefined ? {} : { namespace: cfg.namespace }),
      ...(cfg.tls.caPem === undefined ? {} : { caPem: cfg.tls.caPem }),
      allowHttp: cfg.tls.insecure,
    };
    this.#api = deps.api ?? createVaultApi(options);
    this.#raw = deps.raw ?? createVaultRawApi(options);
    this.#auth = createAuth(cfg, deps, this.#api);
  }

  async sign(req: SignRequest, ctx: CallContext): Promise<IssuedCertificate> {
    const role = this.#role(req);
    this.#noCa(req);
    // With the role's defaults (use_csr_common_name, use_csr_sans) Vault takes the names from the
    // CSR: it may ask for no more than the request, whose names are sent as parameters too.
    try {
      const { request } = await readCsr(req.csr);
      assertCsrWithinRequest(request, req);
    } catch (err) {
      if (err instanceof CsrError)
        throw new BackendError('InvalidRequest', err.message, { backend: this.name });
      throw err;
    }
    const body = { csr: csrPem(req.csr), ...orderParameters(req), format: 'pem' };
    const res = await this.#withToken(ctx, (token, signal) =>
      this.#raw.write(`${this.#cfg.pki.mount}/sign/${role}`, body, token, `sign with role "${role}"`, signal),
    );
    return this.#issued(res, false);
  }

  async issue(req: IssueRequest, ctx: CallContext): Promise<IssuedCertificate> {
    const role = this.#role(req);
    this.#noCa(req);
    // key_type / key_bits are honoured by roles with key_type "any" (OpenBao); others use their own.
    const body = {
      ...orderParameters(req),
      ...keyParameters(req.key),
      format: 'pem',
      private_key_format: 'pkcs8',
    };
    const res = await this.#withToken(ctx, (token, signal) =>
      this.#raw.write(
        `${this.#cfg.pki.mount}/issue/${role}`,
        body,
        token,
        `issue with role "${role}"`,
        signal,
      ),
    );
    return this.#issued(res, true);
  }

  async revoke(serialNumber: string, ctx: CallContext): Promise<void> {
    const serial = colonSerial(serialNumber);
    await this.#withToken(ctx, (token, signal) =>
      this.#raw.write(
        `${this.#cfg.pki.mount}/revoke`,
        { serial_number: serial },
        token,
        `revoke ${serial}`,
        signal,
      ),
    );
  }

  async check(signal?: AbortSignal): Promise<void> {
    const health = await this.#api.health(signal);
    if (!health.initialized || health.sealed) {
      throw new BackendError('Unavailable', `vault is ${health.sealed ? 'sealed' : 'not initialized'}`, {
        backend: this.name,
      });
    }
  }

  async close(): Promise<void> {
    this.#auth.close();
    this.#api.close();
    this.#raw.close();
  }

  #role(req: CertificateOrder): string {
    if (!req.role) {
      throw new BackendError(
        'InvalidRequest',
        `spec.issuer.role is required by the vault-pki issuer "${this.name}"`,
        {
          backend: this.name,
        },
      );
    }
    if (!/^[A-Za-z0-9_.@-]{1,128}$/.test(req.role)) {
      throw new BackendError('InvalidRequest', `"${req.role.slice(0, 80)}" is not a Vault role name`, {
        backend: this.name,
      });
    }
    return req.role;
  }

  /** sign/<role> and issue/<role> make leaf certificates only; a CA is refused, not downgraded. */
  #noCa(req: CertificateOrder): void {
    if (req.isCA) {
      throw new BackendError(
        'InvalidRequest',
        `the vault-pki issuer "${this.name}" makes no CA certificates (isCA: true)`,
        { backend: this.name },
      );
    }
  }

  #issued(res: VaultResponse, withKey: boolean): IssuedCertificate {
    const d = res.data;
    const certificatePem = typeof d.certificate === 'string' ? d.certificate : undefined;
    if (!certificatePem?.includes('BEGIN CERTIFICATE')) {
      throw new BackendError('Unknown', 'vault PKI answer holds no certificate', { backend: this.name });
    }
    const cas = Array.isArray(d.ca_chain)
      ? d.ca_chain.filter((c): c is string => typeof c === 'string')
      : typeof d.issuing_ca === 'string'
        ? [d.issuing_ca]
        : [];
    let chain;
    try {
      chain = splitChain(certificatePem, cas);
    } catch {
      throw new BackendError('Unknown', 'vault PKI answer holds no usable CA certificate', {
        backend: this.name,
      });
    }
    const issued: IssuedCertificate = { certificatePem, ...chain, warnings: res.warnings.filter(relevant) };
    if (!withKey) return issued;
    if (typeof d.private_key !== 'string' || !d.private_key.includes('PRIVATE KEY')) {
      throw new BackendError('Unknown', 'vault PKI answer holds no private key', { backend: this.name });
    }
    return { ...issued, privateKeyPem: new Sensitive(d.private_key) };
  }

  #withToken<T>(
    ctx: CallContext,
    fn: (token: Sensitive<string>, signal?: AbortSignal) => Promise<T>,
  ): Promise<T> {
    return withVaultToken(this.#auth, this.#api, ctx, fn);
  }
}

/**
 * Vault warns when a role ignores the names we also send as parameters (use_csr_common_name,
 * use_csr_sans): they are there for roles that need them, so those warnings are noise.
 */
function relevant(warning: string): boolean {
  return !/field was provided but the role is set with "use_csr_/.test(warning);
}

function keyParameters(key: KeySpec): Record<string, unknown> {
  switch (key.algorithm) {
    case 'ECDSA':
      return { key_type: 'ec', key_bits: key.size ?? 256 };
    case 'RSA':
      return { key_type: 'rsa', key_bits: key.size ?? 2048 };
    case 'Ed25519':
      return { key_type: 'ed25519' };
  }
}

/** The request fields both endpoints take. */
function orderParameters(req: CertificateOrder): Record<string, unknown> {
  // Vault roles require a common name by default (require_cn); without one in the spec the
  // first DNS name (or email) serves, as it would in the SANs anyway.
  const commonName = req.commonName ?? req.dnsNames[0] ?? req.emailAddresses[0];
  const altNames = [...req.dnsNames, ...req.emailAddresses];
  return {
    ...(commonName === undefined ? {} : { common_name: commonName }),
    ...(altNames.length > 0 ? { alt_names: altNames.join(',') } : {}),
    ...(req.ipAddresses.length > 0 ? { ip_sans: req.ipAddresses.join(',') } : {}),
    ...(req.uris.length > 0 ? { uri_sans: req.uris.join(',') } : {}),
    ...(req.durationMs === undefined ? {} : { ttl: `${Math.round(req.durationMs / 1000)}s` }),
  };
}
