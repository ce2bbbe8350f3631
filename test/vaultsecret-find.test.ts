// dataFrom[].find end to end (issue 17, deliver 2): the operator as shipped (chart RBAC,
// least-privilege OpenBao policy through Kubernetes auth) on a private bed whose OpenBao keeps an
// audit log, so what reached OpenBao is counted by OpenBao itself.
//   - find by prefix, by regexp and by tags syncs from OpenBao, AWS (moto) and the kubernetes
//     backend; rewrite renames keys; a key two found secrets share is KeyConflict naming both;
//   - a hostile tenant's find (another team's prefix, or none: the whole backend) is refused and
//     OpenBao shows no request for the other team's paths; a found path outside the tenancy rules
//     refuses the whole find, named by count only, and is never read;
//   - N VaultSecrets with one find cost one LIST per refresh window (OpenBao's audit log);
//   - canary values never appear in status, events or the operator's log.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as k8s from '@kubernetes/client-node';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject, getObject } from '../src/kube/index.ts';
import { startPrivateBed, stopPrivateBed } from './faults/private-bed.ts';
import { AuditLog } from './support/api-writes.ts';
import { installCrds } from './support/crds.ts';
import {
  OPERATOR_NAMESPACE,
  ensureNamespace,
  startTestOperator,
  type TestOperator,
} from './support/operator.ts';
import { auditLogFile } from './support/testbed/control-plane.ts';
import type { Testbed } from './support/testbed/index.ts';
import { baoApi, openbaoAuditLogFile } from './support/testbed/openbao.ts';
import { delay, eventually } from './support/wait.ts';

const ns = 'team-a';
const other = 'team-b';
const SOURCE = 'find-src';
const API = 'vaultsync.io/v1alpha1';
const run = randomBytes(3).toString('hex');
const canary = (what: string) => `canary-${run}-${what}`;
/** VaultSecrets sharing one find (the brief's 1,000, cut to what stays fast on two cores). */
const N = 1000;
const REFRESH_S = 30;

function config(bed: Testbed): string {
  return `
backends:
  - name: vault
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
  - name: aws
    type: aws-secrets-manager
    region: us-east-1
    endpoint: ${bed.cloud.awsEndpoint}
    tls: {insecure: true}
    auth: {static: {accessKeyIdRef: {name: aws-keys, key: id}, secretAccessKeyRef: {name: aws-keys, key: secret}}}
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
  - name: src
    type: kubernetes
    namespace: ${SOURCE}
    allowedNamespaces: [${ns}]
    allowedPaths: ["app-*-public"]
`;
}

interface BaoAuditEntry {
  type?: string;
  request?: { path?: string; operation?: string };
}

