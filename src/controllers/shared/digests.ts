// The short form of a keyed MAC that names a Secret's data between controllers: in pending
// restarts, in what a SecretRotation waits for, in a certificate's restart request. Pure.

const MAC_PREFIX = /^hmac-sha256:v\d+:/;
/** Characters of the MAC kept in a digest: 96 bits, enough to tell two values apart. */
const DIGEST_LENGTH = 16;

/** The digest of a keyed MAC (a VaultSecret's status.secretMAC, a certificate's MAC). */
export function macDigest(mac: string): string {
  return mac.replace(MAC_PREFIX, '').slice(0, DIGEST_LENGTH);
}

/** Secret name (or `SecretRotation.<name>`) → macDigest of the data the pods must get. */
export type Digests = Readonly<Record<string, string>>;
