// The reload controller's cache of Argo Rollouts: an informer on argoproj.io/v1alpha1 Rollouts
// that exists only while the Rollout CRD is served, so a cluster without Argo Rollouts gets no
// failing list/watch, no errors in the log and no effect on readiness.
//
// API discovery (GET /apis/argoproj.io/v1alpha1, uncached) is asked at start and then every
// `recheckMs` (default 60 s), and at once when a restart of a Rollout is owed while the CRD is not
// known to be served. A CRD installed later is therefore noticed within a minute without a
// restart of the operator (at once for an explicit restart target); a CRD removed stops the
// informer (its objects are reported deleted). While no informer runs, status() reports a synced,
// healthy cache of nothing: readiness depends on Rollouts only while their CRD is served.
import type { Cancel, Clock } from '../../kube/clock.ts';
import { isNotFound, toKubeError } from '../../kube/errors.ts';
import type { Informer } from '../../kube/informer.ts';
import type { InformerHandlers } from '../../kube/informer-handlers.ts';
import type { InformerStatus } from '../../kube/informer-options.ts';
import { type Logger, safeLog } from '../../kube/logger.ts';
import type { ResourceType } from '../../kube/resources.ts';
import type { RestClient } from '../../kube/rest.ts';
import { ARGO_ROLLOUT } from '../shared/workloads.ts';
import type { Workload } from '../contracts.ts';

/** What discovery said last: not asked yet (or no answer yet), not served, served. */
export type RolloutDiscovery = 'unknown' | 'absent' | 'served';

/**
 * One fresh discovery of the Rollout kind: its resource when argoproj.io/v1alpha1 serves it,
 * undefined when not (the group version is unknown, 404, or lists no Rollout). Throws otherwise.
 */
