// The three kinds the plugin knows, by every name a user may type (kind, plural, singular,
// short name, any case), and `<kind>/<name>` arguments.
import { KIND_DEFINITIONS, KINDS, type Kind, type KindDefinition } from '../apis/v1alpha1/index.ts';

const BY_NAME = new Map<string, KindDefinition>();
for (const kind of KINDS) {
  const def = KIND_DEFINITIONS[kind];
  for (const name of [def.kind, def.plural, def.singular, ...def.shortNames])
    BY_NAME.set(name.toLowerCase(), def);
}
// What kubectl users type for certificates and secrets of this group.
BY_NAME.set('certificate', KIND_DEFINITIONS.VaultCertificate);
BY_NAME.set('cert', KIND_DEFINITIONS.VaultCertificate);

/** The kind a user named, or undefined. */
export function kindNamed(name: string): KindDefinition | undefined {
  return BY_NAME.get(name.toLowerCase().replace(/\.vaultsync\.io$/, ''));
}

export interface KindAndName {
  kind: Kind;
  name: string;
}

/** `vaultsecret/db`, `vcert/web`, `SecretRotation/db-password`; throws a message for anything else. */
export function parseKindAndName(arg: string): KindAndName {
  const slash = arg.indexOf('/');
  if (slash <= 0 || slash === arg.length - 1) {
    throw new UsageError(`expected <kind>/<name> (e.g. vaultsecret/db), got "${arg}"`);
  }
  const def = kindNamed(arg.slice(0, slash));
  if (!def) {
    throw new UsageError(
      `unknown kind "${arg.slice(0, slash)}": use vaultsecret, vaultcertificate or secretrotation`,
    );
  }
  return { kind: def.kind, name: arg.slice(slash + 1) };
}

/** A mistake in the command line: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
