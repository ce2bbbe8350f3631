/**
 * The one interface the VaultCertificate controller uses to have a certificate made. An issuer
 * signs a CSR (mode sign: the key never leaves the cluster), or issues a certificate with a
 * key it makes itself (mode issue), and may revoke. Every call rejects with `BackendError`
 * (src/backends/errors.ts): the same codes, the same transient / user-fault split, messages
 * already cleaned of credentials.
 */
import type { CallContext } from '../backends/types.ts';
import type { CertificateRequestSpec, CsrInput, KeySpec } from '../pki/index.ts';
import type { Sensitive } from '../secrets/sensitive.ts';

export type IssuerType = 'vault-pki' | 'local-ca';

/** What to certify, and for how long. */
export interface CertificateOrder extends CertificateRequestSpec {
  /** Requested lifetime in ms; undefined: the issuer's default (Vault: the role's ttl). */
  durationMs?: number;
  /** Role to sign or issue with (vault-pki requires one). */
  role?: string;
}

export interface SignRequest extends CertificateOrder {
  /** The PKCS#10 request made with the key in the cluster: a PEM, or one this process built. */
  csr: CsrInput;
}

export interface IssueRequest extends CertificateOrder {
  /** The key wanted; an issuer may decide otherwise (a Vault role's key_type). */
  key: KeySpec;
}

export interface IssuedCertificate {
  /** The leaf certificate, PEM. */
  certificatePem: string;
  /** Intermediate CA certificates, issuer of the leaf first; no root. PEM each. */
  chainPem: readonly string[];
  /** The CA to trust (ca.crt): the root when known, else the top of the chain. */
  caPem: string;
  /** Mode issue: the key the issuer made (PKCS#8 PEM). */
  privateKeyPem?: Sensitive<string>;
  /** Warnings the backend returned (sanitised), e.g. a shortened TTL. */
  warnings: readonly string[];
}

export interface Issuer {
  readonly name: string;
  readonly type: IssuerType;
  /** Whether revoke() does anything (Vault PKI yes; the local CA keeps no revocation list). */
  readonly supportsRevocation: boolean;
  sign(req: SignRequest, ctx: CallContext): Promise<IssuedCertificate>;
  issue(req: IssueRequest, ctx: CallContext): Promise<IssuedCertificate>;
  /** Revokes the certificate with this serial (lower-case hex). */
  revoke(serialNumber: string, ctx: CallContext & { role?: string }): Promise<void>;
  /** Reachability, for /readyz and tests. */
  check(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export interface IssuerRegistry {
  get(name: string): Issuer | undefined;
  names(): readonly string[];
  close(): Promise<void>;
}
