// A stand-in for the Argo Rollouts CRD (rollouts.argoproj.io), for the integration tests of the
// reload controller and SecretRotation. No Argo Rollouts controller runs in the test bed: nothing
// acts on spec.restartAt, so the tests check what vaultsync writes and play Argo's part
// themselves by patching the status subresource (observedGeneration, phase, replicas,
// restartedAt). The CRD is faithful where vaultsync depends on it: group argoproj.io, kind
// Rollout, version v1alpha1, namespaced, a status subresource (so metadata.generation counts spec
// changes only and the status is written apart) and the scale subresource; spec and status keep
// any fields (x-kubernetes-preserve-unknown-fields) instead of Argo's full schema.
import type {
  KubernetesObject,
  V1CustomResourceDefinition,
  V1ObjectMeta,
  V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { type KubeClient, createObject, deleteObject, getObject, patchStatus } from '../../src/kube/index.ts';
import { eventually } from './wait.ts';

export const ROLLOUT_CRD = 'rollouts.argoproj.io';
const CRD_REF = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  name: ROLLOUT_CRD,
} as const;

export interface ArgoRollout extends KubernetesObject {
  apiVersion: 'argoproj.io/v1alpha1';
  kind: 'Rollout';
  metadata?: V1ObjectMeta;
  spec?: { restartAt?: string; template?: V1PodTemplateSpec } & Record<string, unknown>;
  status?: Record<string, unknown>;
}

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: ROLLOUT_CRD },
  spec: {
    group: 'argoproj.io',
    scope: 'Namespaced',
    names: {
      kind: 'Rollout',
      listKind: 'RolloutList',
      plural: 'rollouts',
      singular: 'rollout',
      shortNames: ['ro'],
    },
    versions: [
      {
        name: 'v1alpha1',
        served: true,
        storage: true,
        subresources: {
          status: {},
          scale: {
            specReplicasPath: '.spec.replicas',
            statusReplicasPath: '.status.HPAReplicas',
            labelSelectorPath: '.status.selector',
          },
        },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
};

/** Installs the stand-in CRD (waiting out a deletion of an earlier one) until discovery serves it. */
export async function installRolloutCrd(client: KubeClient): Promise<void> {
  await eventually(
    'no Rollout CRD being deleted',
    async () => {
      const old = await getObject<V1CustomResourceDefinition>(client, CRD_REF);
      return old?.metadata?.deletionTimestamp ? undefined : true;
    },
    60_000,
  );
  if (!(await getObject(client, CRD_REF))) await createObject(client, crd as KubernetesObject);
  await eventually(`${ROLLOUT_CRD} Established and served`, async () => {
    const c = await getObject<V1CustomResourceDefinition>(client, CRD_REF);
    if (!c?.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True'))
      return undefined;
    const list = await client.rest.request<{ resources?: { name: string }[] }>({
      method: 'GET',
      path: '/apis/argoproj.io/v1alpha1',
    });
    return list.resources?.some((r) => r.name === 'rollouts') ? true : undefined;
  });
}

/** Deletes the stand-in CRD (and with it every Rollout) and waits until it is gone. */
export async function deleteRolloutCrd(client: KubeClient): Promise<void> {
  await deleteObject(client, CRD_REF).catch(() => undefined);
  await eventually(
    'Rollout CRD deleted',
    async () => ((await getObject(client, CRD_REF)) ? undefined : true),
    60_000,
  );
}

export const rolloutRef = (namespace: string, name: string) =>
  ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', namespace, name }) as const;

export const getRollout = (client: KubeClient, namespace: string, name: string) =>
  getObject<ArgoRollout>(client, rolloutRef(namespace, name));

/** A Rollout with a canary strategy whose pods use `secret` (envFrom), or a workloadRef instead. */
export function rolloutObject(
  namespace: string,
  name: string,
  opts: { annotations?: Record<string, string>; secret?: string; workloadRef?: string },
): ArgoRollout {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace, annotations: opts.annotations ?? {} },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }] } },
      ...(opts.workloadRef
        ? { workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: opts.workloadRef } }
        : {
            template: {
              metadata: { labels: { app: name } },
              spec: {
                containers: [
                  {
                    name: 'app',
                    image: 'example.invalid/app:1',
                    envFrom: opts.secret ? [{ secretRef: { name: opts.secret } }] : [],
                  },
                ],
              },
            },
          }),
    },
  };
}

/**
 * Plays the Argo controller: the status it writes once the Rollout is fully rolled out (and, when
 * spec.restartAt is set, restarted): Healthy, every replica updated and available.
 */
export async function markRolloutHealthy(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<ArgoRollout> {
  const r = await getRollout(client, namespace, name);
  if (!r) throw new Error(`Rollout ${name} not found`);
  const replicas = Number(r.spec?.replicas ?? 1);
  return patchStatus<ArgoRollout>(client, rolloutRef(namespace, name), {
    observedGeneration: String(r.metadata?.generation ?? 0),
    phase: 'Healthy',
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    HPAReplicas: replicas,
    selector: `app=${name}`,
    ...(r.spec?.restartAt !== undefined && { restartedAt: r.spec.restartAt }),
  });
}

/** Plays the Argo controller while a restart is in progress: the new generation seen, Progressing. */
export async function markRolloutProgressing(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<void> {
  const r = await getRollout(client, namespace, name);
  await patchStatus(client, rolloutRef(namespace, name), {
    observedGeneration: String(r?.metadata?.generation ?? 0),
    phase: 'Progressing',
    availableReplicas: 0,
  });
}
