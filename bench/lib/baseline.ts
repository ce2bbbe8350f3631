// The baseline: the same useful work as vaultsync done the best simple way, by a script with the
// bed's admin credentials — one read per unique path (a Map of promises, so concurrent readers of
// one path share it), the same Secrets written with one POST each, `concurrency` at a time.
import { type KubeClient, createObject, mergePatch, patchStatus } from '../../src/kube/index.ts';
import type { baoApi } from '../../test/support/testbed/openbao.ts';
import type { Counts } from './counters.ts';
import {
  type BenchContext,
  type ResourceRef,
  VS_API,
  createVaultSecret,
  deleteAll,
  deleteAllBestEffort,
  inParallel,
  secretsOf,
  vaultSecretsOf,
} from './workload.ts';

type Bao = ReturnType<typeof baoApi>;

/** Reads each path once, however many resources ask for it. */
export function sharedReader(bao: Bao): (path: string) => Promise<string> {
  const reads = new Map<string, Promise<string>>();
  return (path) => {
    let read = reads.get(path);
    if (!read) {
      read = bao('GET', `secret/data/bench/${path}`).then(
        (r) => (r as { data: { data: { v: string } } }).data.data.v,
      );
      reads.set(path, read);
    }
    return read;
  };
}

export interface BaselineRun {
  seconds: number;
  counts: Counts;
  /** Seconds from the start at which each Secret was stored, in order. */
  completions: number[];
}

/** Cold sync by script: every resource's Secret created in `ns` from its path's value. */
export async function baselineSync(
  ctx: BenchContext,
  ns: string,
  refs: readonly ResourceRef[],
): Promise<BaselineRun> {
  const read = sharedReader(ctx.bao);
  const completions: number[] = [];
  const mark = await ctx.counters.mark();
  const start = performance.now();
  await inParallel(refs, ctx.concurrency, async (ref) => {
    const v = await read(ref.path);
    await createObject(ctx.client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: ref.name, namespace: ns },
      stringData: { v },
    });
    completions.push((performance.now() - start) / 1000);
  });
  const seconds = (performance.now() - start) / 1000;
  const counts = await ctx.counters.since(mark);
  await deleteAllBestEffort(ctx, secretsOf(ns));
  return { seconds, counts, completions };
}

/**
 * The apiserver's floor for a cold sync: the writes a controller's cold sync cannot do without —
 * the N VaultSecret creates the timing includes, one Secret create each and one status write
 * each (with `status`, a status vaultsync wrote, so the size is the same) — made by a script with
 * no logic, one kind after the other, each at `concurrency` (the apiserver's best rate for it).
 * The writes of a real sync overlap, but they share the apiserver's CPU: no operator syncs
 * faster than the apiserver takes them, so vaultsync's time over this one is its own overhead.
 */
export async function floorSync(
  ctx: BenchContext,
  ns: string,
  refs: readonly ResourceRef[],
  status: Record<string, unknown>,
): Promise<BaselineRun & { phaseSeconds: Record<string, number> }> {
  const read = sharedReader(ctx.bao);
  const mark = await ctx.counters.mark();
  const start = performance.now();
  const phaseSeconds: Record<string, number> = {};
  const phase = async (name: string, write: (ref: ResourceRef) => Promise<unknown>) => {
    const from = performance.now();
    await inParallel(refs, ctx.concurrency, write);
    phaseSeconds[name] = (performance.now() - from) / 1000;
  };
  await phase('createVaultSecrets', (ref) => createVaultSecret(ctx.client, { ...ref, namespace: ns }));
  await phase('createSecrets', async (ref) =>
    createObject(ctx.client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: ref.name, namespace: ns },
      stringData: { v: await read(ref.path) },
    }),
  );
  const completions: number[] = [];
  await phase('writeStatuses', async (ref) => {
    await patchStatus(
      ctx.client,
      { apiVersion: VS_API, kind: 'VaultSecret', namespace: ns, name: ref.name },
      status,
    );
    completions.push((performance.now() - start) / 1000);
  });
  const seconds = (performance.now() - start) / 1000;
  const counts = await ctx.counters.since(mark);
  await deleteAllBestEffort(ctx, secretsOf(ns));
  await deleteAllBestEffort(ctx, vaultSecretsOf(ns));
  return { seconds, counts, completions, phaseSeconds };
}

/**
 * A restart by script: check that every Secret still holds its path's value — one LIST per
 * namespace, one read per path, nothing written when all agree.
 */
export async function baselineVerify(
  ctx: BenchContext,
  namespaces: readonly string[],
  refs: readonly ResourceRef[],
): Promise<BaselineRun & { wrong: number }> {
  const read = sharedReader(ctx.bao);
  const mark = await ctx.counters.mark();
  const start = performance.now();
  const stored = new Map<string, string>();
  for (const ns of namespaces) {
    const list = await ctx.client.rest.request<{
      items: { metadata: { name: string }; data?: Record<string, string> }[];
    }>({ method: 'GET', path: secretsOf(ns) });
    for (const s of list.items)
      stored.set(`${ns}/${s.metadata.name}`, Buffer.from(s.data?.v ?? '', 'base64').toString());
  }
  let wrong = 0;
  await inParallel(refs, ctx.concurrency, async (ref) => {
    if (stored.get(`${ref.namespace}/${ref.name}`) !== (await read(ref.path))) wrong++;
  });
  const seconds = (performance.now() - start) / 1000;
  return { seconds, counts: await ctx.counters.since(mark), completions: [], wrong };
}

/** One change by script: read the path again and patch the Secret with what it holds. */
export async function baselinePropagate(
  client: KubeClient,
  bao: Bao,
  ns: string,
  ref: ResourceRef,
): Promise<void> {
  const v = await sharedReader(bao)(ref.path);
  await mergePatch(
    client,
    { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: ref.name },
    { stringData: { v } },
  );
}

/**
 * The baseline's concurrency, tuned on this bed: creates 300 Secrets at each width and keeps the
 * fastest (wider than the apiserver can use only adds queueing; narrower leaves it idle).
 */
export async function tuneConcurrency(
  ctx: Pick<BenchContext, 'client' | 'log'>,
  ns: string,
): Promise<number> {
  let best = { width: 16, rate: 0 };
  for (const width of [8, 16, 32, 64, 128]) {
    const names = Array.from({ length: 300 }, (_, i) => `tune-${width}-${i}`);
    const start = performance.now();
    await inParallel(names, width, (name) =>
      createObject(ctx.client, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: ns },
        stringData: { v: 'x' },
      }),
    );
    const rate = names.length / ((performance.now() - start) / 1000);
    ctx.log(`concurrency ${width}: ${rate.toFixed(0)} Secret creates/s`);
    if (rate > best.rate) best = { width, rate };
    await deleteAll(ctx.client, secretsOf(ns));
  }
  return best.width;
}
