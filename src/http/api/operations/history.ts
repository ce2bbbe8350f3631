// The history of a VaultSecret (changes of its synced data) or a SecretRotation (its versions and
// outcomes): status.history, served from the operator's informer caches — no backend read, no
// apiserver read, never a value (the entries hold versions and keyed MACs). RBAC: `get` on the
// resource itself, as `kubectl get` needs.
import { Type } from '@sinclair/typebox';
import type { SecretRotationStatus, VaultSecretHistoryEntry } from '../../../apis/v1alpha1/index.ts';
import { keyFor } from '../../../kube/resources.ts';
import { ApiError } from '../errors.ts';
import { Namespace, ObjectName } from '../schemas.ts';
import type { Operation } from './types.ts';

export type RotationHistoryEntry = NonNullable<SecretRotationStatus['history']>[number];

/** An informer cache of objects with a status.history. */
interface HistoryCache<E> {
  get(key: string): { status?: { history?: readonly E[] } } | undefined;
}

/** The caches the history is read from (the operator's: VaultSecret and SecretRotation informers). */
export interface HistoryDeps {
  vaultSecrets: HistoryCache<VaultSecretHistoryEntry>;
  rotations: HistoryCache<RotationHistoryEntry>;
}

export interface HistoryInput {
  readonly namespace: string;
  readonly name: string;
}

export interface HistoryAnswer<E> {
  namespace: string;
  name: string;
  kind: 'VaultSecret' | 'SecretRotation';
  /** Newest first; empty when nothing was recorded yet (or spec.historyLimit is 0). */
  history: E[];
}

function historyOperation<E>(
  kind: HistoryAnswer<E>['kind'],
  plural: string,
  cache: HistoryCache<E>,
): Operation<HistoryInput, HistoryAnswer<E>> {
  return {
    action: `${plural}.history`,
    access: (p) => ({ verb: 'get', resource: plural, namespace: p.namespace, name: p.name }),
    schema: { params: Type.Object({ namespace: Namespace, name: ObjectName }) },
    async run(input, ctx) {
      ctx.audit({ resource: `${kind}/${input.name}` });
      const found = cache.get(keyFor(input.namespace, input.name));
      if (!found)
        throw new ApiError('NotFound', `${kind} "${input.name}" not found in namespace "${input.namespace}"`);
      const history = [...(found.status?.history ?? [])];
      return { namespace: input.namespace, name: input.name, kind, history };
    },
  };
}

export function historyOperations(deps: HistoryDeps) {
  return {
    vaultSecret: historyOperation('VaultSecret', 'vaultsecrets', deps.vaultSecrets),
    rotation: historyOperation('SecretRotation', 'secretrotations', deps.rotations),
  };
}
