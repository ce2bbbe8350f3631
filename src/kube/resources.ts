// Resource types, REST paths and object keys. Object keys are "namespace/name" for
// namespaced objects and "name" for cluster-scoped ones, as in client-go.
import type { KubernetesObject } from '@kubernetes/client-node';

export interface ResourceType {
  /** "v1" for the core group, "group/version" otherwise. */
  apiVersion: string;
  kind: string;
  /** The lower-case plural used in paths ("secrets", "vaultsecrets"). */
  plural: string;
  namespaced: boolean;
}

/** Resources the runtime and controllers use; custom resources are resolved by discovery. */
export const builtinResources = {
  ConfigMap: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  Secret: { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  Event: { apiVersion: 'v1', kind: 'Event', plural: 'events', namespaced: true },
  Namespace: { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  ServiceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  Pod: { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  Lease: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  StatefulSet: { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true },
  DaemonSet: { apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true },
  ReplicaSet: { apiVersion: 'apps/v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true },
} as const satisfies Record<string, ResourceType>;

export function findBuiltin(apiVersion: string, kind: string): ResourceType | undefined {
  return Object.values(builtinResources).find((r) => r.apiVersion === apiVersion && r.kind === kind);
}

/** "/api/v1" or "/apis/group/version". */
export function apiPrefix(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** The collection path; all namespaces when a namespaced resource is given no namespace. */
export function collectionPath(rt: ResourceType, namespace?: string): string {
  const ns = rt.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${apiPrefix(rt.apiVersion)}${ns}/${rt.plural}`;
}

export function objectPath(rt: ResourceType, name: string, namespace?: string, subresource?: string): string {
  if (rt.namespaced && !namespace) throw new Error(`${rt.kind} ${name}: a namespace is required`);
  const sub = subresource ? `/${subresource}` : '';
  return `${collectionPath(rt, namespace)}/${encodeURIComponent(name)}${sub}`;
}

export function keyFor(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** The key of an object, from its metadata. */
export function keyOf(obj: KubernetesObject): string {
  return keyFor(obj.metadata?.namespace, obj.metadata?.name ?? '');
}

/** Splits a key into namespace (empty for cluster-scoped) and name. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** What identifies an object for a request. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export function refOf(obj: KubernetesObject): ObjectRef {
  if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) {
    throw new Error('object needs apiVersion, kind and metadata.name');
  }
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name,
    namespace: obj.metadata.namespace,
  };
}