export async function discoverRollouts(rest: RestClient): Promise<ResourceType | undefined> {
  let list: { resources?: { name: string; kind: string; namespaced: boolean }[] };
  try {
    list = await rest.request({ method: 'GET', path: `/apis/${ARGO_ROLLOUT.apiVersion}` });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  const r = list.resources?.find((x) => x.kind === ARGO_ROLLOUT.kind && !x.name.includes('/'));
  return r && { ...ARGO_ROLLOUT, plural: r.name, namespaced: r.namespaced };
}

export interface RolloutCacheOptions {
  /** One fresh discovery (see discoverRollouts). */
  discover(): Promise<ResourceType | undefined>;
  /** Builds the Rollout informer once the resource is known. */
  createInformer(resource: ResourceType): Informer<Workload>;
  handlers: InformerHandlers<Workload>;
  clock: Clock;
  logger: Logger;
  /** How often discovery is asked again; default 60 s. */
  recheckMs?: number;
}

export const ROLLOUT_RECHECK_MS = 60_000;

export class RolloutCache {
  readonly name = 'rollouts';
  readonly #opts: RolloutCacheOptions;
  readonly #log: Logger;
  readonly #recheckMs: number;
  #discovery: RolloutDiscovery = 'unknown';
  #informer: Informer<Workload> | undefined;
  #checking: Promise<boolean> | undefined;
  #cancelTimer: Cancel | undefined;
  #started = false;
  #stopped = false;
  #lastError: string | undefined;
  #answeredAt: number | undefined;
  /** When the request of the last answer was sent. */
  #answerAskedAt: number | undefined;

  constructor(opts: RolloutCacheOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ informer: this.name });
    this.#recheckMs = opts.recheckMs ?? ROLLOUT_RECHECK_MS;
  }

  /** Discovery now, then every recheckMs (the informer, if any, starts from there). */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    void this.#tick();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#cancelTimer?.();
    await this.#checking;
    const informer = this.#informer;
    this.#informer = undefined;
    await informer?.stop();
  }

  discovery(): RolloutDiscovery {
    return this.#discovery;
  }

  /** Discovery answered (served or not) within the last `ms`. */
  answeredWithin(ms: number): boolean {
    return this.#answeredAt !== undefined && this.#opts.clock.now() - this.#answeredAt < ms;
  }

  /**
   * Discovery answered (served or not) a request sent at or after `at`: an answer that cannot
   * predate a CRD installed before `at`.
   */
  answeredSince(at: number): boolean {
    return this.#answerAskedAt !== undefined && this.#answerAskedAt >= at;
  }

  /** The CRD is served and its informer runs. */
  served(): boolean {
    return this.#informer !== undefined;
  }

  /** The informer has listed every Rollout (false while none runs). */
  hasSynced(): boolean {
    return this.#informer?.hasSynced() ?? false;
  }

  /**
   * What the cache knows is complete: the CRD is not served (nothing to know), or its informer
   * has synced. False until discovery first answered.
   */
  settled(): boolean {
    return this.#discovery === 'absent' || (this.#discovery === 'served' && this.hasSynced());
  }

  get(key: string): Workload | undefined {
    return this.#informer?.get(key);
  }

  list(namespace?: string): Workload[] {
    return this.#informer?.list(namespace) ?? [];
  }

  /** The informer's status while it runs; else an empty cache that is synced and healthy. */
  status(): InformerStatus {
    if (this.#informer) return this.#informer.status();
    return {
      name: this.name,
      synced: true,
      healthy: true,
      watching: false,
      objects: 0,
      consecutiveFailures: 0,
      ...(this.#lastError !== undefined && { lastError: this.#lastError }),
    };
  }

  /**
   * Asks discovery now (one request at a time) and starts or stops the informer to match.
   * Resolves whether the CRD is served. Never rejects.
   */
  recheck(): Promise<boolean> {
    if (this.#stopped) return Promise.resolve(false);
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #tick(): Promise<void> {
    await this.recheck();
    if (!this.#stopped) this.#cancelTimer = this.#opts.clock.after(this.#recheckMs, () => void this.#tick());
  }

  async #check(): Promise<boolean> {
    let resource: ResourceType | undefined;
    const askedAt = this.#opts.clock.now();
    try {
      resource = await this.#opts.discover();
    } catch (err) {
      // Not an answer (apiserver unreachable, throttled): keep what was known, ask again later.
      const message = toKubeError(err).message;
      if (message !== this.#lastError) {
        safeLog(this.#log, 'warn', 'Argo Rollouts discovery failed; asking again later', { error: message });
      }
      this.#lastError = message;
      return this.served();
    }
    this.#lastError = undefined;
    this.#answeredAt = this.#opts.clock.now();
    this.#answerAskedAt = askedAt;
    const before = this.#discovery;
    if (this.#stopped) return false;
    if (resource && !this.#informer) {
      const informer = this.#opts.createInformer(resource);
      informer.addHandlers(this.#opts.handlers);
      this.#informer = informer;
      informer.start();
      safeLog(this.#log, 'info', 'Argo Rollouts CRD is served: watching Rollouts', {
        resource: `${resource.plural}.${ARGO_ROLLOUT.apiVersion}`,
      });
    } else if (!resource && this.#informer) {
      const informer = this.#informer;
      this.#informer = undefined;
      const objects = informer.list();
      await informer.stop();
      // Everything it held is gone with the CRD: the controller drops its bookkeeping.
      for (const obj of objects) {
        try {
          this.#opts.handlers.delete?.(obj);
        } catch {
          // handlers only enqueue; a throw must not stop the others
        }
      }
      safeLog(this.#log, 'info', 'Argo Rollouts CRD is no longer served: stopped watching Rollouts');
    } else if (!resource && before === 'unknown') {
      safeLog(
        this.#log,
        'info',
        `Argo Rollouts CRD is not installed: Rollouts are not watched (discovery is asked again every ${Math.round(this.#recheckMs / 1000)}s)`,
      );
    }
    this.#discovery = resource ? 'served' : 'absent';
    return resource !== undefined;
  }
}
