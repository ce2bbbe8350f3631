// The cluster as the plugin sees it: the user's kubeconfig (file, context, namespace), and the
// few reads and one patch the commands make, each as the user (their RBAC, nothing more).
import { KubeConfig, type KubernetesObject, type V1Secret } from '@kubernetes/client-node';
import { API_VERSION, KIND_DEFINITIONS, type Kind, type VaultSyncResource } from '../apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, getObject, mergePatch } from '../kube/client.ts';
import { builtinResources, collectionPath, type ResourceType } from '../kube/resources.ts';
import { VERSION } from '../version.ts';

export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** A core/v1 Event as the apiserver sends it (times as RFC 3339 strings). */
export interface ClusterEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  metadata?: { creationTimestamp?: string };
}

export interface Cluster {
  /** The namespace commands act in: `-n`, else the context's, else `default`. */
  readonly namespace: string;
  list(kind: Kind, namespace: string | undefined): Promise<VaultSyncResource[]>;
  get(kind: Kind, namespace: string, name: string): Promise<VaultSyncResource | undefined>;
  /** Sets one annotation on a resource (a JSON merge patch: nothing else is touched). */
  annotate(kind: Kind, namespace: string, name: string, key: string, value: string): Promise<void>;
  /** Events about one object, oldest first. */
  events(kind: Kind, namespace: string, name: string): Promise<ClusterEvent[]>;
  secret(namespace: string, name: string): Promise<V1Secret | undefined>;
}

/** Field manager of the plugin's patches (shown in managedFields). */
const FIELD_MANAGER = 'kubectl-vaultsync';

function loadKubeConfig(opts: ConnectOptions): KubeConfig {
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  if (opts.context) kc.setCurrentContext(opts.context);
  return kc;
}

function resourceOf(kind: Kind): ResourceType {
  return { apiVersion: API_VERSION, kind, plural: KIND_DEFINITIONS[kind].plural, namespaced: true };
}

export function connect(opts: ConnectOptions): Cluster {
  const kc = loadKubeConfig(opts);
  const client: KubeClient = createKubeClient(kc, { userAgent: `kubectl-vaultsync/${VERSION}` });
  const namespace = opts.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const ref = (kind: Kind, ns: string, name: string) => ({
    apiVersion: API_VERSION,
    kind,
    namespace: ns,
    name,
  });

  return {
    namespace,
    async list(kind, ns) {
      const list = await client.rest.request<{ items?: VaultSyncResource[] }>({
        method: 'GET',
        path: collectionPath(resourceOf(kind), ns),
      });
      // Items of a list carry no kind; the commands need it.
      return (list.items ?? []).map((o) => ({ ...o, apiVersion: API_VERSION, kind }) as VaultSyncResource);
    },
    get: (kind, ns, name) => getObject<VaultSyncResource>(client, ref(kind, ns, name)),
    async annotate(kind, ns, name, key, value) {
      await mergePatch(
        client,
        ref(kind, ns, name),
        { metadata: { annotations: { [key]: value } } },
        { fieldManager: FIELD_MANAGER },
      );
    },
    async events(kind, ns, name) {
      const list = await client.rest.request<{ items?: ClusterEvent[] }>({
        method: 'GET',
        path: collectionPath(builtinResources.Event, ns),
        query: { fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` },
      });
      return (list.items ?? []).sort((a, b) => eventTime(a) - eventTime(b));
    },
    secret: (ns, name) =>
      getObject<V1Secret & KubernetesObject>(client, {
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: ns,
        name,
      }),
  };
}

/** When an event last happened, epoch ms (0 when it says nothing). */
export function eventTime(e: ClusterEvent): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? Date.parse(t) : 0;
}
