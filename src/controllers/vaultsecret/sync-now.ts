// The `vaultsync.io/sync-now` trigger: any new value asks for one read of the backend now (the
// HTTPS API's sync trigger sets it); status.syncNowHandled records the digest of the one answered.
import type { VaultSecret } from '../../apis/v1alpha1/index.ts';
import { UserAnnotation, pendingToken } from '../../apis/v1alpha1/index.ts';

/** The vaultsync.io/sync-now value not answered yet, if any. */
export function syncNowToken(vs: VaultSecret): string | undefined {
  return pendingToken(vs.metadata?.annotations?.[UserAnnotation.SyncNow], vs.status?.syncNowHandled);
}
