// make dev: the local test bed, seeded with sample values, the CRDs and samples applied, and
// vaultsync running against it in the foreground until Ctrl-C.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { loadConfig } from '../src/config/index.ts';
import { createKubeClient, createObject, getObject, serverSideApply } from '../src/kube/index.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startOperator } from '../src/operator.ts';
import type { V1Secret, KubernetesObject } from '@kubernetes/client-node';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { installCrds } from '../test/support/crds.ts';
import { installShippedIdentity, operatorVaultAuth } from '../test/support/shipped.ts';
import { attachTestbed, envFile, startTestbed } from '../test/support/testbed/index.ts';
import { baoApi } from '../test/support/testbed/openbao.ts';
import { eventually } from '../test/support/wait.ts';

const dir = resolve(process.env.VAULTSYNC_TESTBED_DIR ?? '.testbed');
const namespace = 'shop';
const devSourceNamespace = 'vaultsync-dev-secrets';
const say = (line: string) => console.log(`[dev] ${line}`);

const attached = attachTestbed(dir);
const bed = attached ?? (await startTestbed({ dir, log: (l) => say(l) }));
const kubeConfig = bed.kubeConfig();
const client = createKubeClient(kubeConfig);
await installCrds(kubeConfig);
say('installed the CRDs');

// Sample values: OpenBao KV (three versions of shop/db, as a sample pins version 3), a source
// Secret for the kubernetes backend, and the Secret the Merge sample writes into.
const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
for (const password of ['dev-password-1', 'dev-password-2', 'dev-password-3']) {
  await bao('POST', 'secret/data/shop/db', { data: { username: 'app', password } });
}
await bao('POST', 'secret/data/shop/common', { data: { smtpHost: 'smtp.shop.example', region: 'local' } });
for (const name of [namespace, devSourceNamespace, 'vaultsync-system']) {
  await createObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch(
    () => undefined,
  );
}
const applySecret = (name: string, ns: string, stringData: Record<string, string>) =>
  serverSideApply<V1Secret>(
    client,
    { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData },
    { fieldManager: 'vaultsync-dev', force: true },
  );
await applySecret('api-credentials', devSourceNamespace, { token: 'dev-token' });
await applySecret('api-config', namespace, { 'log-level': 'debug' });

// AWS Secrets Manager on moto: the sample reads a JSON secret, a plain one at AWSPREVIOUS and
// every key of another; moto accepts any keys, kept in a Secret as they would be in a cluster.
const awsEndpoint = bed.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
if (awsEndpoint) {
  const aws = new SecretsManagerClient({
    endpoint: awsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'dev', secretAccessKey: 'dev' },
  });
  const put = async (name: string, values: string[]) => {
    await aws.send(new CreateSecretCommand({ Name: name, SecretString: values[0] })).catch(() => undefined);
    for (const value of values.slice(1))
      await aws.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
  };
  await put('shop/db', [JSON.stringify({ username: 'app', password: 'dev-aws-password' })]);
  await put('shop/api-key', ['dev-api-key-1', 'dev-api-key-2']);
  await put('shop/common', [JSON.stringify({ region: 'local', smtpHost: 'smtp.shop.example' })]);
  await applySecret('aws-keys', 'vaultsync-system', { id: 'dev', secret: 'dev' });
}
say('seeded OpenBao, AWS (moto), the kubernetes backend and the Merge target');

// vaultsync as a Helm install would run it: the chart rendered with these values, its
// ServiceAccount and RBAC applied, the operator started with the rendered config and a token of
// that ServiceAccount (no cluster-admin), and OpenBao reached through Kubernetes auth with a
// policy for the namespace's paths only (no root token).
const release = { name: 'vaultsync', namespace: 'vaultsync-system' };
const vaultAuth = await operatorVaultAuth(
  bed,
  { namespace: release.namespace, serviceAccount: release.name },
  `path "secret/data/${namespace}/*" { capabilities = ["read", "create", "update", "delete"] }
path "secret/metadata/${namespace}/*" { capabilities = ["read", "list"] }`,
);
const values = parse(`
config:
  operator:
    logLevel: info
  backends:
    - name: vault
      type: vault
      address: ${bed.baoAddr}
      tls: {insecure: true}   # the dev server speaks plain HTTP on loopback
      auth: ${vaultAuth}
      allowedNamespaces: ["${namespace}"]
      allowedPaths: ["{namespace}/**"]
      allowedWritePaths: ["{namespace}/**"]   # where the SecretRotation samples write
    - name: dev
      type: kubernetes
      namespace: ${devSourceNamespace}
      allowedNamespaces: ["${namespace}"]
    - name: memory
      type: memory
      allowedNamespaces: ["${namespace}"]
      allowedWritePaths: ["{namespace}/**"]
      data:
        shop/api-keys: {payments: dev-payments-key, search: dev-search-key}
${
  awsEndpoint
    ? `    - name: aws
      type: aws-secrets-manager
      region: us-east-1
      endpoint: ${awsEndpoint}
      tls: {insecure: true}   # moto speaks plain HTTP on loopback
      auth: {static: {accessKeyIdRef: {name: aws-keys, key: id}, secretAccessKeyRef: {name: aws-keys, key: secret}}}
      allowedNamespaces: ["${namespace}"]
`
    : ''
}  issuers:
    - name: local-ca
      type: local-ca          # an embedded CA: its key and certificate in a Secret it creates
      allowedNamespaces: ["${namespace}"]
api:
  secretReads: true
audit: {sink: file, path: ${join(dir, 'audit.log')}}
`) as Record<string, unknown>;
const shipped = await installShippedIdentity(bed, release.name, release.namespace, values);
say(`applied the chart's ServiceAccount and RBAC (release ${release.name} in ${release.namespace})`);
const rendered = shipped.config;
rendered.operator = {
  ...rendered.operator,
  healthAddress: '127.0.0.1:8081',
  leaderElection: { enabled: false },
};
rendered.api = { ...rendered.api, address: '127.0.0.1:8443' }; // HTTPS; its CA is in Secret vaultsync-system/vaultsync-api-ca
const configFile = join(dir, 'dev-config.yaml');
writeFileSync(configFile, stringify(rendered));
const config = await loadConfig({ path: configFile }, { env: { POD_NAMESPACE: release.namespace } });
const operator = await startOperator({
  config,
  kubeConfig: shipped.kubeConfig,
  logger: createLogger({ level: 'info' }),
});

