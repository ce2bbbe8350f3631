// How an informer is configured and what it reports, and the list/watch source it runs on.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { BackoffOptions, Random } from './backoff.ts';
import type { Clock } from './clock.ts';
import { type ListWatchSource, kubeListWatch, mergeListWatch } from './list-watch.ts';
import type { Logger } from './logger.ts';
import type { ResourceType } from './resources.ts';
import { createRestClient } from './rest.ts';

export interface InformerOptions<T extends KubernetesObject> {
  resource: ResourceType;
  /** Used to build the default source (REST list + client-node Watch). */
  kubeConfig?: KubeConfig;
  /** Replaces the default source (tests). */
  source?: ListWatchSource<T>;
  namespace?: string;
  /**
   * Only these namespaces (a namespaced resource): one list and one watch per namespace, merged
   * into this one cache, so nothing outside them is ever requested. Empty or left out: all
   * namespaces (or `namespace`). Used with `kubeConfig` (a `source` is taken as it is).
   */
  namespaces?: readonly string[];
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Cache replay period (jittered down by 10%): every cached object is handed to the update
   * handlers as update(obj, obj), without a request. Default 10 min; 0 disables.
   */
  resyncIntervalMs?: number;
  /** Server-side watch timeout; each watch picks a value in [t, 2t); default 300 s. */
  watchTimeoutSeconds?: number;
  /** The watchdog replaces a watch silent for its timeout plus this; default 60 s. */
  watchdogGraceMs?: number;
  /** healthy() turns false after this long without a connected watch; default 60 s. */
  unhealthyAfterMs?: number;
  /** Backoff between failed cycles; default 1 s base, 30 s cap, decorrelated jitter. */
  backoff?: Partial<BackoffOptions>;
  /**
   * Applied to every object before it is cached or handed to handlers. Default: drop
   * metadata.managedFields and kubectl's last-applied-configuration annotation (memory; and
   * for Secrets, the annotation would hold the data a second time).
   */
  transform?: (obj: T) => T;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  /** For logs and status; default the resource kind. */
  name?: string;
}

/** What /readyz and the status page show of one informer. */
export interface InformerStatus {
  name: string;
  synced: boolean;
  healthy: boolean;
  watching: boolean;
  objects: number;
  lastEventTime?: string;
  lastSyncTime?: string;
  consecutiveFailures: number;
  lastError?: string;
}

/**
 * The given source, or REST lists and client-node watches: one pair per namespace in
 * `namespaces`, merged, or one for `namespace` (all namespaces when left out).
 */
export function informerSource<T extends KubernetesObject>(
  opts: InformerOptions<T>,
  inactivityGraceMs: number,
): ListWatchSource<T> {
  if (opts.source) return opts.source;
  if (!opts.kubeConfig) throw new Error('Informer needs a kubeConfig or a source');
  const kc = opts.kubeConfig;
  const rest = createRestClient(kc);
  const part = (namespace: string | undefined) =>
    kubeListWatch<T>(kc, rest, {
      resource: opts.resource,
      namespace,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      inactivityGraceMs,
    });
  const namespaces = opts.resource.namespaced ? [...new Set(opts.namespaces ?? [])] : [];
  return namespaces.length > 0 ? mergeListWatch(namespaces.map(part)) : part(opts.namespace);
}
