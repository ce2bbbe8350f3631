// Runs a Vault call with the cached token of the caller's identity. A token the server
// rejects is checked once (lookup-self): only a revoked or expired one is replaced by a new
// login and the call repeated; a valid token without the policy fails as it is, so a
// misconfigured resource never causes a login per reconcile.
import type { Sensitive } from '../../secrets/sensitive.ts';
import { isBackendError } from '../../resilience/errors.ts';
import type { CallContext } from '../types.ts';
import type { VaultApi } from './api.ts';
import type { VaultAuth } from './auth.ts';

export async function withVaultToken<T>(
  auth: VaultAuth,
  api: Pick<VaultApi, 'lookupSelf'>,
  ctx: CallContext,
  fn: (token: Sensitive<string>, signal?: AbortSignal) => Promise<T>,
): Promise<T> {
  const { signal } = ctx;
  const first = await auth.token(ctx, signal);
  try {
    return await fn(first.value, signal);
  } catch (err) {
    const rejected =
      isBackendError(err) && (err.code === 'PermissionDenied' || err.code === 'Unauthenticated');
    if (!rejected || !first.fromCache) throw err;
    const valid = await api.lookupSelf(first.value, signal).then(
      () => true,
      () => false,
    );
    if (valid) throw err;
    auth.invalidate(first.identity, first.value);
    const second = await auth.token(ctx, signal);
    if (second.value.reveal() === first.value.reveal()) throw err;
    return await fn(second.value, signal);
  }
}
