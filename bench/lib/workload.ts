// The bench's workload and what every scenario shares: N VaultSecrets over P backend paths
// (resource i reads path p<i mod P>), split over two namespaces so the memory scenario can drop
// nine tenth of them with two requests, and the context a scenario runs in.
import type { KubeConfig } from '@kubernetes/client-node';
import { type KubeClient, createObject } from '../../src/kube/index.ts';
import type { baoApi } from '../../test/support/testbed/openbao.ts';
import type { Testbed } from '../../test/support/testbed/index.ts';
import type { ServerCounters } from './counters.ts';
import type { Knobs } from './knobs.ts';
import type { BenchOperator } from './operator.ts';

export const VS_NAMESPACE = 'bench-vs';
export const VS_BULK_NAMESPACE = 'bench-vs-bulk';
export const VS_API = 'vaultsync.io/v1alpha1';

export interface BenchContext {
  bed: Testbed;
  kc: KubeConfig;
  client: KubeClient;
  bao: ReturnType<typeof baoApi>;
  counters: ServerCounters;
  operator: BenchOperator;
  knobs: Knobs;
  /** Concurrency of the baseline's and the harness's requests (tuned or BENCH_CONCURRENCY). */
  concurrency: number;
  /** Where the operator's CPU profiles go, when BENCH_CPU_PROFILE=1. */
  cpuProfileDir: string | undefined;
  log(line: string): void;
}

/** Resources kept by the memory scenario's small point: the first tenth, in VS_NAMESPACE. */
export const smallCount = (resources: number): number => Math.ceil(resources / 10);

export interface ResourceRef {
  index: number;
  namespace: string;
  name: string;
  /** The KV path under the bench prefix, e.g. `p7`. */
  path: string;
}

export function resourceRef(index: number, knobs: Pick<Knobs, 'resources' | 'paths'>): ResourceRef {
  return {
    index,
    namespace: index < smallCount(knobs.resources) ? VS_NAMESPACE : VS_BULK_NAMESPACE,
    name: `vs-${index}`,
    path: `p${index % knobs.paths}`,
  };
}

/** The value the bench stores at `path` in its `generation`th write. */
export const valueAt = (path: string, generation: number): string => `value-${path}-${generation}`;

/** Runs `fn` over `items`, `width` at a time. */
export async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** The VaultSecret of resource `ref`: one key `v` from its path, target Secret of the same name. */
export function createVaultSecret(client: KubeClient, ref: ResourceRef): Promise<unknown> {
  return createObject(client, {
    apiVersion: VS_API,
    kind: 'VaultSecret',
    metadata: { name: ref.name, namespace: ref.namespace },
    spec: {
      backend: 'vault',
      data: [{ secretKey: 'v', remoteRef: { path: `bench/${ref.path}`, property: 'v' } }],
    },
  });
}

/** Deletes every object of a namespaced collection with one request (no controller-manager here). */
export async function deleteAll(client: KubeClient, collectionPath: string): Promise<void> {
  await client.rest.request({ method: 'DELETE', path: collectionPath });
}

/**
 * Deletes the collection and waits until it is empty (a LIST of one item every 2 s): a delete
 * collection that outlasts the request timeout goes on in the apiserver.
 */
export async function deleteAllAndWait(
  ctx: Pick<BenchContext, 'client' | 'log'>,
  collectionPath: string,
  timeoutMs = 600_000,
): Promise<void> {
  await deleteAllBestEffort(ctx, collectionPath);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await ctx.client.rest.request<{ items: unknown[] }>({
      method: 'GET',
      path: collectionPath,
      query: { limit: '1' },
    });
    if (left.items.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${collectionPath} still not empty`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/**
 * Cleanup that no figure depends on: a delete collection of 10,000 Secrets can outlast the
 * apiserver's request timeout on a loaded machine (it goes on deleting), which must not lose the
 * scenario's figures.
 */
export async function deleteAllBestEffort(
  ctx: Pick<BenchContext, 'client' | 'log'>,
  collectionPath: string,
): Promise<void> {
  await deleteAll(ctx.client, collectionPath).catch((err: unknown) =>
    ctx.log(`cleanup of ${collectionPath} did not finish: ${String(err)}`),
  );
}

export const secretsOf = (ns: string) => `/api/v1/namespaces/${ns}/secrets`;
export const vaultSecretsOf = (ns: string) => `/apis/vaultsync.io/v1alpha1/namespaces/${ns}/vaultsecrets`;
