// What a VaultSecret costs the apiserver and the backend (issue 15, Deliver 3), counted by the
// servers themselves on a private bed: the apiserver's audit log with every request of a
// ServiceAccount (gets and Events included) and OpenBao's audit device. The operator runs as
// shipped (chart ServiceAccount and RBAC). N VaultSecrets over P paths:
//   - cold sync: ≤ 2.5 apiserver requests per resource (a create-first apply, no GET of a target
//     the informer has not seen; one status patch; Normal events of a burst limited), and one
//     backend read per path (a read is shared for the resource's sharing window);
//   - restart: nothing written, nothing read;
//   - refresh (interval 20 s): one read per path per interval once the resources of a path share
//     their slots, and no apiserver request at all while the reads bring no news.
// Someone else's Secret is still refused untouched: the create-first apply carries the
// precondition resourceVersion "1", which no stored object has, so on an existing Secret the
// apiserver answers 409 Conflict before touching it, and only then does the operator GET it and
// refuse it (SecretNotOwned) — counted here too: one apply (409) and one GET, no write.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject, getObject, mergePatch } from '../src/kube/index.ts';
import { startPrivateBed, stopPrivateBed } from './faults/private-bed.ts';
import { type AuditEvent, AuditLog } from './support/api-writes.ts';
import { installCrds } from './support/crds.ts';
import { ensureNamespace, startTestOperator, type TestOperator } from './support/operator.ts';
import { auditLogFile } from './support/testbed/control-plane.ts';
import type { Testbed } from './support/testbed/index.ts';
import { baoApi, openbaoAuditLogFile } from './support/testbed/openbao.ts';
import { delay, eventually } from './support/wait.ts';

const ns = 'team-costs';
const API = 'vaultsync.io/v1alpha1';
const N = 300;
const PATHS = 30;
const REFRESH_S = 20;
const OPERATOR_USER = 'system:serviceaccount:vaultsync-system:';

