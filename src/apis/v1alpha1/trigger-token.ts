// Trigger tokens (`vaultsync.io/sync-now`, `vaultsync.io/rotate-now`, `vaultsync.io/allow-shrink`):
// any new annotation value asks for one answer. The status records a digest of the answered
// value, never the value itself: an annotation may be far longer than the status field (253) and
// is the user's text, not ours to copy. A status written before digests (the raw value) still
// counts as answered, so an upgrade writes nothing.
import { createHash } from 'node:crypto';

const PREFIX = 'sha256:';

/** `sha256:<base64url>` of the token: 50 characters whatever the token's length. */
export function tokenDigest(token: string): string {
  return PREFIX + createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** Does the recorded answer (a digest, or a raw value from before digests) answer this token? */
export function tokenAnswered(handled: string | undefined, token: string): boolean {
  return handled !== undefined && (handled === tokenDigest(token) || handled === token);
}

/** The annotation's token when it is set and not answered yet. */
export function pendingToken(
  annotation: string | undefined,
  handled: string | undefined,
): string | undefined {
  return annotation !== undefined && annotation !== '' && !tokenAnswered(handled, annotation)
    ? annotation
    : undefined;
}