// Only samples whose backend or issuer runs here (the Google and Azure ones need those clouds).
type Sample = KubernetesObject & { spec?: { backend?: string; issuer?: { backend?: string } } };
const configured = new Set([...config.backends, ...(config.issuers ?? [])].map((b) => b.name));
const samplesDir = 'config/samples';
const samples = readdirSync(samplesDir)
  .filter((f) => (f.startsWith('vaultsecret') || f.startsWith('vaultcertificate')) && f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(samplesDir, f), 'utf8')).map((d) => d.toJS() as Sample))
  .filter((s) => configured.has(s.spec?.backend ?? s.spec?.issuer?.backend ?? ''));
for (const sample of samples) {
  await serverSideApply(
    client,
    { ...sample, metadata: { ...sample.metadata, namespace } },
    { fieldManager: 'vaultsync-dev', force: true },
  );
}
say(`applied ${samples.length} samples in namespace ${namespace}`);

for (const sample of samples) {
  const name = sample.metadata?.name ?? '';
  const vs = await eventually(
    `${name} Ready`,
    async () => {
      const obj = await getObject<
        KubernetesObject & { status?: { conditions?: { type: string; status: string }[] } }
      >(client, { apiVersion: 'vaultsync.io/v1alpha1', kind: sample.kind ?? 'VaultSecret', namespace, name });
      return obj?.status?.conditions?.some((c) => c.type === 'Ready') ? obj : undefined;
    },
    30_000,
  ).catch(() => undefined);
  const ready = vs?.status?.conditions?.find((c) => c.type === 'Ready');
  say(`${sample.kind} ${namespace}/${name}: Ready=${ready?.status ?? 'unknown'}`);
}
const secrets = await client.rest.request<{ items: V1Secret[] }>({
  method: 'GET',
  path: `/api/v1/namespaces/${namespace}/secrets`,
  query: { labelSelector: 'app.kubernetes.io/managed-by=vaultsync' },
});
for (const s of secrets.items)
  say(`Secret ${namespace}/${s.metadata?.name}: keys ${Object.keys(s.data ?? {}).join(', ')}`);

// The CA bundle the operator published in the ConfigMap vaultsync-api-ca (what clients fetch).
const apiCa = join(dir, 'ca.crt');
if (operator.apiCaPem) writeFileSync(apiCa, operator.apiCaPem);

console.log(`
vaultsync is running (health and metrics on http://${operator.healthAddress}, API on https://${operator.apiAddress}). In another shell:

  source ${envFile(dir)}
  kubectl get vaultsecrets -n ${namespace} -w
  kubectl get secret db -n ${namespace} -o jsonpath='{.data.password}' | base64 -d
  bao kv put -address=$BAO_ADDR secret/shop/db username=app password=changed
  kubectl annotate vaultsecret db -n ${namespace} vaultsync.io/sync-now=$(date +%s) --overwrite   # db follows at once
  #   (without the annotation it follows on its next refresh: spec.refreshInterval)
  # the HTTPS API as ServiceAccount shop/default (403 until a Role allows it, docs/api.md),
  # verified with the CA the operator publishes (${apiCa} is a copy) and a token for its audience:
  kubectl -n vaultsync-system get configmap vaultsync-api-ca -o jsonpath='{.data.ca\\.crt}' > ${apiCa}
  TOKEN=$(kubectl create token default -n ${namespace} --audience ${config.api?.audience ?? 'vaultsync'})
  curl --cacert ${apiCa} -H "Authorization: Bearer $TOKEN" -X POST \\
    https://localhost:${operator.apiAddress?.split(':')[1] ?? '8443'}/v1/namespaces/${namespace}/vaultsecrets/db/sync
  audit log: ${join(dir, 'audit.log')}

Ctrl-C stops vaultsync${attached ? '' : ' and the test bed'}.`);

await new Promise<void>((done) => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => done());
});
await operator.stop();
if (!attached) await bed.stop();
say('stopped');
