// When each Deployment's pod template was patched, seen by one watch on the Deployments of the
// namespaces under test (a spec change bumps metadata.generation; the bed runs no
// controller-manager, so nothing else writes them). Used by the reload scenario to time a Secret
// change to the workload's patch and to count the patches each change caused.
import type { KubeConfig } from '@kubernetes/client-node';
import { isTemplateChange } from './reload-figures.ts';
import { type OpenWatch, openWatch } from './watch.ts';

interface DeploymentEvent {
  metadata?: { name?: string; namespace?: string; generation?: number };
}

export class DeploymentWatch {
  /** `namespace/name` → performance.now() of each pod-template change seen since start. */
  readonly patches = new Map<string, number[]>();
  readonly #kc: KubeConfig;
  readonly #namespaces: ReadonlySet<string>;
  readonly #generation = new Map<string, number>();
  readonly #next = new Map<string, (at: number) => void>();
  #watch: OpenWatch | undefined;

  constructor(kc: KubeConfig, namespaces: readonly string[]) {
    this.#kc = kc;
    this.#namespaces = new Set(namespaces);
  }

  /** Opens the watch (every Deployment of the cluster, filtered here by namespace). */
  async start(): Promise<void> {
    this.#watch = await openWatch(this.#kc, '/apis/apps/v1/deployments', (type, obj: DeploymentEvent) =>
      this.#seen(type, obj),
    );
  }

  stop(): void {
    this.#watch?.stop();
  }

  /** Forgets the patches seen so far (a new phase counts from zero). */
  reset(): void {
    this.patches.clear();
  }

  /** Resolves with the time of `id`'s next pod-template change; rejects after `timeoutMs`. */
  nextPatch(id: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#next.delete(id);
        reject(
          new Error(
            `${id}: no pod-template patch within ${timeoutMs} ms (${String(this.#watch?.error ?? '')})`,
          ),
        );
      }, timeoutMs);
      this.#next.set(id, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  }

  #seen(type: string, obj: DeploymentEvent): void {
    const ns = obj.metadata?.namespace ?? '';
    if (!this.#namespaces.has(ns)) return;
    const id = `${ns}/${obj.metadata?.name}`;
    // A Deployment deleted and created again under its name starts counting afresh.
    if (type === 'DELETED') return void this.#generation.delete(id);
    const generation = obj.metadata?.generation ?? 0;
    const changed = isTemplateChange(this.#generation.get(id), generation);
    this.#generation.set(id, generation);
    if (!changed) return;
    const at = performance.now();
    this.patches.set(id, [...(this.patches.get(id) ?? []), at]);
    const waiter = this.#next.get(id);
    this.#next.delete(id);
    waiter?.(at);
  }
}