describe('VaultSecret dataFrom[].find, as shipped', function () {
  this.timeout(300_000);
  let bed: Testbed | undefined;
  let client: KubeClient;
  let operator: TestOperator | undefined;
  let audit: AuditLog;
  let baoAudit: string;
  const figures: string[] = [];

  const baoMark = () => statSync(baoAudit).size;
  const baoRequests = (from: number): BaoAuditEntry[] =>
    readFileSync(baoAudit)
      .subarray(from)
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as BaoAuditEntry)
      .filter((e) => e.type === 'request');
  const get = (name: string) =>
    getObject<VaultSecret>(client, { apiVersion: API, kind: 'VaultSecret', namespace: ns, name });
  const secretText = async (name: string) => {
    const s = await getObject<V1Secret>(client, { apiVersion: 'v1', kind: 'Secret', namespace: ns, name });
    return s
      ? Object.fromEntries(
          Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
        )
      : undefined;
  };
  const create = (name: string, spec: VaultSecret['spec']) =>
    createObject<VaultSecret>(client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name, namespace: ns },
      spec,
    });
  /** The VaultSecret once its Ready condition has this status (and reason), for the current generation. */
  const settled = (name: string, status: 'True' | 'False', reason?: string) =>
    eventually(`${name} Ready=${status}${reason ? ` ${reason}` : ''}`, async () => {
      const vs = await get(name);
      const c = vs?.status?.conditions?.find((x) => x.type === 'Ready');
      return c?.status === status &&
        (!reason || c.reason === reason) &&
        vs?.status?.observedGeneration === vs?.metadata?.generation
        ? { vs, message: c.message }
        : undefined;
    });
  const eventsOf = async (name: string): Promise<string> => {
    const list = await client.rest.request<{ items: k8s.CoreV1Event[] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/events?fieldSelector=involvedObject.name=${name}`,
    });
    return JSON.stringify(list.items.map((e) => [e.reason, e.message]));
  };

  before(async function () {
    this.timeout(240_000);
    bed = await startPrivateBed('find', {
      workloads: false,
      aws: true,
      openbaoAudit: true,
      auditEveryRequest: true,
    });
    const kc = bed.kubeConfig();
    client = createKubeClient(kc);
    audit = AuditLog.open(auditLogFile(bed.dir))!;
    baoAudit = openbaoAuditLogFile(bed.dir);
    await installCrds(kc);
    for (const n of [ns, other, SOURCE, OPERATOR_NAMESPACE]) await ensureNamespace(kc, n);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedSecret({
      namespace: OPERATOR_NAMESPACE,
      body: { metadata: { name: 'aws-keys' }, stringData: { id: 'AKIDFIND', secret: 'find-secret-key' } },
    });
    // OpenBao (root, set-up only): team-a's secrets, one tagged; the other team's; N's shared folder.
    const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    const kv = (path: string, data: Record<string, string>) => bao('POST', `secret/data/${path}`, { data });
    await kv(`${ns}/db-main`, { password: canary('db-main') });
    await kv(`${ns}/db-replica`, { password: canary('db-replica') });
    await kv(`${ns}/cache`, { token: canary('cache') });
    await bao('POST', `secret/metadata/${ns}/cache`, { custom_metadata: { tier: 'gold' } });
    await kv(`${other}/db-secret`, { password: canary('other-team') });
    await kv(`${ns}/shared/a`, { v: canary('shared-a') });
    await kv(`${ns}/shared/b`, { v: canary('shared-b') });
    // AWS (moto): names are paths; tags on one.
    const aws = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: bed.cloud.awsEndpoint,
      credentials: { accessKeyId: 'AKIDFIND', secretAccessKey: 'find-secret-key' },
    });
    const awsSecret = (Name: string, value: string, Tags: { Key: string; Value: string }[] = []) =>
      aws.send(new CreateSecretCommand({ Name, SecretString: value, Tags }));
    await awsSecret(`${ns}/api-key`, canary('aws-api-key'));
    await awsSecret(`${ns}/queue`, JSON.stringify({ url: canary('aws-queue') }), [
      { Key: 'tier', Value: 'gold' },
    ]);
    await awsSecret(`${other}/api-key`, canary('aws-other-team'));
    // kubernetes backend: Secrets in the source namespace, one labelled, one outside allowedPaths.
    const src = (name: string, value: string, labels: Record<string, string> = {}) =>
      core.createNamespacedSecret({
        namespace: SOURCE,
        body: { metadata: { name, labels }, stringData: { value } },
      });
    await src('app-x-public', canary('k8s-x'), { tier: 'gold' });
    await src('app-y-public', canary('k8s-y'));
    await src('app-z-private', canary('k8s-private'));
    operator = await startTestOperator(bed, { config: config(bed) });
  });

  after(async function () {
    this.timeout(120_000);
    if (figures.length > 0) console.log(`      find: ${figures.join('; ')}`);
    try {
      if (operator) {
        const logs = operator.logs.join('\n');
        for (const what of ['other-team', 'aws-other-team', 'k8s-private', 'db-main', 'cache', 'aws-queue'])
          assert.ok(!logs.includes(canary(what)), `the operator log holds the canary ${what}`);
        assert.ok(!logs.includes(`${other}/db-secret`), "the log names the other team's path");
        assert.ok(!logs.includes('app-z-private'), 'the log names the path outside allowedPaths');
      }
    } finally {
      await operator?.stop();
      await stopPrivateBed(bed);
    }
  });

  it('OpenBao: by prefix with a rewrite, by regexp, by tags; status lists each found version', async () => {
    await create('by-prefix', {
      backend: 'vault',
      dataFrom: [
        {
          find: { path: `${ns}/`, name: { regexp: `${ns}/[a-z-]+` } },
          rewrite: [{ regexp: { source: `^${ns}_`, target: '' } }],
        },
      ],
    });
    await create('by-regexp', {
      backend: 'vault',
      dataFrom: [{ find: { name: { regexp: `${ns}/db-.*` }, path: `${ns}/` } }],
    });
    await create('by-tags', {
      backend: 'vault',
      dataFrom: [{ find: { path: `${ns}/`, tags: { tier: 'gold' } } }],
    });
    const { vs } = await settled('by-prefix', 'True');
    assert.deepEqual(await secretText('by-prefix'), {
      cache: canary('cache'),
      'db-main': canary('db-main'),
      'db-replica': canary('db-replica'),
    });
    assert.deepEqual(Object.keys(vs?.status?.sourceVersions ?? {}).sort(), [
      `${ns}/cache`,
      `${ns}/db-main`,
      `${ns}/db-replica`,
    ]);
    await settled('by-regexp', 'True');
    assert.deepEqual(await secretText('by-regexp'), {
      [`${ns}_db-main`]: canary('db-main'),
      [`${ns}_db-replica`]: canary('db-replica'),
    });
    await settled('by-tags', 'True');
    assert.deepEqual(await secretText('by-tags'), { [`${ns}_cache`]: canary('cache') });
    for (const name of ['by-prefix', 'by-regexp', 'by-tags']) {
      const shown = JSON.stringify(await get(name)) + (await eventsOf(name));
      assert.ok(!shown.includes(`canary-${run}`), `${name}: a canary in status or events`);
    }
  });

  it('a key two found secrets share is KeyConflict naming both paths, nothing written', async () => {
    await create('conflict', { backend: 'vault', dataFrom: [{ find: { path: `${ns}/db-`, merge: true } }] });
    const { message } = await settled('conflict', 'False', 'KeyConflict');
    assert.match(
      message,
      new RegExp(`"password" would come from both ${ns}/db-main \\(key "password"\\) and ${ns}/db-replica`),
    );
    assert.equal(await secretText('conflict'), undefined);
    assert.ok(
      !(JSON.stringify(await get('conflict')) + (await eventsOf('conflict'))).includes(`canary-${run}`),
    );
  });

  it('AWS (moto): by prefix, by regexp, by tags', async () => {
    await create('aws-prefix', { backend: 'aws', dataFrom: [{ find: { path: `${ns}/` } }] });
    await create('aws-regexp', {
      backend: 'aws',
      dataFrom: [{ find: { name: { regexp: `${ns}/api-.*` }, path: `${ns}/` } }],
    });
    await create('aws-tags', {
      backend: 'aws',
      dataFrom: [{ find: { path: `${ns}/`, tags: { tier: 'gold' }, merge: true } }],
    });
    await settled('aws-prefix', 'True');
    assert.deepEqual(await secretText('aws-prefix'), {
      [`${ns}_api-key`]: canary('aws-api-key'),
      // A JSON object of one key is that key's value (the whole secret's only value).
      [`${ns}_queue`]: canary('aws-queue'),
    });
    await settled('aws-regexp', 'True');
    assert.deepEqual(await secretText('aws-regexp'), { [`${ns}_api-key`]: canary('aws-api-key') });
    await settled('aws-tags', 'True');
    assert.deepEqual(await secretText('aws-tags'), { url: canary('aws-queue') });
  });

  it('kubernetes backend: by prefix and by label; a found name outside allowedPaths refuses the find, unread and unnamed', async () => {
    await create('k8s-tags', {
      backend: 'src',
      dataFrom: [{ find: { path: 'app-', tags: { tier: 'gold' } } }],
    });
    await create('k8s-regexp', {
      backend: 'src',
      dataFrom: [{ find: { path: 'app-', name: { regexp: 'app-y-.*' } } }],
    });
    await settled('k8s-tags', 'True');
    assert.deepEqual(await secretText('k8s-tags'), { 'app-x-public': canary('k8s-x') });
    await settled('k8s-regexp', 'True');
    assert.deepEqual(await secretText('k8s-regexp'), { 'app-y-public': canary('k8s-y') });
    const mark = audit.mark();
    await create('k8s-prefix', { backend: 'src', dataFrom: [{ find: { path: 'app-' } }] });
    const { message } = await settled('k8s-prefix', 'False', 'TenancyDenied');
    assert.match(message, /matched 1 secret\(s\) under "app-" outside the paths this namespace may read/);
    const shown = message + JSON.stringify(await get('k8s-prefix')) + (await eventsOf('k8s-prefix'));
    assert.ok(!shown.includes('app-z-private') && !shown.includes(`canary-${run}`), shown);
    assert.equal(await secretText('k8s-prefix'), undefined);
    await delay(1_000);
    const readsOfPrivate = audit
      .events(mark)
      .filter((e) => e.objectRef?.namespace === SOURCE && e.objectRef?.name === 'app-z-private');
    assert.deepEqual(
      readsOfPrivate.map((e) => e.verb),
      [],
      'the Secret outside allowedPaths was requested',
    );
  });

  it("a hostile tenant's find — another team's prefix, or the whole backend — is refused; OpenBao never hears of the other team", async () => {
    const mark = baoMark();
    await create('hostile-prefix', { backend: 'vault', dataFrom: [{ find: { path: `${other}/` } }] });
    await create('hostile-all', { backend: 'vault', dataFrom: [{ find: { name: { regexp: '.*' } } }] });
    await create('hostile-aws', {
      backend: 'aws',
      dataFrom: [{ find: { name: { regexp: `${other}/.*` } } }],
    });
    for (const name of ['hostile-prefix', 'hostile-all', 'hostile-aws']) {
      const { message } = await settled(name, 'False', 'TenancyDenied');
      const shown = message + JSON.stringify(await get(name)) + (await eventsOf(name));
      assert.ok(!shown.includes(`canary-${run}`), `${name}: a canary shown`);
      assert.ok(
        !shown.includes('db-secret') && !shown.includes(`${other}/api-key`),
        `${name} names another team's secret: ${shown}`,
      );
      assert.equal(await secretText(name), undefined);
    }
    await delay(1_000);
    const touched = baoRequests(mark).filter((e) => (e.request?.path ?? '').includes(other));
    assert.deepEqual(
      touched.map((e) => `${e.request?.operation} ${e.request?.path}`),
      [],
      "OpenBao got requests for the other team's paths",
    );
    const listsOfAll = baoRequests(mark).filter(
      (e) => e.request?.operation === 'list' && /^secret\/metadata\/?$/.test(e.request.path ?? ''),
    );
    assert.equal(listsOfAll.length, 0, 'the whole mount was listed');
  });

  it(`${N} VaultSecrets with one find cost one LIST per refresh window`, async () => {
    const lists = (from: number) =>
      baoRequests(from).filter(
        (e) =>
          e.request?.operation === 'list' &&
          (e.request.path ?? '').startsWith(`secret/metadata/${ns}/shared`),
      ).length;
    const reads = (from: number) =>
      baoRequests(from).filter(
        (e) =>
          e.request?.operation === 'read' && (e.request.path ?? '').startsWith(`secret/data/${ns}/shared/`),
      ).length;
    const spec: VaultSecret['spec'] = {
      backend: 'vault',
      refreshInterval: `${REFRESH_S}s`,
      dataFrom: [{ find: { path: `${ns}/shared/` } }],
    };
    const mark = baoMark();
    const started = Date.now();
    const names = Array.from({ length: N }, (_, i) => `shared-${i}`);
    for (let i = 0; i < names.length; i += 25)
      await Promise.all(names.slice(i, i + 25).map((n) => create(n, spec)));
    await eventually(
      `${N} VaultSecrets Ready`,
      async () => {
        const list = await client.rest.request<{ items: VaultSecret[] }>({
          method: 'GET',
          path: `/apis/${API}/namespaces/${ns}/vaultsecrets`,
        });
        const ready = list.items.filter(
          (vs) =>
            vs.metadata?.name?.startsWith('shared-') &&
            vs.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === N ? true : undefined;
      },
      180_000,
    );
    const coldSeconds = (Date.now() - started) / 1000;
    const coldLists = lists(mark);
    const coldReads = reads(mark);
    assert.deepEqual(await secretText('shared-7'), {
      [`${ns}_shared_a`]: canary('shared-a'),
      [`${ns}_shared_b`]: canary('shared-b'),
    });
    // One refresh interval more: every resource refreshes once, in the slots of its one source.
    const refreshMark = baoMark();
    await delay(REFRESH_S * 1000 + 3_000);
    const refreshLists = lists(refreshMark);
    const refreshReads = reads(refreshMark);
    figures.push(
      `${N} VaultSecrets, one find: cold sync ${coldSeconds.toFixed(1)} s with ${coldLists} LIST and ${coldReads} reads; next ${REFRESH_S} s: ${refreshLists} LIST, ${refreshReads} reads`,
    );
    // The cold sync takes longer than one sharing window on a slow machine: a second list is fair.
    assert.ok(coldLists >= 1 && coldLists <= 2, `${coldLists} LIST requests for the cold sync`);
    // Every resource refreshed once in the interval (at least one LIST), all at their one slot.
    assert.ok(
      refreshLists >= 1 && refreshLists <= 2,
      `${refreshLists} LIST requests in one refresh interval`,
    );
    assert.ok(refreshReads <= 4, `${refreshReads} reads of 2 paths in one refresh interval`);
  });
});
