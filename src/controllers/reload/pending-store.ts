// Where pending restarts survive an operator restart and a leader change without a write to the
// workload: the ConfigMap `vaultsync-pending-restarts` in the operator's namespace, one data key
// per workload (pending-records.ts). The leader reads it once when it starts leading (`load`),
// then keeps its copy in memory and writes each change with a JSON merge patch of that one key —
// records of different workloads never conflict, and only the leader's workers write. The
// ConfigMap is created with the first record and left in place (empty) afterwards.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { type KubeClient, createObject, getObject, mergePatch } from '../../kube/client.ts';
import { isAlreadyExists, isNotFound } from '../../kube/errors.ts';
import type { Logger } from '../../kube/logger.ts';
import type { MacKeyring } from '../../secrets/mac-keyring.ts';
import type { PendingRestart } from './annotations.ts';
import {
  PENDING_CONFIGMAP,
  decodeRecord,
  encodeRecord,
  recordChanged,
  recordKey,
} from './pending-records.ts';
import type { WorkloadRef } from '../contracts.ts';
import { workloadKey } from '../shared/workloads.ts';

export interface PendingStoreOptions {
  client: KubeClient;
  /** The operator's namespace (`operator.namespace`). */
  namespace: string;
  macKeys: MacKeyring;
  logger: Logger;
  fieldManager: string;
}

export class PendingRestartStore {
  readonly #opts: PendingStoreOptions;
  /** Workload key → its stored record, as last read or written. */
  readonly #records = new Map<string, PendingRestart>();
  readonly #refs = new Map<string, WorkloadRef>();
  #loading: Promise<void> | undefined;
  #loaded = false;

  constructor(opts: PendingStoreOptions) {
    this.#opts = opts;
  }

  get #ref() {
    return { apiVersion: 'v1', kind: 'ConfigMap', namespace: this.#opts.namespace, name: PENDING_CONFIGMAP };
  }

  /**
   * Reads the stored records once (later calls share the first read; a failed read is tried
   * again by the next call). Records this operator did not make, or cannot read, are ignored
   * and removed. Resolves with the workloads that are owed a restart.
   */
  async load(): Promise<WorkloadRef[]> {
    this.#loading ??= this.#read().catch((err: unknown) => {
      this.#loading = undefined;
      throw err;
    });
    await this.#loading;
    return [...this.#records.keys()].map((key) => this.#refs.get(key)!);
  }

  async #read(): Promise<void> {
    const cm = await getObject<V1ConfigMap>(this.#opts.client, this.#ref);
    const rejected: string[] = [];
    for (const [dataKey, value] of Object.entries(cm?.data ?? {})) {
      const record = decodeRecord(this.#opts.macKeys, dataKey, value);
      if (!record.ok) {
        this.#opts.logger.warn('Ignored a pending restart record vaultsync did not write', {
          configMap: `${this.#opts.namespace}/${PENDING_CONFIGMAP}`,
          key: dataKey,
          why: record.why,
        });
        rejected.push(dataKey);
        continue;
      }
      const key = workloadKey(record.ref);
      this.#records.set(key, record.pending);
      this.#refs.set(key, record.ref);
    }
    this.#loaded = true;
    if (rejected.length > 0) {
      await this.#patch(Object.fromEntries(rejected.map((k) => [k, null]))).catch((err: unknown) =>
        this.#opts.logger.warn('Failed to remove ignored pending restart records', { error: String(err) }),
      );
    }
  }

  /** Has `load` completed (the records in memory are the stored ones)? */
  loaded(): boolean {
    return this.#loaded;
  }

  get(ref: WorkloadRef): PendingRestart | undefined {
    return this.#records.get(workloadKey(ref));
  }

  has(key: string): boolean {
    return this.#records.has(key);
  }

  /** Stores a workload's pending restart (nothing is written when it is already stored). */
  async save(ref: WorkloadRef, pending: PendingRestart): Promise<void> {
    const key = workloadKey(ref);
    if (!recordChanged(this.#records.get(key), pending)) return;
    await this.#patch({ [recordKey(ref)]: encodeRecord(this.#opts.macKeys, ref, pending) });
    this.#records.set(key, pending);
    this.#refs.set(key, ref);
  }

  /** Removes a workload's record (after its restart, or when it is dropped or gone). */
  async remove(ref: WorkloadRef): Promise<void> {
    const key = workloadKey(ref);
    if (!this.#records.has(key)) return;
    try {
      await this.#patch({ [recordKey(ref)]: null });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.#records.delete(key);
    this.#refs.delete(key);
  }

  /** A merge patch of some data keys; the ConfigMap is created when it does not exist yet. */
  async #patch(data: Record<string, string | null>): Promise<void> {
    const { client, fieldManager } = this.#opts;
    try {
      await mergePatch(client, this.#ref, { data }, { fieldManager });
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const kept = Object.fromEntries(Object.entries(data).filter((e): e is [string, string] => e[1] !== null));
    if (Object.keys(kept).length === 0) return;
    try {
      await createObject<V1ConfigMap>(
        client,
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: PENDING_CONFIGMAP,
            namespace: this.#opts.namespace,
            labels: { 'app.kubernetes.io/part-of': 'vaultsync' },
          },
          data: kept,
        },
        { fieldManager },
      );
    } catch (err) {
      // Another writer created it in between: patch it.
      if (!isAlreadyExists(err)) throw err;
      await mergePatch(client, this.#ref, { data }, { fieldManager });
    }
  }
}
