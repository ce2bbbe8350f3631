// What a fresh cluster needs before tests run: the tenant namespace and service account
// that Vault's Kubernetes auth role binds, a token reviewer for Vault, and a fake kwok node.
import * as k8s from '@kubernetes/client-node';
import { kubernetesAuth } from './openbao.ts';

const reviewer = { namespace: 'kube-system', name: 'openbao-token-reviewer' };

async function ignoreExists<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if ((err as { code?: number }).code === 409) return undefined;
    throw err;
  }
}

export async function bootstrapCluster(
  kc: k8s.KubeConfig,
  opts: { fakeNode: boolean },
): Promise<{ reviewerJwt: string }> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  await ignoreExists(core.createNamespace({ body: { metadata: { name: kubernetesAuth.namespace } } }));
  for (const sa of [
    { namespace: kubernetesAuth.namespace, name: kubernetesAuth.serviceAccount },
    { namespace: kubernetesAuth.namespace, name: 'default' },
    reviewer,
  ]) {
    await ignoreExists(
      core.createNamespacedServiceAccount({ namespace: sa.namespace, body: { metadata: { name: sa.name } } }),
    );
  }
  await ignoreExists(
    rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'openbao-token-reviewer' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'system:auth-delegator',
        },
        subjects: [{ kind: 'ServiceAccount', ...reviewer }],
      },
    }),
  );
  const token = await core.createNamespacedServiceAccountToken({
    namespace: reviewer.namespace,
    name: reviewer.name,
    body: { spec: { audiences: [], expirationSeconds: 7 * 24 * 3600 } },
  });
  if (opts.fakeNode) {
    await ignoreExists(
      core.createNode({
        body: {
          metadata: {
            name: 'kwok-node-0',
            annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
            labels: { type: 'kwok', 'kubernetes.io/hostname': 'kwok-node-0', 'kubernetes.io/os': 'linux' },
          },
          spec: {},
        },
      }),
    );
  }
  return { reviewerJwt: token.status?.token ?? '' };
}
