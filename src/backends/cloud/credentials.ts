/**
 * Credentials kept in Kubernetes Secrets (`SecretKeyRef` in the config), read on demand: a
 * rotated Secret is picked up on the next read. Failures name the Secret and key, never data.
 */
import type { SecretKeyRef } from '../../config/schema.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import { BackendError, isBackendError } from '../../resilience/errors.ts';
import type { SecretsApi } from '../kube-client.ts';

export interface SecretRefReader {
  /** The value of `ref` (one trailing newline trimmed); rejects with `Unauthenticated`. */
  read(ref: SecretKeyRef, what: string, signal?: AbortSignal): Promise<Sensitive<string>>;
}

export function secretRefReader(
  secrets: SecretsApi | undefined,
  operatorNamespace: string,
  backend: string,
): SecretRefReader {
  return {
    async read(ref, what, signal) {
      if (!secrets)
        throw new Error(`backend "${backend}": a Kubernetes Secrets client is required by its auth config`);
      const ns = ref.namespace ?? operatorNamespace;
      const where = `Secret ${ns}/${ref.name}`;
      let secret;
      try {
        secret = await secrets.get(ns, ref.name, signal);
      } catch (err) {
        if (signal?.aborted && err === signal.reason) throw err;
        if (isBackendError(err)) {
          throw new BackendError(
            err.transient ? err.code : 'Unauthenticated',
            `cannot read ${what} from ${where}: ${err.message}`,
            { backend, transient: err.transient },
          );
        }
        throw new BackendError('Unauthenticated', `cannot read ${what} from ${where}`, { backend });
      }
      const b64 = secret?.data?.[ref.key];
      if (b64 === undefined) {
        const why = secret ? `has no key "${ref.key}"` : 'not found';
        throw new BackendError('Unauthenticated', `cannot read ${what}: ${where} ${why}`, { backend });
      }
      return new Sensitive(
        Buffer.from(b64, 'base64')
          .toString('utf8')
          .replace(/\r?\n$/, ''),
      );
    },
  };
}
