/**
 * The embedded local CA: a CA key and certificate kept in a kubernetes.io/tls Secret (by default
 * `vaultsync-local-ca` in the operator's namespace), created on first use unless the user
 * provides one (`ca.create: false`). It signs the controller's CSRs in-process; in mode issue it
 * makes the key itself. The certificate says what the request says, never what the CSR adds:
 * CA:FALSE unless `allowCA` and the request's isCA. Meant for development (`make dev`) and
 * clusters without a PKI; it keeps no revocation list.
 *
 * The Secret is read again at most once a minute, so a CA the user replaces is picked up.
 */
import type { V1Secret } from '@kubernetes/client-node';
import {
  MANAGED_BY,
  MANAGED_BY_LABEL,
  PART_OF,
  PART_OF_LABEL,
  VAULT_CERTIFICATE_DEFAULTS,
  parseDuration,
} from '../apis/v1alpha1/index.ts';
import { BackendError, isBackendError } from '../resilience/errors.ts';
import type { CallContext } from '../backends/types.ts';
import type { LocalCaIssuerConfig } from '../config/schema.ts';
import { type KubeClient, createObject, getObject } from '../kube/client.ts';
import { isAlreadyExists, toKubeError } from '../kube/errors.ts';
import {
  type CertificateAuthority,
  CertificateFormatError,
  CsrError,
  KeyFormatError,
  type RsaKeyGenerator,
  certificateInfo,
  createCsr,
  createSelfSignedCa,
  generatePrivateKey,
  normalizeKeySpec,
  parseCertificate,
  parsePrivateKeyPem,
  signCsr,
  splitPemCertificates,
} from '../pki/index.ts';
import type { IssuedCertificate, Issuer, IssueRequest, SignRequest } from './types.ts';

/** Certificates start this long before they are issued, for clocks that lag a little. */
export const BACKDATE_MS = 30_000;
/** Lifetime of a certificate whose spec names no duration. */
export const DEFAULT_DURATION_MS = parseDuration(VAULT_CERTIFICATE_DEFAULTS.duration);
const RELOAD_AFTER_MS = 60_000;
export const CA_LABELS = {
  [MANAGED_BY_LABEL]: MANAGED_BY,
  [PART_OF_LABEL]: PART_OF,
};

export interface LocalCaIssuerDeps {
  readonly client: KubeClient;
  /** Namespace of the CA Secret when the config names none. */
  readonly operatorNamespace: string;
  readonly rsa: RsaKeyGenerator;
  readonly now?: () => number;
}

interface Loaded {
  ca: CertificateAuthority;
  caPem: string;
  notBefore: number;
  notAfter: number;
  resourceVersion: string | undefined;
  loadedAt: number;
}

export class LocalCaIssuer implements Issuer {
  readonly name: string;
  readonly type = 'local-ca' as const;
  readonly supportsRevocation = false;
  readonly #cfg: LocalCaIssuerConfig;
  readonly #deps: LocalCaIssuerDeps;
  readonly #now: () => number;
  readonly #namespace: string;
  #loaded: Loaded | undefined;
  #loading: Promise<Loaded> | undefined;

  constructor(cfg: LocalCaIssuerConfig, deps: LocalCaIssuerDeps) {
    this.name = cfg.name;
    this.#cfg = cfg;
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#namespace = cfg.ca.namespace ?? deps.operatorNamespace;
  }

