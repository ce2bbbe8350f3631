// Typed helpers the controllers need on top of the REST client: resource resolution, get,
// create, delete, server-side apply (objects and /status), merge patches. Every failure is a
// KubeError; objects are plain JSON, the same shape the informers cache.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { KubeError, isNotFound } from './errors.ts';
import {
  type ObjectRef,
  type ResourceType,
  apiPrefix,
  collectionPath,
  findBuiltin,
  objectPath,
  refOf,
} from './resources.ts';
import { PatchType, type RestClient, type RestClientOptions, createRestClient } from './rest.ts';

export interface KubeClient {
  readonly rest: RestClient;
  /** Maps apiVersion + kind to its REST resource (built-in table, then cached discovery). */
  resolve(apiVersion: string, kind: string): Promise<ResourceType>;
}

interface ApiResourceList {
  resources?: { name: string; kind: string; namespaced: boolean }[];
}

export function createKubeClient(source: KubeConfig | RestClient, opts: RestClientOptions = {}): KubeClient {
  const rest = 'request' in source ? source : createRestClient(source, opts);
  const discovered = new Map<string, Promise<ApiResourceList>>();

  const discover = (apiVersion: string, refresh: boolean): Promise<ApiResourceList> => {
    let list = discovered.get(apiVersion);
    if (!list || refresh) {
      list = rest.request<ApiResourceList>({ method: 'GET', path: apiPrefix(apiVersion) });
      // A failed discovery must not be cached, or one outage would poison the kind for good.
      list.catch(() => discovered.delete(apiVersion));
      discovered.set(apiVersion, list);
    }
    return list;
  };
  const find = (list: ApiResourceList, apiVersion: string, kind: string): ResourceType | undefined => {
    const r = list.resources?.find((x) => x.kind === kind && !x.name.includes('/'));
    return r && { apiVersion, kind, plural: r.name, namespaced: r.namespaced };
  };

  return {
    rest,
    async resolve(apiVersion, kind) {
      const builtin = findBuiltin(apiVersion, kind);
      if (builtin) return builtin;
      // A CRD installed after our first lookup needs one fresh discovery.
      const found =
        find(await discover(apiVersion, false), apiVersion, kind) ??
        find(await discover(apiVersion, true), apiVersion, kind);
      if (!found) {
        throw new KubeError({
          code: 'NotFound',
          status: 404,
          reason: 'NotFound',
          message: `NotFound: the server has no resource for ${apiVersion} ${kind}`,
        });
      }
      return found;
    },
  };
}

async function pathOf(client: KubeClient, ref: ObjectRef, subresource?: string): Promise<string> {
  const rt = await client.resolve(ref.apiVersion, ref.kind);
  return objectPath(rt, ref.name, ref.namespace, subresource);
}

/** Reads an object; undefined when it does not exist. */
export async function getObject<T extends KubernetesObject>(
  client: KubeClient,
  ref: ObjectRef,
): Promise<T | undefined> {
  try {
    return await client.rest.request<T>({ method: 'GET', path: await pathOf(client, ref) });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function createObject<T extends KubernetesObject>(
  client: KubeClient,
  obj: T,
  opts: { fieldManager?: string } = {},
): Promise<T> {
  const ref = refOf(obj);
  const rt = await client.resolve(ref.apiVersion, ref.kind);
  if (rt.namespaced && !ref.namespace) throw new Error(`${ref.kind} ${ref.name}: a namespace is required`);
  return client.rest.request<T>({
    method: 'POST',
    path: collectionPath(rt, ref.namespace),
    body: obj,
    query: { fieldManager: opts.fieldManager },
  });
}

export interface DeleteOptions {
  /** Deletes only if the object still has this uid / resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
}

/** Deletes an object; false when it was already gone. */
export async function deleteObject(
  client: KubeClient,
  ref: ObjectRef,
  opts: DeleteOptions = {},
): Promise<boolean> {
  try {
    await client.rest.request({
      method: 'DELETE',
      path: await pathOf(client, ref),
      body: { apiVersion: 'v1', kind: 'DeleteOptions', ...opts },
    });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

export interface ApplyOptions {
  /** Required by server-side apply; names the owner of the fields in `obj`. */
  fieldManager: string;
  /** Take over fields another manager owns (a controller owns what it applies: usually true). */
  force?: boolean;
  dryRun?: boolean;
}

function applyQuery(opts: ApplyOptions) {
  return { fieldManager: opts.fieldManager, force: opts.force, dryRun: opts.dryRun ? 'All' : undefined };
}

/**
 * Server-side apply: `obj` states every field this manager wants to own; fields it applied
 * before and leaves out now are removed. Creates the object when missing.
 */
export async function serverSideApply<T extends KubernetesObject>(
  client: KubeClient,
  obj: T,
  opts: ApplyOptions,
): Promise<T> {
  return client.rest.request<T>({
    method: 'PATCH',
    path: await pathOf(client, refOf(obj)),
    body: obj,
    contentType: PatchType.apply,
    query: applyQuery(opts),
  });
}

/** Server-side apply to the /status subresource (`obj` holds apiVersion, kind, metadata and status). */
export async function applyStatus<T extends KubernetesObject>(
  client: KubeClient,
  obj: T,
  opts: ApplyOptions,
): Promise<T> {
  return client.rest.request<T>({
    method: 'PATCH',
    path: await pathOf(client, refOf(obj), 'status'),
    body: obj,
    contentType: PatchType.apply,
    query: applyQuery(opts),
  });
}

export interface PatchOptions {
  fieldManager?: string;
  /** Optimistic lock: the patch fails with Conflict if the object changed since this version. */
  resourceVersion?: string;
}

/** JSON merge patch of the object (`null` removes a field; lists are replaced whole). */
export async function mergePatch<T extends KubernetesObject>(
  client: KubeClient,
  ref: ObjectRef,
  patch: Record<string, unknown>,
  opts: PatchOptions = {},
): Promise<T> {
  return client.rest.request<T>({
    method: 'PATCH',
    path: await pathOf(client, ref),
    body: withResourceVersion(patch, opts.resourceVersion),
    contentType: PatchType.merge,
    query: { fieldManager: opts.fieldManager },
  });
}

/** JSON merge patch of the /status subresource: `{status: <status>}`. */
export async function patchStatus<T extends KubernetesObject>(
  client: KubeClient,
  ref: ObjectRef,
  status: Record<string, unknown>,
  opts: PatchOptions = {},
): Promise<T> {
  return client.rest.request<T>({
    method: 'PATCH',
    path: await pathOf(client, ref, 'status'),
    body: withResourceVersion({ status }, opts.resourceVersion),
    contentType: PatchType.merge,
    query: { fieldManager: opts.fieldManager },
  });
}

function withResourceVersion(
  patch: Record<string, unknown>,
  resourceVersion?: string,
): Record<string, unknown> {
  if (!resourceVersion) return patch;
  const metadata = (patch.metadata ?? {}) as Record<string, unknown>;
  return { ...patch, metadata: { ...metadata, resourceVersion } };
}
