// What the VaultSecret reconciler is given: its caches, clients and collaborators.
import type { V1Secret } from '@kubernetes/client-node';
import type { RefreshCause, VaultSecret } from '../../apis/v1alpha1/index.ts';
import type { Backend } from '../../backends/types.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { Clock } from '../../kube/clock.ts';
import type { OwnWrites } from '../../kube/own-writes.ts';
import type { MacKeyring } from '../../secrets/mac-keyring.ts';
import type { SecretChanges } from '../contracts.ts';
import type { ControllerEvents } from '../lifecycle.ts';
import type { FailureHold } from './failure-hold.ts';

export interface VaultSecretReconcilerDeps {
  client: KubeClient;
  vaultSecrets: { get(key: string): VaultSecret | undefined };
  /** The label-filtered Secret cache (only Secrets vaultsync wrote). */
  secrets: { get(key: string): V1Secret | undefined };
  backends: { get(name: string): Backend | undefined };
  /** Events, and the lifecycle facts SecretSynced / SecretSyncFailed (the webhooks' synced, sync_failed). */
  events: ControllerEvents;
  /** status.secretMAC is bound to the namespace and target Secret (secrets/mac-keyring.ts). */
  macKeys: MacKeyring;
  clock: Clock;
  defaultRefreshIntervalMs: number;
  /** Retry delay for failures that need a user's fix (not found, denied): no hot retries. */
  userErrorRetryMs?: number;
  /**
   * Told when the data of a VaultSecret's Secret really changed (the reload controller restarts
   * its consumers): it had synced data before (status.secretMAC) and the new data differs. Never
   * on the first sync, never for a restored edit, never on an operator restart. Told before status
   * records the new MAC, so a failed status write repeats it.
   */
  changes?: SecretChanges;
  /** True (once) when a read was asked for, e.g. by a SecretRotation that wrote a new version. */
  takeRefreshRequest?: (key: string) => RefreshCause | undefined;
  /** Failures that need a user's fix hold further backend reads (shared so deletes can forget). */
  failureHold?: FailureHold;
  /** Told of each Secret write, so its echo from the informer wakes no second reconcile. */
  ownWrites?: OwnWriteLog;
  /** The same for each status write of a sync. */
  ownStatusWrites?: OwnWriteLog;
}

type OwnWriteLog = Pick<OwnWrites, 'record'>;
