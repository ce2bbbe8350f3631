// Workload reload end to end: the real operator against the real apiserver, with
// kube-controller-manager, kube-scheduler and kwok, so Deployments really roll out onto the fake
// node, and OpenBao. What users care about: a real data change rolls a workload out exactly once,
// a burst of changes rolls it out once, and nothing else (first sync, metadata-only changes,
// operator restarts) rolls anything. Argo Rollouts: with their CRD absent nothing errors and
// everything else works; with it (a stand-in, test/support/argo-rollouts.ts) they are restarted
// by spec.restartAt, for explicit targets and for the reload annotations alike.
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import type { V1Deployment, V1ReplicaSet, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import { FieldManager, type VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject, getObject, mergePatch } from '../src/kube/index.ts';
import {
  deleteRolloutCrd,
  getRollout,
  installRolloutCrd,
  markRolloutHealthy,
  markRolloutProgressing,
  rolloutObject,
  type ArgoRollout,
} from './support/argo-rollouts.ts';
import { installCrds } from './support/crds.ts';
import { ensureNamespace, startTestOperator, type TestOperator } from './support/operator.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { delay, eventually } from './support/wait.ts';

const ns = 'team-reload';
const API = 'vaultsync.io/v1alpha1';
const TOLERATIONS = [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }];
const HMAC_ANNOTATION = 'vaultsync.io/secrets-hmac';
const PENDING_ANNOTATION = 'vaultsync.io/pending-restart';

