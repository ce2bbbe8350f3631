// Workloads the integration tests roll out on the bed's fake kwok node: a Deployment whose pods
// take every key of a Secret as environment variables and that asks vaultsync to restart it when
// that Secret changes (the `vaultsync.io/reload` annotation).
import type { V1Deployment } from '@kubernetes/client-node';

/** Lets pods onto kwok's fake node. */
export const KWOK_TOLERATIONS = [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }];

/**
 * One replica of `name` (label app=<name>) using Secret `secret`, reloaded when it changes.
 * `schedulable: false`: its pods stay Pending (no node matches), so it never becomes ready.
 */
export function reloadingDeployment(
  namespace: string,
  name: string,
  secret: string,
  opts: { schedulable?: boolean } = {},
): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, annotations: { 'vaultsync.io/reload': 'true' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: 'app', image: 'example.invalid/app:1', envFrom: [{ secretRef: { name: secret } }] },
          ],
          tolerations: KWOK_TOLERATIONS,
          ...(opts.schedulable === false && { nodeSelector: { 'vaultsync.test/no-such-node': 'true' } }),
        },
      },
    },
  };
}
