// When each tls Secret the operator writes first holds a certificate, seen by one watch on the
// Secrets vaultsync labels as a VaultCertificate's in one namespace (one long request whatever
// the count). Only the presence of tls.crt is looked at: no value is read or kept.
import * as k8s from '@kubernetes/client-node';
import { VAULTCERTIFICATE_OWNER_LABEL } from '../../src/apis/v1alpha1/labels.ts';

interface SecretEvent {
  metadata?: { name?: string };
  data?: Record<string, string>;
}

export class CertificateSecretWatch {
  /** Secret name → performance.now() when it first held a tls.crt. */
  readonly issuedAt = new Map<string, number>();
  readonly #kc: k8s.KubeConfig;
  readonly #namespace: string;
  #abort: AbortController | undefined;
  #waiter: { count: number; resolve: () => void } | undefined;
  #error: unknown;

  constructor(kc: k8s.KubeConfig, namespace: string) {
    this.#kc = kc;
    this.#namespace = namespace;
  }

  async start(): Promise<void> {
    this.#abort = await new k8s.Watch(this.#kc).watch(
      `/api/v1/namespaces/${this.#namespace}/secrets`,
      { labelSelector: VAULTCERTIFICATE_OWNER_LABEL },
      (_type: string, obj: SecretEvent) => this.#seen(obj),
      (err: unknown) => {
        if (err && this.#abort) this.#error = err;
      },
    );
  }

  stop(): void {
    const abort = this.#abort;
    this.#abort = undefined;
    abort?.abort();
  }

  /** Resolves once `count` Secrets held a certificate; rejects after `timeoutMs`. */
  async until(count: number, timeoutMs: number): Promise<void> {
    if (this.issuedAt.size >= count) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#waiter = { count, resolve };
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `${count} certificates: ${this.issuedAt.size} issued within ${timeoutMs} ms (${String(this.#error ?? '')})`,
              ),
            ),
          timeoutMs,
        );
      });
    } finally {
      clearTimeout(timer);
      this.#waiter = undefined;
    }
  }

  #seen(obj: SecretEvent): void {
    const name = obj.metadata?.name;
    if (!name || !obj.data?.['tls.crt'] || this.issuedAt.has(name)) return;
    this.issuedAt.set(name, performance.now());
    if (this.#waiter && this.issuedAt.size >= this.#waiter.count) this.#waiter.resolve();
  }
}