  async sign(req: SignRequest): Promise<IssuedCertificate> {
    const ca = await this.#ca();
    const now = this.#now();
    const durationMs = req.durationMs ?? DEFAULT_DURATION_MS;
    if (durationMs > this.#cfg.maxDuration) {
      throw this.#invalid(
        `requested duration ${hours(durationMs)} is longer than the local CA allows (maxDuration ${hours(this.#cfg.maxDuration)})`,
      );
    }
    const notAfter = now + durationMs;
    if (notAfter > ca.notAfter) {
      throw this.#invalid(
        `the certificate would outlive the CA (CA expires ${new Date(ca.notAfter).toISOString()}); shorten spec.duration or renew the CA`,
      );
    }
    let certificatePem: string;
    try {
      // Subject, names, usages and CA flag from the request; the CSR gives only the key.
      certificatePem = await signCsr(ca.ca, req.csr, req, {
        notBefore: new Date(Math.max(ca.notBefore, now - BACKDATE_MS)),
        notAfter: new Date(notAfter),
        allowCA: this.#cfg.allowCA,
      });
    } catch (err) {
      if (err instanceof CsrError) throw this.#invalid(err.message);
      throw err;
    }
    return { certificatePem, chainPem: [], caPem: ca.caPem, warnings: [] };
  }

  async issue(req: IssueRequest, ctx: CallContext): Promise<IssuedCertificate> {
    const key = await generatePrivateKey(req.key, {
      rsa: this.#deps.rsa,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    const issued = await this.sign({ ...req, csr: await createCsr(req, key) });
    return { ...issued, privateKeyPem: key.pem() };
  }

  async revoke(): Promise<void> {
    throw this.#invalid('the local CA keeps no revocation list; nothing was revoked');
  }

  async check(): Promise<void> {
    await this.#ca();
  }

  async close(): Promise<void> {
    this.#loaded = undefined;
  }

  /** The CA, read (or created) on first use and re-read once a minute. */
  async #ca(): Promise<Loaded> {
    const now = this.#now();
    if (this.#loaded && now - this.#loaded.loadedAt < RELOAD_AFTER_MS) return this.#loaded;
    if (!this.#loading) {
      const loading = this.#load().finally(() => {
        if (this.#loading === loading) this.#loading = undefined;
      });
      this.#loading = loading;
    }
    return this.#loading;
  }

  async #load(): Promise<Loaded> {
    const where = `Secret ${this.#namespace}/${this.#cfg.ca.secretName}`;
    let secret = await this.#get();
    if (!secret) {
      if (!this.#cfg.ca.create) {
        throw new BackendError(
          'NotFound',
          `the local CA ${where} does not exist; create it (tls.crt, tls.key) or set ca.create: true`,
          { backend: this.name },
        );
      }
      await this.#create();
      secret = await this.#get();
      if (!secret) throw new BackendError('Unavailable', `the local CA ${where} vanished after creation`);
    }
    if (this.#loaded && secret.metadata?.resourceVersion === this.#loaded.resourceVersion) {
      this.#loaded = { ...this.#loaded, loadedAt: this.#now() };
      return this.#loaded;
    }
    this.#loaded = { ...this.#parse(secret, where), loadedAt: this.#now() };
    return this.#loaded;
  }

  #parse(secret: V1Secret, where: string): Omit<Loaded, 'loadedAt'> {
    const text = (k: string) => Buffer.from(secret.data?.[k] ?? '', 'base64').toString('utf8');
    const caPem = splitPemCertificates(text('tls.crt'))[0];
    if (!caPem) throw this.#invalid(`the local CA ${where} has no certificate in tls.crt`);
    try {
      const certificate = parseCertificate(caPem);
      const key = parsePrivateKeyPem(text('tls.key'));
      const info = certificateInfo(certificate);
      if (!info.isCA) throw this.#invalid(`the certificate in ${where} is not a CA (basic constraints)`);
      if (!key.spki().equals(info.spki)) throw this.#invalid(`tls.key of ${where} does not match tls.crt`);
      if (info.notAfter.getTime() <= this.#now()) throw this.#invalid(`the local CA in ${where} has expired`);
      return {
        ca: { certificate, key },
        caPem,
        notBefore: info.notBefore.getTime(),
        notAfter: info.notAfter.getTime(),
        resourceVersion: secret.metadata?.resourceVersion,
      };
    } catch (err) {
      if (err instanceof KeyFormatError || err instanceof CertificateFormatError) {
        throw this.#invalid(`the local CA ${where}: ${err.message}`);
      }
      throw err;
    }
  }

  async #get(): Promise<V1Secret | undefined> {
    try {
      return await getObject<V1Secret>(this.#deps.client, {
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: this.#namespace,
        name: this.#cfg.ca.secretName,
      });
    } catch (err) {
      throw kubeFailure(
        err,
        `cannot read the local CA Secret ${this.#namespace}/${this.#cfg.ca.secretName}`,
        this.name,
      );
    }
  }

  async #create(): Promise<void> {
    const spec = normalizeKeySpec({ algorithm: this.#cfg.ca.keyAlgorithm });
    const key = await generatePrivateKey(spec, { rsa: this.#deps.rsa });
    const now = this.#now();
    const certPem = await createSelfSignedCa({
      commonName: this.#cfg.ca.commonName,
      key,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + this.#cfg.ca.duration),
    });
    try {
      await createObject<V1Secret>(this.#deps.client, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: this.#cfg.ca.secretName, namespace: this.#namespace, labels: CA_LABELS },
        type: 'kubernetes.io/tls',
        data: {
          'tls.crt': Buffer.from(certPem).toString('base64'),
          'tls.key': Buffer.from(key.pem().reveal()).toString('base64'),
        },
      });
    } catch (err) {
      // Another replica was first: use its CA.
      if (!isAlreadyExists(err)) {
        throw kubeFailure(
          err,
          `cannot create the local CA Secret ${this.#namespace}/${this.#cfg.ca.secretName}`,
          this.name,
        );
      }
    }
  }

  #invalid(message: string): BackendError {
    return new BackendError('InvalidRequest', message, { backend: this.name });
  }
}

function hours(ms: number): string {
  return `${Math.round((ms / 3_600_000) * 100) / 100}h`;
}

function kubeFailure(err: unknown, context: string, backend: string): BackendError {
  if (isBackendError(err)) return err;
  const e = toKubeError(err);
  const code = e.code === 'Forbidden' ? 'PermissionDenied' : e.transient ? 'Unavailable' : 'Unknown';
  return new BackendError(code, `${context}: ${e.message}`, {
    backend,
    transient: e.transient || code === 'Unknown',
  });
}
