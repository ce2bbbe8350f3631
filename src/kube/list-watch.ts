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

/**
 * One source over several (one per namespace): a list lists every part and concatenates the
 * items; a watch runs one watch per part and ends, all parts together, when any part ends (the
 * informer then watches again, or relists after a 410). Each part's resourceVersion is kept
 * here, from its list and from its events, so every part resumes from its own version;
 * `params.resourceVersion` (which the informer takes from whichever part spoke last) is not used.
 */
export function mergeListWatch<T extends KubernetesObject>(
  parts: readonly ListWatchSource<T>[],
): ListWatchSource<T> {
  if (parts.length === 1) return parts[0]!;
  const versions: string[] = parts.map(() => '');
  return {
    async list(signal) {
      const results = await Promise.all(parts.map((p) => p.list(signal)));
      const items: T[] = [];
      results.forEach((r, i) => {
        versions[i] = r.resourceVersion;
        items.push(...r.items);
      });
      // Only a sign that a list happened: the informer hands it back, and it is ignored.
      return { items, resourceVersion: versions.join(',') };
    },

    async watch(params, onEvent, onDone) {
      let closed = false;
      const handles: (WatchHandle | undefined)[] = parts.map(() => undefined);
      const abortAll = () => {
        for (const h of handles) {
          try {
            h?.abort();
          } catch {
            // Already closed.
          }
        }
      };
      // The first part to end ends the merged watch; later ends and events are dropped, so a
      // part's version never moves past an event the informer did not see.
      const end = (err: unknown) => {
        if (closed) return;
        closed = true;
        abortAll();
        onDone(err);
      };
      const started = await Promise.allSettled(
        parts.map((p, i) =>
          p.watch(
            { ...params, resourceVersion: versions[i]! },
            (e) => {
              if (closed) return;
              const rv = e.object?.metadata?.resourceVersion;
              if (e.type !== 'ERROR' && rv) versions[i] = rv;
              onEvent(e);
            },
            end,
          ),
        ),
      );
      started.forEach((s, i) => {
        if (s.status === 'fulfilled') handles[i] = s.value;
      });
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (closed || failed) {
        // A part ended while the others were still starting (onDone was called), or one could
        // not start: stop the rest.
        const told = closed;
        closed = true;
        abortAll();
        if (failed && !told) throw failed.reason;
      }
      return {
        abort() {
          closed = true;
          abortAll();
        },
      };
    },
  };
}