describe('workload reload against the real control plane and OpenBao', function () {
  this.timeout(120_000);
  let bed: Testbed;
  let client: KubeClient;
  let operator: TestOperator;
  let bao: ReturnType<typeof baoApi>;
  const kv = (path: string, data: Record<string, string>) => bao('POST', `secret/data/${path}`, { data });

  const vaultSecret = (name: string) =>
    getObject<VaultSecret>(client, { apiVersion: API, kind: 'VaultSecret', namespace: ns, name });
  const secret = (name: string) =>
    getObject<V1Secret>(client, { apiVersion: 'v1', kind: 'Secret', namespace: ns, name });
  const deployment = (name: string) =>
    getObject<V1Deployment>(client, { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name });
  const replicaSets = async (app: string) =>
    (
      await client.rest.request<{ items: V1ReplicaSet[] }>({
        method: 'GET',
        path: `/apis/apps/v1/namespaces/${ns}/replicasets`,
        query: { labelSelector: `app=${app}` },
      })
    ).items;
  const events = async (name: string) =>
    (
      await client.rest.request<{ items: k8s.CoreV1Event[] }>({
        method: 'GET',
        path: `/api/v1/namespaces/${ns}/events`,
        query: { fieldSelector: `involvedObject.name=${name}` },
      })
    ).items;

  /** Synced at least once, Ready, and for the current generation. */
  const synced = async (name: string) => {
    const vs = await vaultSecret(name);
    const ready = vs?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    return ready && vs?.status?.observedGeneration === vs?.metadata?.generation ? vs : undefined;
  };

  async function createVaultSecret(name: string, path: string, extra: Partial<VaultSecret['spec']> = {}) {
    await createObject<VaultSecret>(client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name, namespace: ns },
      spec: { backend: 'vault', dataFrom: [{ extract: { path } }], ...extra },
    });
    return eventually(`${name} synced`, () => synced(name));
  }

  /** A spec change makes the VaultSecret read the backend now (its refresh is an hour away). */
  let bumps = 0;
  async function refresh(name: string) {
    await mergePatch(
      client,
      { apiVersion: API, kind: 'VaultSecret', namespace: ns, name },
      { spec: { target: { annotations: { 'test/bump': String(++bumps) } } } },
    );
  }

  async function createDeployment(
    name: string,
    opts: {
      annotations?: Record<string, string>;
      env?: string[];
      envFrom?: string[];
      volumes?: string[];
      projected?: string[];
      replicas?: number;
      paused?: boolean;
    },
  ) {
    const volumes = [
      ...(opts.volumes ?? []).map((s) => ({ name: `v-${s}`, secret: { secretName: s } })),
      ...(opts.projected?.length
        ? [
            {
              name: 'projected',
              projected: { sources: opts.projected.map((s) => ({ secret: { name: s } })) },
            },
          ]
        : []),
    ];
    await createObject<V1Deployment>(client, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns, annotations: opts.annotations ?? {} },
      spec: {
        replicas: opts.replicas ?? 1,
        paused: opts.paused ?? false,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'example.invalid/app:1',
                env: (opts.env ?? []).map((s) => ({
                  name: `E_${s.replace(/-/g, '_').toUpperCase()}`,
                  valueFrom: { secretKeyRef: { name: s, key: 'password' } },
                })),
                envFrom: (opts.envFrom ?? []).map((s) => ({ secretRef: { name: s } })),
              },
            ],
            volumes,
            tolerations: TOLERATIONS,
          },
        },
      },
    });
    if (!opts.paused) await eventually(`${name} rolled out`, () => rolledOut(name), 60_000);
  }

  async function rolledOut(name: string): Promise<V1Deployment | undefined> {
    const d = await deployment(name);
    const s = d?.status;
    const want = d?.spec?.replicas ?? 1;
    return d &&
      (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
      (s?.updatedReplicas ?? 0) === want &&
      (s?.replicas ?? 0) === want &&
      (s?.availableReplicas ?? 0) === want
      ? d
      : undefined;
  }

  const hmacOf = (d: V1Deployment | undefined) => d?.spec?.template?.metadata?.annotations?.[HMAC_ANNOTATION];

  // Argo Rollouts: the stand-in CRD of test/support/argo-rollouts.ts, installed half-way through
  // this file. No Argo controller runs here: nothing acts on spec.restartAt, so the tests check
  // what vaultsync writes, and play Argo's part by patching a Rollout's status.
  const rollout = (name: string) => getRollout(client, ns, name);
  /** Every spec.restartAt each Rollout of the namespace ever has, from a watch. */
  async function watchRestartAts() {
    const seen = new Map<string, string[]>();
    const stop = await new k8s.Watch(bed.kubeConfig()).watch(
      `/apis/argoproj.io/v1alpha1/namespaces/${ns}/rollouts`,
      {},
      (_type, r: ArgoRollout) => {
        const name = r.metadata?.name ?? '';
        const at = r.spec?.restartAt;
        const list = seen.get(name) ?? [];
        if (at !== undefined && list.at(-1) !== at) seen.set(name, [...list, at]);
      },
      () => undefined,
    );
    return { of: (name: string) => seen.get(name) ?? [], stop: () => stop.abort() };
  }
  /** Warning and error log lines of the operator, but the ones a test expects. */
  const complaints = (logs: string[], expected: RegExp[] = []) =>
    logs
      .join('')
      .split('\n')
      .filter((l) => /"level":"(warn|error)"/.test(l) && !expected.some((e) => e.test(l)));

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    client = createKubeClient(bed.kubeConfig());
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await installCrds(bed.kubeConfig());
    await ensureNamespace(bed.kubeConfig(), ns);
    operator = await startTestOperator(bed);
  });

  after(async function () {
    this.timeout(90_000);
    await operator?.stop();
    if (client) await deleteRolloutCrd(client);
  });

  it('does not restart a workload on the first sync of its Secret', async () => {
    await kv(`${ns}/first`, { password: 'first-v1' });
    await createDeployment('first', {
      annotations: { 'vaultsync.io/reload': 'true', 'vaultsync.io/reload-debounce': '1s' },
      env: ['first'],
    });
    await createVaultSecret('first', `${ns}/first`);
    await delay(3000);
    const d = await deployment('first');
    assert.equal((await replicaSets('first')).length, 1, 'one ReplicaSet: no rollout');
    assert.equal(hmacOf(d), undefined);
    assert.equal(d?.metadata?.annotations?.[PENDING_ANNOTATION], undefined, 'nothing pending');
  });

  it('rolls an annotated Deployment out exactly once on a real data change, not on a metadata change', async () => {
    // Metadata only (the Secret gets a new annotation, same data): nothing to restart.
    await refresh('first');
    await delay(3000);
    assert.equal((await replicaSets('first')).length, 1, 'a metadata-only change restarts nothing');

    const before = await deployment('first');
    await kv(`${ns}/first`, { password: 'first-v2' });
    await refresh('first');
    const after = await eventually('first restarted', async () => {
      const d = await deployment('first');
      return hmacOf(d) ? d : undefined;
    });
    assert.match(hmacOf(after) ?? '', /^first=[A-Za-z0-9_-]{4}\.[A-Za-z0-9_-]{22}$/);
    // (A Deployment's generation also counts its annotation changes, so it is no rollout count.)
    assert.notEqual(hmacOf(before), hmacOf(after));
    // The rollout itself is kube-controller-manager's and kwok's work; on a loaded 2-core CI
    // machine it has taken more than a minute.
    await eventually('first rolled out', () => rolledOut('first'), 120_000);
    await eventually(
      'the old ReplicaSet scaled down',
      async () => {
        const sets = await replicaSets('first');
        return sets.length === 2 && sets.filter((s) => (s.status?.replicas ?? 0) > 0).length === 1
          ? sets
          : undefined;
      },
      60_000,
    );
    await delay(2500);
    assert.equal((await replicaSets('first')).length, 2, 'exactly one new ReplicaSet');
    const reasons = (await events('first')).map((e) => e.reason);
    assert.ok(reasons.includes('Restarted'), `events: ${reasons.join(', ')}`);
    await eventually('RolledOut event', async () =>
      (await events('first')).some((e) => e.reason === 'RolledOut') ? true : undefined,
    );
  });

  it('coalesces five Secrets changed within the debounce window into one rollout', async () => {
    const names = ['five-a', 'five-b', 'five-c', 'five-d', 'five-e'];
    for (const n of names) await kv(`${ns}/${n}`, { password: `${n}-v1` });
    for (const n of names) await createVaultSecret(n, `${ns}/${n}`);
    // Referenced every way the annotation discovery knows: env, envFrom, volume, projected volume.
    await createDeployment('five', {
      annotations: { 'vaultsync.io/reload': 'true', 'vaultsync.io/reload-debounce': '4s' },
      env: ['five-a'],
      envFrom: ['five-b'],
      volumes: ['five-c'],
      projected: ['five-d', 'five-e'],
    });
    const started = Date.now();
    for (const n of names) {
      await kv(`${ns}/${n}`, { password: `${n}-v2` });
      await refresh(n);
    }
    for (const n of names) {
      await eventually(`${n} synced v2`, async () => {
        const s = await secret(n);
        return Buffer.from(s?.data?.password ?? '', 'base64').toString() === `${n}-v2` ? true : undefined;
      });
    }
    console.log(`      five Secrets changed within ${Date.now() - started} ms`);
    const d = await eventually('five restarted', async () => {
      const x = await deployment('five');
      return hmacOf(x) ? x : undefined;
    });
    assert.deepEqual(
      (hmacOf(d) ?? '').split(',').map((e) => e.split('=')[0]),
      names,
      'one restart carries the digests of all five Secrets',
    );
    await eventually('five rolled out', () => rolledOut('five'), 60_000);
    await delay(5000);
    assert.equal((await replicaSets('five')).length, 2, 'one rollout, not five');
    assert.equal(hmacOf(await deployment('five')), hmacOf(d));
  });

  it('restarts rolloutRestartTargets (a StatefulSet) and Deployments naming the Secret in reload-secrets', async () => {
    await kv(`${ns}/targets`, { password: 't-v1' });
    await createObject<V1StatefulSet>(client, {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: ns, annotations: { 'vaultsync.io/reload-debounce': '1s' } },
      spec: {
        replicas: 1,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: { containers: [{ name: 'db', image: 'example.invalid/db:1' }], tolerations: TOLERATIONS },
        },
      },
    });
    // Names the Secret without referencing it (e.g. read through a CSI driver).
    await createDeployment('named', {
      annotations: { 'vaultsync.io/reload-secrets': 'other, targets', 'vaultsync.io/reload-debounce': '1s' },
    });
    await createVaultSecret('targets', `${ns}/targets`, {
      rolloutRestartTargets: [{ kind: 'StatefulSet', name: 'db' }],
    });
    await kv(`${ns}/targets`, { password: 't-v2' });
    await refresh('targets');
    await eventually('StatefulSet restarted', async () => {
      const s = await getObject<V1StatefulSet>(client, {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        namespace: ns,
        name: 'db',
      });
      return s?.spec?.template?.metadata?.annotations?.[HMAC_ANNOTATION]?.startsWith('targets=')
        ? s
        : undefined;
    });
    await eventually('named restarted', async () => (hmacOf(await deployment('named')) ? true : undefined));
  });

  it('without the Argo Rollouts CRD: everything above worked, nothing errors, readiness holds, a Rollout target is skipped with the reason', async () => {
    assert.match(operator.logs.join(''), /Argo Rollouts CRD is not installed: Rollouts are not watched/);
    assert.ok((await fetch(`http://${operator.healthAddress}/readyz`)).ok, 'ready without the CRD');
    assert.deepEqual(complaints(operator.logs), [], 'no warning or error so far');
    await kv(`${ns}/argo`, { password: 'a-v1' });
    await createVaultSecret('argo', `${ns}/argo`, {
      rolloutRestartTargets: [{ kind: 'Rollout', name: 'argo' }],
    });
    await kv(`${ns}/argo`, { password: 'a-v2' });
    await refresh('argo');
    const e = await eventually('RestartSkipped event on the VaultSecret', async () =>
      (await events('argo')).find(
        (x) => x.reason === 'RestartSkipped' && x.involvedObject.kind === 'VaultSecret',
      ),
    );
    assert.match(
      e.message ?? '',
      /Skipped restart of Rollout argo: the Argo Rollouts CRD \(rollouts\.argoproj\.io/,
    );
    assert.match(
      operator.logs.join('\n'),
      /"message":"Skipped restart of Rollout argo: the Argo Rollouts CRD/,
    );
    assert.deepEqual(
      complaints(operator.logs, [/Skipped restart of Rollout argo: the Argo Rollouts CRD/]),
      [],
      'the skip is the only warning',
    );
    assert.ok((await fetch(`http://${operator.healthAddress}/readyz`)).ok, 'still ready');
  });

  it('restarts an Argo Rollout target by spec.restartAt once its CRD is installed: once per real change, not on first sync', async () => {
    // (No Argo controller runs here: see the stand-in CRD above.)
    await installRolloutCrd(client);
    await createObject<ArgoRollout>(
      client,
      rolloutObject(ns, 'argo', { annotations: { 'vaultsync.io/reload-debounce': '1s' }, secret: 'argo' }),
    );
    await markRolloutHealthy(client, ns, 'argo');
    const watch = await watchRestartAts();
    try {
      // A first sync of a VaultSecret targeting it restarts nothing.
      await kv(`${ns}/argo-first`, { password: 'f-v1' });
      await createVaultSecret('argo-first', `${ns}/argo-first`, {
        rolloutRestartTargets: [{ kind: 'Rollout', name: 'argo' }],
      });
      await delay(3000);
      const untouched = await rollout('argo');
      assert.equal(untouched?.spec?.restartAt, undefined, 'first sync: no restart');
      assert.equal(untouched?.metadata?.annotations?.[HMAC_ANNOTATION], undefined);

      // A real data change restarts it Argo's way, once.
      const changedAt = Date.now();
      await kv(`${ns}/argo`, { password: 'a-v3' });
      await refresh('argo');
      const restarted = await eventually('Rollout restarted', async () => {
        const r = await rollout('argo');
        return r?.spec?.restartAt ? r : undefined;
      });
      const at = restarted.spec?.restartAt ?? '';
      assert.match(at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'RFC 3339');
      // Rounded up to the second: pods created in the second of the change are restarted too.
      assert.ok(
        Date.parse(at) >= changedAt && Date.parse(at) <= Date.now() + 1000,
        `restartAt ${at} is the time of the restart`,
      );
      assert.match(
        restarted.metadata?.annotations?.[HMAC_ANNOTATION] ?? '',
        /^argo=[A-Za-z0-9_-]{4}\.[A-Za-z0-9_-]{22}$/,
      );
      assert.equal(
        restarted.spec?.template?.metadata?.annotations?.[HMAC_ANNOTATION],
        undefined,
        'the pod template is not touched (that would be a new Argo revision)',
      );
      await delay(4000);
      assert.deepEqual(watch.of('argo'), [at], 'spec.restartAt was patched exactly once');
      const reasons = (await events('argo')).map((x) => `${x.involvedObject.kind}/${x.reason}`);
      assert.ok(reasons.includes('Rollout/Restarted'), `events: ${reasons.join(', ')}`);
      // The restart found the CRD (discovery asked again) and started the Rollout informer.
      assert.match(operator.logs.join(''), /Argo Rollouts CRD is served: watching Rollouts/);
      // Argo finishes the restart: the reload controller follows the Rollout's status to ready.
      await markRolloutHealthy(client, ns, 'argo');
      await eventually('RolledOut event on the Rollout', async () =>
        (await events('argo')).some((x) => x.involvedObject.kind === 'Rollout' && x.reason === 'RolledOut')
          ? true
          : undefined,
      );
    } finally {
      watch.stop();
    }
  });

  it('honours vaultsync.io/reload and reload-secrets on Argo Rollouts (template or workloadRef): one restart each, one at a time, each followed until Healthy', async () => {
    await kv(`${ns}/argo-ann`, { password: 'ann-v1' });
    await createVaultSecret('argo-ann', `${ns}/argo-ann`);
    // A workloadRef Rollout's pod template lives in a Deployment (scaled to zero, as Argo does).
    await createDeployment('argo-ref-template', { envFrom: ['argo-ann'], replicas: 0 });
    const debounce = { 'vaultsync.io/reload-debounce': '1s' };
    const rollouts = {
      'argo-ann': rolloutObject(ns, 'argo-ann', {
        annotations: { 'vaultsync.io/reload': 'true', ...debounce },
        secret: 'argo-ann',
      }),
      'argo-ref': rolloutObject(ns, 'argo-ref', {
        annotations: { 'vaultsync.io/reload': 'true', ...debounce },
        workloadRef: 'argo-ref-template',
      }),
      'argo-named': rolloutObject(ns, 'argo-named', {
        annotations: { 'vaultsync.io/reload-secrets': 'argo-ann', ...debounce },
      }),
      // Annotated, but its pods use no managed Secret that changes: never restarted.
      'argo-other': rolloutObject(ns, 'argo-other', {
        annotations: { 'vaultsync.io/reload': 'true', ...debounce },
        secret: 'first',
      }),
    };
    const names = ['argo-ann', 'argo-ref', 'argo-named'];
    for (const r of Object.values(rollouts)) {
      await createObject<ArgoRollout>(client, r);
      await markRolloutHealthy(client, ns, r.metadata?.name ?? '');
    }
    const watch = await watchRestartAts();
    try {
      await delay(2000); // the operator's Rollout cache sees them; nothing restarts on its own
      for (const n of Object.keys(rollouts)) assert.equal((await rollout(n))?.spec?.restartAt, undefined);

      await kv(`${ns}/argo-ann`, { password: 'ann-v2' });
      await refresh('argo-ann');
      // One group (VaultSecret/argo-ann), at most one rolling at once: each waits until the one
      // before is Healthy with its restart done.
      const order: string[] = [];
      for (let i = 0; i < names.length; i++) {
        const next = await eventually(
          `Rollout restart ${i + 1}`,
          async () => {
            for (const n of names) {
              if (!order.includes(n) && (await rollout(n))?.spec?.restartAt !== undefined) return n;
            }
            return undefined;
          },
          30_000,
        );
        order.push(next);
        const r = await rollout(next);
        assert.match(
          r?.metadata?.annotations?.[HMAC_ANNOTATION] ?? '',
          /^argo-ann=[A-Za-z0-9_-]{4}\.[A-Za-z0-9_-]{22}$/,
        );
        assert.equal(r?.metadata?.annotations?.[PENDING_ANNOTATION], undefined, 'nothing left pending');
        assert.equal(
          r?.spec?.template?.metadata?.annotations?.[HMAC_ANNOTATION],
          undefined,
          'the pod template is not touched',
        );
        await markRolloutProgressing(client, ns, next);
        await delay(2000);
        for (const n of names.filter((x) => !order.includes(x))) {
          assert.equal((await rollout(n))?.spec?.restartAt, undefined, `${n} waits while ${next} rolls`);
        }
        assert.ok(
          !(await events(next)).some((x) => x.involvedObject.kind === 'Rollout' && x.reason === 'RolledOut'),
          `${next} is not called rolled out while Progressing`,
        );
        await markRolloutHealthy(client, ns, next);
        await eventually(`${next} RolledOut event`, async () =>
          (await events(next)).some((x) => x.involvedObject.kind === 'Rollout' && x.reason === 'RolledOut')
            ? true
            : undefined,
        );
      }
      await delay(3000);
      for (const n of names) assert.equal(watch.of(n).length, 1, `${n}: spec.restartAt patched exactly once`);
      assert.deepEqual(watch.of('argo-other'), [], 'a Rollout not using the Secret is not restarted');
      assert.equal(
        hmacOf(await deployment('argo-ref-template')),
        undefined,
        'the template Deployment is not',
      );
    } finally {
      watch.stop();
    }
  });

  it('skips a paused Deployment and says why', async () => {
    await kv(`${ns}/paused`, { password: 'p-v1' });
    await createVaultSecret('paused', `${ns}/paused`);
    await createDeployment('paused', {
      annotations: { 'vaultsync.io/reload': 'true', 'vaultsync.io/reload-debounce': '1s' },
      envFrom: ['paused'],
      paused: true,
    });
    await kv(`${ns}/paused`, { password: 'p-v2' });
    await refresh('paused');
    const e = await eventually('RestartSkipped event', async () =>
      (await events('paused')).find((x) => x.reason === 'RestartSkipped'),
    );
    assert.match(e.message ?? '', /paused/);
    const d = await deployment('paused');
    assert.equal(hmacOf(d), undefined, 'the template was not touched');
    assert.equal(d?.metadata?.annotations?.[PENDING_ANNOTATION], undefined, 'nothing left pending');
  });

  it('restarts nothing when the operator restarts', async () => {
    const apps = ['first', 'five', 'named', 'paused'];
    // What vaultsync could write: annotations and the pod template, which also bump a
    // Deployment's generation; and when vaultsync last wrote it. (Not the resourceVersion: the
    // controller manager writes status too, e.g. when kwok's node briefly goes NotReady about a
    // minute into the test bed and marks every pod unready.)
    const state = async (a: string) => {
      const d = await deployment(a);
      const ours = d?.metadata?.managedFields
        ?.filter((m) => m.manager === FieldManager.Reload)
        .map((m) => m.time);
      return [
        (await replicaSets(a)).length,
        d?.metadata?.generation,
        d?.metadata?.annotations,
        hmacOf(d),
        ours,
      ];
    };
    await delay(2000); // let the last rollouts settle
    const before = new Map<string, unknown[]>();
    for (const a of apps) before.set(a, await state(a));
    const argo = ['argo', 'argo-ann', 'argo-ref', 'argo-named', 'argo-other'];
    const argoBefore = await Promise.all(
      argo.map(async (n) => (await rollout(n))?.metadata?.resourceVersion),
    );
    await operator.stop();
    operator = await startTestOperator(bed);
    await eventually('informers synced', async () =>
      (await fetch(`http://${operator.healthAddress}/readyz`)).ok ? true : undefined,
    );
    await delay(6000); // longer than every debounce window in this file
    for (const a of apps) {
      assert.deepEqual(await state(a), before.get(a), `${a}: not written, no rollout after the restart`);
    }
    assert.deepEqual(
      await Promise.all(argo.map(async (n) => (await rollout(n))?.metadata?.resourceVersion)),
      argoBefore,
      'the Rollouts: not written',
    );
    assert.match(operator.logs.join(''), /Argo Rollouts CRD is served: watching Rollouts/, 'found at start');
    assert.doesNotMatch(operator.logs.join('\n'), /"message":"Restarted /);
  });

  it('restarts nothing when the leader fails over to a standby, and the new leader restarts on the next change', async () => {
    await operator.stop();
    const leaseHolder = async () =>
      (
        await getObject<{ apiVersion?: string; spec?: { holderIdentity?: string } }>(client, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          namespace: 'vaultsync-system',
          name: 'vaultsync-leader',
        })
      )?.spec?.holderIdentity;
    const a = await startTestOperator(bed, { leaderElection: true, identity: 'reload-a' });
    await eventually('reload-a leads', async () => ((await leaseHolder()) === 'reload-a' ? true : undefined));
    const b = await startTestOperator(bed, { leaderElection: true, identity: 'reload-b' });
    operator = b;
    const sets = async () => (await replicaSets('first')).length;
    const before = await sets();
    const hmacBefore = hmacOf(await deployment('first'));
    await a.stop(); // releases the Lease: b takes over at once
    await eventually('reload-b leads', async () => ((await leaseHolder()) === 'reload-b' ? true : undefined));
    await delay(4000);
    assert.equal(await sets(), before, 'no rollout after the failover');
    assert.equal(hmacOf(await deployment('first')), hmacBefore);

    await kv(`${ns}/first`, { password: 'first-v3' });
    await refresh('first');
    await eventually('the new leader restarted first', async () =>
      hmacOf(await deployment('first')) !== hmacBefore ? true : undefined,
    );
    // The rollout itself is kube-controller-manager's and kwok's work; on a loaded 2-core CI
    // machine it has taken more than a minute.
    await eventually('first rolled out', () => rolledOut('first'), 120_000);
    await delay(2500);
    assert.equal(await sets(), before + 1, 'exactly one more ReplicaSet');
    assert.match(b.logs.join('\n'), /"message":"Restarted Deployment"/);
    assert.doesNotMatch(a.logs.join('\n'), /"message":"Restarted Deployment"/);
  });

  it('patches the workload within milliseconds of the Secret change (latency over 100 changes)', async function () {
    this.timeout(240_000);
    await kv(`${ns}/latency`, { password: 'l-0' });
    await createVaultSecret('latency', `${ns}/latency`);
    // No replicas: each rollout completes at once, so the measurement is the restart path only.
    await createDeployment('latency', {
      annotations: { 'vaultsync.io/reload': 'true', 'vaultsync.io/reload-debounce': '0s' },
      envFrom: ['latency'],
      replicas: 0,
    });
    const kc = bed.kubeConfig();
    const watch = new k8s.Watch(kc);
    const secretChanged = new Map<string, number>(); // data digest → when the Secret changed
    const patched: { hmac: string; at: number }[] = [];
    const stops: AbortController[] = [];
    stops.push(
      await watch.watch(
        `/api/v1/namespaces/${ns}/secrets`,
        { fieldSelector: 'metadata.name=latency' },
        (_t, obj: V1Secret) => {
          const value = Buffer.from(obj.data?.password ?? '', 'base64').toString();
          if (!secretChanged.has(value)) secretChanged.set(value, performance.now());
        },
        () => undefined,
      ),
    );
    stops.push(
      await watch.watch(
        `/apis/apps/v1/namespaces/${ns}/deployments`,
        { fieldSelector: 'metadata.name=latency' },
        (_t, obj: V1Deployment) => {
          const h = hmacOf(obj);
          if (h && patched.at(-1)?.hmac !== h) patched.push({ hmac: h, at: performance.now() });
        },
        () => undefined,
      ),
    );
    try {
      await delay(500);
      const latencies: number[] = [];
      for (let i = 1; i <= 100; i++) {
        const seen = patched.length;
        await kv(`${ns}/latency`, { password: `l-${i}` });
        await refresh('latency');
        await eventually(`restart ${i}`, () => (patched.length > seen ? true : undefined), 20_000, 5);
        const changedAt = secretChanged.get(`l-${i}`);
        assert.ok(changedAt !== undefined, `the watch saw change ${i}`);
        latencies.push(patched.at(-1)!.at - changedAt);
      }
      const sorted = [...latencies].sort((a, b) => a - b);
      const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
      console.log(
        `      restart latency (Secret changed → Deployment patched, as seen by a watch) over ${sorted.length} changes: ` +
          `p50 ${p(0.5).toFixed(1)} ms, p95 ${p(0.95).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`,
      );
      assert.equal(sorted.length, 100);
      assert.ok(p(0.95) < 2000, `p95 ${p(0.95)} ms`);
      const metrics = await (await fetch(`http://${operator.healthAddress}/metrics`)).text();
      assert.match(metrics, /vaultsync_workload_restarts_total\{kind="Deployment",outcome="restarted"\} \d+/);
    } finally {
      for (const s of stops) s.abort();
    }
  });
});
