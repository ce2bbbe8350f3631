// The network side of an informer behind a narrow interface (list a collection, watch it
// from a resourceVersion), so the informer's logic runs against a fake in unit tests.
import { type KubeConfig, type KubernetesObject, Watch } from '@kubernetes/client-node';
import type { RestClient } from './rest.ts';
import { type ResourceType, collectionPath } from './resources.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T> {
  type: WatchEventType;
  /** The object; for ERROR a Status. */
  object: T;
}

export interface ListResult<T> {
  items: T[];
  /** The snapshot version to start watching from. */
  resourceVersion: string;
}

export interface WatchParams {
  resourceVersion: string;
  /** Server-side watch duration; the server closes the watch cleanly after it. */
  timeoutSeconds: number;
}

export interface WatchHandle {
  abort(): void;
}

export interface ListWatchSource<T> {
  /** Lists every page; `signal` aborts it (on stop). */
  list(signal?: AbortSignal): Promise<ListResult<T>>;
  /**
   * Starts a watch. `onDone` is called once, when the watch ends for any reason (null on a
   * clean close). The promise rejects only if the watch could not even be attempted.
   */
  watch(
    params: WatchParams,
    onEvent: (e: WatchEvent<T>) => void,
    onDone: (err: unknown) => void,
  ): Promise<WatchHandle>;
}

export interface KubeListWatchOptions {
  resource: ResourceType;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size of list calls; default 500 (client-go's). */
  pageSize?: number;
  /**
   * client-node's Watch aborts a stream that sends no bytes for 30 s, but a healthy watch can
   * be silent until its timeoutSeconds. Each watch's limit is lifted to timeoutSeconds plus
   * this grace (default 60 s); the informer's own watchdog uses the same rule.
   */
  inactivityGraceMs?: number;
}

interface ListResponse<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

/** A ListWatchSource for the real API server: lists via `rest`, watches via client-node's Watch. */
export function kubeListWatch<T extends KubernetesObject>(
  kc: KubeConfig,
  rest: RestClient,
  opts: KubeListWatchOptions,
): ListWatchSource<T> {
  const path = collectionPath(opts.resource, opts.namespace);
  const selectors = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
  const { apiVersion, kind } = opts.resource;

  return {
    async list(signal) {
      const items: T[] = [];
      let resourceVersion = '';
      let token: string | undefined;
      do {
        const page = await rest.request<ListResponse<T>>({
          method: 'GET',
          path,
          query: { ...selectors, limit: opts.pageSize ?? 500, continue: token },
          signal,
        });
        // List items come without apiVersion/kind; watch events have them. Make them alike.
        for (const item of page.items ?? []) items.push({ ...item, apiVersion, kind });
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
        token = page.metadata?.continue || undefined;
      } while (token);
      return { items, resourceVersion };
    },

    async watch(params, onEvent, onDone) {
      const watch = new Watch(kc);
      if ('requestTimeoutMs' in watch) {
        // A private field in the typings (no option for it in 2.0.1); if it is renamed, the
        // 30 s default stays and quiet watches merely reconnect more often.
        (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs =
          params.timeoutSeconds * 1000 + (opts.inactivityGraceMs ?? 60_000);
      }
      const controller = await watch.watch(
        path,
        {
          ...selectors,
          resourceVersion: params.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: params.timeoutSeconds,
        },
        (type, object) => onEvent({ type: type as WatchEventType, object: object as T }),
        onDone,
      );
      return { abort: () => controller.abort() };
    },
  };
}
