// The test bed itself: real components, the pinned versions, configured as documented.
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { testbed, type Testbed } from './support/testbed.ts';
import { pinnedVersions } from './support/testbed/paths.ts';
import { baoApi, kubernetesAuth, pkiRole } from './support/testbed/openbao.ts';
import { eventually } from './support/wait.ts';

describe('test bed', function () {
  let bed: Testbed;
  let kc: k8s.KubeConfig;

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    kc = bed.kubeConfig();
  });

  it('serves the pinned Kubernetes version on loopback', async () => {
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    assert.equal(version.gitVersion, pinnedVersions().KUBERNETES_VERSION);
    assert.match(kc.getCurrentCluster()?.server ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(bed.baoAddr, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('enforces RBAC: a service account without bindings cannot list Secrets', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const token = await core.createNamespacedServiceAccountToken({
      namespace: kubernetesAuth.namespace,
      name: 'default',
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const saConfig = new k8s.KubeConfig();
    saConfig.loadFromClusterAndUser(kc.getCurrentCluster()!, { name: 'sa', token: token.status?.token });
    await assert.rejects(
      saConfig.makeApiClient(k8s.CoreV1Api).listNamespacedSecret({ namespace: kubernetesAuth.namespace }),
      (err: { code?: number }) => err.code === 403,
    );
  });

  it('has OpenBao KV v2 at secret/ and a PKI role that issues certificates', async () => {
    const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await bao('POST', 'secret/data/testbed/check', { data: { hello: 'world' } });
    const read = (await bao('GET', 'secret/data/testbed/check')) as { data: { data: { hello: string } } };
    assert.equal(read.data.data.hello, 'world');
    const issued = (await bao('POST', `${pkiRole.mount}/issue/${pkiRole.role}`, {
      common_name: `api.${pkiRole.allowedDomain}`,
      ttl: '1h',
      key_type: 'ec',
      key_bits: 256,
    })) as { data: { certificate: string } };
    assert.match(issued.data.certificate, /BEGIN CERTIFICATE/);
  });

  it('logs in to OpenBao with a bound ServiceAccount token for audience vault, and refuses an unbound one or another audience', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const login = async (serviceAccount: string, audiences = ['vault']) => {
      const token = await core.createNamespacedServiceAccountToken({
        namespace: kubernetesAuth.namespace,
        name: serviceAccount,
        body: { spec: { audiences, expirationSeconds: 600 } },
      });
      return fetch(`${bed.baoAddr}/v1/auth/${kubernetesAuth.mountPath}/login`, {
        method: 'POST',
        body: JSON.stringify({ role: kubernetesAuth.role, jwt: token.status?.token }),
      });
    };
    const ok = await login(kubernetesAuth.serviceAccount);
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { auth: { policies: string[] } };
    assert.ok(body.auth.policies.includes(kubernetesAuth.policy));
    assert.notEqual((await login('default')).status, 200);
    assert.notEqual(
      (await login(kubernetesAuth.serviceAccount, [])).status,
      200,
      'an apiserver-audience token',
    );
  });

  it('rolls a Deployment out onto the fake kwok node', async function () {
    this.timeout(120_000);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const namespace = kubernetesAuth.namespace;
    const name = 'rollout-check';
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              containers: [{ name: 'app', image: 'example.invalid/app:1' }],
              tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }],
            },
          },
        },
      },
    });
    const runningPods = async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` });
      return pods.items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    };
    const first = await eventually(
      'a Running pod',
      async () => {
        const pods = await runningPods();
        return pods.length === 1 ? pods[0] : undefined;
      },
      60_000,
    );
    assert.equal(first.spec?.nodeName, 'kwok-node-0');
    await apps.patchNamespacedDeployment(
      {
        namespace,
        name,
        body: { spec: { template: { metadata: { annotations: { 'vaultsync.io/restartedAt': 'now' } } } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await eventually(
      'the new pod to replace the old one',
      async () => {
        const pods = await runningPods();
        const replaced = pods.length === 1 && pods[0]?.metadata?.uid !== first.metadata?.uid;
        return replaced ? true : undefined;
      },
      60_000,
    );
    const sets = await apps.listNamespacedReplicaSet({ namespace, labelSelector: `app=${name}` });
    assert.equal(sets.items.length, 2);
  });
});
