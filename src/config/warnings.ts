// Things that are allowed but worth a log line at start-up (never values).
import type { Config } from './schema.ts';

export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  for (const [i, b] of config.backends.entries()) {
    if (b.type === 'aws-secrets-manager' || b.type === 'gcp-secret-manager') {
      if (b.tls.insecure) {
        warnings.push(
          `backends[${i}].tls.insecure: plain-text connection to ${b.endpoint ?? 'the endpoint'}; use only with an emulator`,
        );
      }
    }
    if (b.type === 'azure-key-vault' && b.auth.emulator !== undefined) {
      warnings.push(
        `backends[${i}].auth.emulator: placeholder token for an emulator; real Key Vault refuses it`,
      );
    }
    if (b.type !== 'vault') continue;
    if (b.tls.insecure && b.address.startsWith('http://')) {
      warnings.push(
        `backends[${i}].address: plain http:// to Vault (tls.insecure: true); use only for development`,
      );
    }
    if (b.auth.token?.value !== undefined) {
      warnings.push(`backends[${i}].auth.token.value: inline token in the config; use only for development`);
    }
  }
  for (const b of config.issuers ?? []) {
    if (b.type !== 'vault-pki') continue;
    if (b.tls.insecure && b.address.startsWith('http://')) {
      warnings.push(
        `issuer ${b.name}: plain http:// to Vault (tls.insecure: true); use only for development`,
      );
    }
    if (b.auth.token?.value !== undefined) {
      warnings.push(`issuer ${b.name}: inline token in the config; use only for development`);
    }
  }
  const deletes = deletesWarning(config);
  if (deletes) warnings.push(deletes);
  return warnings;
}

/** API deletes switched on where no backend lets any namespace write (so every delete is a 403). */
function deletesWarning(config: Config): string | undefined {
  if (!config.api?.secretDeletes) return undefined;
  if (config.backends.some((b) => b.allowedWritePaths.length > 0)) return undefined;
  return 'api.secretDeletes: no backend has allowedWritePaths, so every delete is refused (403)';
}