/** Runs `fn` over `items`, `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

describe('What a VaultSecret costs the apiserver and OpenBao', function () {
  this.timeout(600_000);
  let bed: Testbed | undefined;
  let client: KubeClient;
  let operator: TestOperator | undefined;
  let audit: AuditLog;
  let baoAudit: string;
  const names = Array.from({ length: N }, (_, i) => `c-${i}`);
  const figures: string[] = [];

  /** The operator's requests about this namespace's objects, by "verb resource[/sub]". */
  const operatorRequests = (from: number): AuditEvent[] =>
    audit
      .events(from)
      .filter((e) => e.user.username.startsWith(OPERATOR_USER) && e.objectRef?.namespace === ns);
  const byKind = (events: AuditEvent[]) => {
    const out: Record<string, number> = {};
    for (const e of events) {
      const what = `${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`;
      out[what] = (out[what] ?? 0) + 1;
    }
    return out;
  };
  /** KV reads of this namespace's paths that reached OpenBao (its audit device, request entries). */
  const baoMark = () => statSync(baoAudit).size;
  const baoReads = (from: number): number =>
    readFileSync(baoAudit)
      .subarray(from)
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { type?: string; request?: { path?: string; operation?: string } })
      .filter(
        (e) =>
          e.type === 'request' &&
          e.request?.operation === 'read' &&
          (e.request.path ?? '').startsWith(`secret/data/${ns}/`),
      ).length;
  const readyCount = async (generationAtLeast = 1): Promise<number> => {
    const list = await client.rest.request<{ items: VaultSecret[] }>({
      method: 'GET',
      path: `/apis/vaultsync.io/v1alpha1/namespaces/${ns}/vaultsecrets`,
    });
    return list.items.filter(
      (vs) =>
        (vs.metadata?.generation ?? 0) >= generationAtLeast &&
        vs.status?.observedGeneration === vs.metadata?.generation &&
        vs.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
  };
  const allReady = (generation = 1) =>
    eventually(
      `${N} VaultSecrets Ready`,
      async () => ((await readyCount(generation)) === N ? true : undefined),
      180_000,
    );

  before(async function () {
    this.timeout(240_000);
    bed = await startPrivateBed('costs', { workloads: false, openbaoAudit: true, auditEveryRequest: true });
    const kc = bed.kubeConfig();
    client = createKubeClient(kc);
    audit = AuditLog.open(auditLogFile(bed.dir))!;
    assert.ok(audit, 'the bed keeps an apiserver audit log');
    baoAudit = openbaoAuditLogFile(bed.dir);
    await installCrds(kc);
    await ensureNamespace(kc, ns);
    const bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    for (let p = 0; p < PATHS; p++)
      await bao('POST', `secret/data/${ns}/p${p}`, { data: { password: `v-${p}` } });
    operator = await startTestOperator(bed);
  });

  after(async function () {
    this.timeout(120_000);
    if (figures.length > 0) console.log(`      costs: ${figures.join('; ')}`);
    await operator?.stop();
    await stopPrivateBed(bed);
  });

  it(`cold sync of ${N} VaultSecrets over ${PATHS} paths: ≤ 2.5 apiserver requests each, one read per path`, async () => {
    const mark = audit.mark();
    const bao = baoMark();
    const started = Date.now();
    await inParallel(names, 20, (name) => {
      const i = Number(name.slice(2));
      return createObject<VaultSecret>(client, {
        apiVersion: API,
        kind: 'VaultSecret',
        metadata: { name, namespace: ns },
        spec: { backend: 'vault', dataFrom: [{ extract: { path: `${ns}/p${i % PATHS}` } }] },
      });
    });
    await allReady();
    const seconds = (Date.now() - started) / 1000;
    await delay(2_000); // the last status patches and events reach the audit log
    const requests = operatorRequests(mark);
    const reads = baoReads(bao);
    const perResource = requests.length / N;
    figures.push(
      `cold sync ${seconds.toFixed(1)} s, ${requests.length} apiserver requests (${perResource.toFixed(2)}/resource: ${JSON.stringify(byKind(requests))}), ${reads} OpenBao reads`,
    );
    assert.equal(byKind(requests)['get secrets'] ?? 0, 0, 'no GET of a target Secret the cache has not seen');
    assert.ok(perResource <= 2.5, `${perResource.toFixed(2)} apiserver requests per resource`);
    // One per path; the slack covers a read retried after a transient error.
    assert.ok(reads <= PATHS + 3, `${reads} OpenBao reads for ${PATHS} paths`);
    const s = await getObject<V1Secret>(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: ns,
      name: 'c-7',
    });
    assert.equal(Buffer.from(s?.data?.password ?? '', 'base64').toString(), 'v-7');
  });

  it("refuses someone else's Secret found by the create-only apply: one 409, one GET, no write", async () => {
    await createObject(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'not-ours', namespace: ns },
      data: { other: Buffer.from('theirs').toString('base64') },
    });
    const before = await getObject<V1Secret>(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: ns,
      name: 'not-ours',
    });
    const mark = audit.mark();
    await createObject<VaultSecret>(client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name: 'hostile', namespace: ns },
      spec: { backend: 'vault', target: { name: 'not-ours' }, dataFrom: [{ extract: { path: `${ns}/p0` } }] },
    });
    await eventually('hostile refused', async () => {
      const vs = await getObject<VaultSecret>(client, {
        apiVersion: API,
        kind: 'VaultSecret',
        namespace: ns,
        name: 'hostile',
      });
      return vs?.status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'SecretNotOwned');
    });
    await delay(1_000);
    const onTarget = operatorRequests(mark).filter((e) => e.objectRef?.resource === 'secrets');
    assert.deepEqual(
      onTarget.map((e) => `${e.verb} ${e.responseStatus?.code}`),
      ['patch 409', 'get 200'],
      'the create-only apply refused by the apiserver, then the read',
    );
    const after = await getObject<V1Secret>(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: ns,
      name: 'not-ours',
    });
    assert.equal(after?.metadata?.resourceVersion, before?.metadata?.resourceVersion, 'untouched');
    assert.deepEqual(after?.data, before?.data);
    await client.rest.request({
      method: 'DELETE',
      path: `/apis/vaultsync.io/v1alpha1/namespaces/${ns}/vaultsecrets/hostile`,
    });
  });

  it('restart with every resource in sync: no Secret write, no status write, no backend read', async () => {
    await operator?.stop();
    operator = undefined;
    const mark = audit.mark();
    const bao = baoMark();
    operator = await startTestOperator(bed!);
    await delay(12_000);
    const requests = operatorRequests(mark);
    const writes = requests.filter((e) => ['create', 'update', 'patch'].includes(e.verb));
    const reads = baoReads(bao);
    figures.push(
      `restart: ${writes.length} writes (${JSON.stringify(byKind(writes))}), ${reads} OpenBao reads`,
    );
    assert.deepEqual(byKind(writes), {}, 'nothing written');
    assert.equal(reads, 0, 'nothing read');
  });

  it(`refresh every ${REFRESH_S} s: one read per path per interval`, async () => {
    await inParallel(names, 20, (name) =>
      mergePatch(
        client,
        { apiVersion: API, kind: 'VaultSecret', namespace: ns, name },
        {
          spec: { refreshInterval: `${REFRESH_S}s` },
        },
      ),
    );
    await allReady(2);
    // Two intervals for the resources of one path to gather on one slot.
    await delay(2 * REFRESH_S * 1000);
    const intervals = 3;
    const mark = audit.mark();
    const bao = baoMark();
    await delay(intervals * REFRESH_S * 1000);
    const reads = baoReads(bao);
    const requests = operatorRequests(mark);
    const perInterval = reads / intervals;
    figures.push(
      `refresh ${REFRESH_S} s: ${perInterval.toFixed(1)} OpenBao reads per interval for ${PATHS} paths, ${(requests.length / intervals / N).toFixed(2)} apiserver requests per resource per interval (${JSON.stringify(byKind(requests))})`,
    );
    // Slack: a window edge can split one interval's refreshes of a path over two measured intervals.
    assert.ok(perInterval <= PATHS * 1.1, `${perInterval.toFixed(1)} reads per interval for ${PATHS} paths`);
    // Idle: a refresh that brings no news writes nothing — no Secret, no status, no event.
    assert.deepEqual(byKind(requests), {}, 'no apiserver request while refreshes bring no news');
  });
});
