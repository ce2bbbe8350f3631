// The reload scenario's baseline: what Reloader does (with its annotations strategy), as a plain
// script with the bed's admin credentials. The Deployments that name a Secret in an annotation are
// listed once; one watch on the namespace's Secrets; when a Secret's data changes, each
// Deployment naming it gets a digest of the new data on its pod template (one merge patch: the
// rollout). No debounce and no pending record: the simplest thing that patches the workload.
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { type KubeClient, mergePatch } from '../../src/kube/index.ts';
import { type OpenWatch, openWatch } from './watch.ts';

/** On a baseline Deployment: the Secret whose changes restart it (Reloader's `secret.reloader…/reload`). */
export const RELOADER_ANNOTATION = 'bench.vaultsync.io/reload-secret';
/** On its pod template: the digest of the data it was restarted for. */
export const RELOADER_DIGEST = 'bench.vaultsync.io/secret-digest';

interface Named {
  metadata?: { name?: string; annotations?: Record<string, string> };
}

/** SHA-256 of a Secret's data, entries in key order (the same data always gives the same digest). */
export function dataDigest(data: Record<string, string> | undefined): string {
  const h = createHash('sha256');
  for (const k of Object.keys(data ?? {}).sort()) h.update(`${k}\0${data![k]}\0`);
  return h.digest('hex');
}

/** Secret name → the Deployments that ask to be restarted when it changes. */
export function secretIndex(deployments: readonly Named[]): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const d of deployments) {
    const secret = d.metadata?.annotations?.[RELOADER_ANNOTATION];
    const name = d.metadata?.name;
    if (!secret || !name) continue;
    index.set(secret, [...(index.get(secret) ?? []), name]);
  }
  return index;
}

/** The restart: the new data's digest on the pod template. */
export const digestPatch = (digest: string) => ({
  spec: { template: { metadata: { annotations: { [RELOADER_DIGEST]: digest } } } },
});

/**
 * Has a Secret's data changed since it was last seen? The first sight (the watch's initial
 * state, a new Secret) restarts nothing.
 */
export const dataChanged = (previous: string | undefined, digest: string): boolean =>
  previous !== undefined && previous !== digest;

export class Reloader {
  /** Patches the apiserver refused (the scenario fails on any). */
  readonly failures: string[] = [];
  readonly #kc: KubeConfig;
  readonly #client: KubeClient;
  readonly #namespace: string;
  #index = new Map<string, string[]>();
  readonly #digests = new Map<string, string>();
  #watch: OpenWatch | undefined;

  constructor(kc: KubeConfig, client: KubeClient, namespace: string) {
    this.#kc = kc;
    this.#client = client;
    this.#namespace = namespace;
  }

  /** Lists the namespace's Deployments once, then watches its Secrets. */
  async start(): Promise<void> {
    const list = await this.#client.rest.request<{ items: Named[] }>({
      method: 'GET',
      path: `/apis/apps/v1/namespaces/${this.#namespace}/deployments`,
    });
    this.#index = secretIndex(list.items);
    this.#watch = await openWatch(
      this.#kc,
      `/api/v1/namespaces/${this.#namespace}/secrets`,
      (type, obj: Named & { data?: Record<string, string> }) => this.#seen(type, obj),
    );
  }

  stop(): void {
    this.#watch?.stop();
  }

  #seen(type: string, secret: Named & { data?: Record<string, string> }): void {
    const name = secret.metadata?.name ?? '';
    if (type === 'DELETED') return void this.#digests.delete(name);
    const digest = dataDigest(secret.data);
    const previous = this.#digests.get(name);
    this.#digests.set(name, digest);
    if (!dataChanged(previous, digest)) return;
    for (const deployment of this.#index.get(name) ?? []) {
      const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: this.#namespace, name: deployment };
      mergePatch(this.#client, ref, digestPatch(`${name}=${digest.slice(0, 22)}`)).catch((err: unknown) =>
        this.failures.push(`${deployment}: ${String(err)}`),
      );
    }
  }
}
