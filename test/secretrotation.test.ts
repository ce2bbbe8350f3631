// SecretRotation end to end: the real operator against the real apiserver (with
// kube-controller-manager, kube-scheduler and kwok, so Deployments really roll out) and OpenBao.
// What users care about: a rotation writes one new version, the Secrets follow at once, each
// consumer rolls out exactly once, TwoPhase keeps the previous value until the consumers are
// ready (and keeps it when they never are), and no generated value leaks. An Argo Rollout
// consumer (stand-in CRD, test/support/argo-rollouts.ts) is restarted and waited for too.
import assert from 'node:assert/strict';
import {
  Watch,
  type CoreV1Event,
  type V1Deployment,
  type V1ReplicaSet,
  type V1Secret,
} from '@kubernetes/client-node';
import type { SecretRotation, VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject, getObject, mergePatch } from '../src/kube/index.ts';
import {
  type ArgoRollout,
  deleteRolloutCrd,
  getRollout,
  installRolloutCrd,
  markRolloutHealthy,
  rolloutObject,
} from './support/argo-rollouts.ts';
import { installCrds } from './support/crds.ts';
import { backendsYaml, ensureNamespace, startTestOperator, type TestOperator } from './support/operator.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { delay, eventually } from './support/wait.ts';
import { KWOK_TOLERATIONS, reloadingDeployment } from './support/workloads.ts';
import { tokenDigest } from '../src/apis/v1alpha1/trigger-token.ts';

const ns = 'team-rot';
const API = 'vaultsync.io/v1alpha1';
const HMAC_ANNOTATION = 'vaultsync.io/secrets-hmac';

interface KvRead {
  data: { data: Record<string, string>; metadata: { version: number } };
}

describe('SecretRotation against the real control plane and OpenBao', function () {
  this.timeout(150_000);
  let bed: Testbed;
  let client: KubeClient;
  let operator: TestOperator;
  let bao: ReturnType<typeof baoApi>;
  /** Every value the rotations generated (read back from OpenBao): none may leak. */
  const generated = new Set<string>();

  const kvWrite = (path: string, data: Record<string, string>) =>
    bao('POST', `secret/data/${path}`, { data });
  const kvRead = async (path: string, version?: number) => {
    const r = (await bao('GET', `secret/data/${path}${version ? `?version=${version}` : ''}`)) as KvRead;
    return { data: r.data.data, version: r.data.metadata.version };
  };
  const remember = async (path: string, keys: string[]) => {
    const { data } = await kvRead(path);
    for (const k of keys) if (data[k]) generated.add(data[k]);
  };

  const rotation = (name: string) =>
    getObject<SecretRotation>(client, { apiVersion: API, kind: 'SecretRotation', namespace: ns, name });
  const vaultSecret = (name: string) =>
    getObject<VaultSecret>(client, { apiVersion: API, kind: 'VaultSecret', namespace: ns, name });
  const secretData = async (name: string) => {
    const s = await getObject<V1Secret>(client, { apiVersion: 'v1', kind: 'Secret', namespace: ns, name });
    return Object.fromEntries(
      Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
  };
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
  const hmacOf = (d: V1Deployment | undefined) => d?.spec?.template?.metadata?.annotations?.[HMAC_ANNOTATION];
  const condition = (sr: SecretRotation | undefined, type = 'Ready') =>
    sr?.status?.conditions?.find((c) => c.type === type);

  async function createVaultSecret(name: string, spec: Partial<VaultSecret['spec']>) {
    await createObject<VaultSecret>(client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name, namespace: ns },
      spec: { backend: 'vault', ...spec },
    });
    await eventually(`${name} synced`, async () => {
      const vs = await vaultSecret(name);
      return vs?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? vs : undefined;
    });
  }

  async function createDeployment(name: string, secret: string, opts: { schedulable?: boolean } = {}) {
    await createObject<V1Deployment>(client, reloadingDeployment(ns, name, secret, opts));
    if (opts.schedulable !== false) await eventually(`${name} rolled out`, () => rolledOut(name), 60_000);
  }

  async function rolledOut(name: string): Promise<V1Deployment | undefined> {
    const d = await deployment(name);
    const s = d?.status;
    return d &&
      (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
      s?.updatedReplicas === 1 &&
      s?.replicas === 1 &&
      s?.availableReplicas === 1
      ? d
      : undefined;
  }

  async function createRotation(name: string, spec: Partial<SecretRotation['spec']>, annotations = {}) {
    await createObject<SecretRotation>(client, {
      apiVersion: API,
      kind: 'SecretRotation',
      metadata: { name, namespace: ns, annotations },
      spec: { backend: 'vault', path: `${ns}/${name}`, generate: {}, ...spec } as SecretRotation['spec'],
    });
  }

  const rotateNow = (name: string, token: string) =>
    mergePatch(
      client,
      { apiVersion: API, kind: 'SecretRotation', namespace: ns, name },
      { metadata: { annotations: { 'vaultsync.io/rotate-now': token } } },
    );

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    client = createKubeClient(bed.kubeConfig());
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await installCrds(bed.kubeConfig());
    await ensureNamespace(bed.kubeConfig(), ns);
    operator = await startTestOperator(bed, { config: withAnnotatePods(bed) });
  });

  after(async function () {
    this.timeout(90_000);
    await operator?.stop();
    if (client) await deleteRolloutCrd(client);
  });

  it('rotates on its interval: one new KV version, the VaultSecret follows at once, the Deployment rolls out once', async () => {
    await kvWrite(`${ns}/db`, { password: 'initial-password', user: 'app' });
    await createVaultSecret('db', { dataFrom: [{ extract: { path: `${ns}/db` } }] });
    await createDeployment('api', 'db');
    await createRotation('db', {
      interval: '1m',
      generate: { password: { type: 'password', length: 24, symbols: true, exclude: 'lI1O0' } },
      restart: { debounce: '2s', readyTimeout: '60s' },
    });
    const scheduled = await eventually('first rotation scheduled', async () => {
      const sr = await rotation('db');
      return condition(sr)?.reason === 'Scheduled' ? sr : undefined;
    });
    const next = Date.parse(scheduled.status?.nextRotationTime ?? '');
    const created = Date.parse(scheduled.metadata?.creationTimestamp as unknown as string);
    assert.equal(
      next - created,
      60_000,
      'the values exist: the first rotation is one interval after creation',
    );
    assert.equal((await kvRead(`${ns}/db`)).version, 1);

    const rotated = await eventually(
      'rotated and rolled out',
      async () => {
        const sr = await rotation('db');
        return sr?.status?.phase === 'Idle' && sr.status.currentVersion === '2' ? sr : undefined;
      },
      100_000,
      250,
    );
    const rotatedAt = Date.parse(rotated.status?.lastRotationTime ?? '');
    assert.ok(rotatedAt >= next && rotatedAt - next < 5000, `rotated on time (${rotatedAt - next} ms late)`);
    const kv = await kvRead(`${ns}/db`);
    assert.equal(kv.version, 2, 'exactly one new version');
    await remember(`${ns}/db`, ['password']);
    assert.match(kv.data.password ?? '', /^[^lI1O0]{24}$/);
    assert.equal(kv.data.user, 'app', 'keys not generated are kept');

    const vs = await vaultSecret('db');
    assert.equal(vs?.status?.sourceVersions?.[`${ns}/db`], '2');
    // lastRefreshTime: its last backend read. (Not lastSyncTime: a second reconcile right after the
    // write can put back the stale value of the cache, a VaultSecret controller race.)
    const syncedAt = Date.parse(vs?.status?.lastRefreshTime ?? '');
    assert.ok(
      syncedAt >= rotatedAt && syncedAt - rotatedAt <= 2000,
      `the VaultSecret (refresh 1h) read the backend ${syncedAt - rotatedAt} ms after`,
    );
    console.log(
      `      rotated ${rotatedAt - next} ms after its scheduled time; the VaultSecret read it ` +
        `${syncedAt - rotatedAt} ms after the write (status times, 1 s precision)`,
    );
    assert.equal((await secretData('db')).password, kv.data.password);

    const d = await rolledOut('api');
    assert.ok(d, 'api is rolled out and ready');
    assert.match(hmacOf(d) ?? '', /^db=/);
    await delay(3000);
    assert.equal((await replicaSets('api')).length, 2, 'exactly one new ReplicaSet');
    assert.equal(
      (await replicaSets('api')).filter((r) => (r.status?.replicas ?? 0) > 0).length,
      1,
      'the old one is gone',
    );
    assert.equal(condition(rotated)?.status, 'True');
    assert.equal(condition(rotated, 'RolledOut')?.status, 'True');
    assert.deepEqual(
      rotated.status?.history?.map((h) => [h.version, h.outcome]),
      [['2', 'Succeeded']],
    );
    assert.equal(Date.parse(rotated.status?.nextRotationTime ?? ''), rotatedAt + 60_000);
  });

  it('rotates at once when the rotate-now annotation gets a new value, and only then', async () => {
    const before = await rotation('db');
    await rotateNow('db', 'ticket-1');
    const sr = await eventually('manual rotation done', async () => {
      const x = await rotation('db');
      return x?.status?.phase === 'Idle' &&
        x.status.rotateNowHandled === tokenDigest('ticket-1') &&
        x.status.currentVersion === '3'
        ? x
        : undefined;
    });
    await remember(`${ns}/db`, ['password']);
    assert.notEqual(sr.status?.lastRotationTime, before?.status?.lastRotationTime);
    await eventually(
      'api rolled out again',
      async () => ((await replicaSets('api')).length === 3 ? rolledOut('api') : undefined),
      60_000,
    );
    // The same value again is no new request.
    await mergePatch(
      client,
      { apiVersion: API, kind: 'SecretRotation', namespace: ns, name: 'db' },
      { metadata: { labels: { touched: 'yes' } } },
    );
    await delay(3000);
    assert.equal((await kvRead(`${ns}/db`)).version, 3);
    // Keep the rest of the file free of scheduled rotations (interval 1m).
    await mergePatch(
      client,
      { apiVersion: API, kind: 'SecretRotation', namespace: ns, name: 'db' },
      { spec: { suspend: true } },
    );
    await eventually('suspended', async () =>
      condition(await rotation('db'))?.reason === 'Suspended' ? true : undefined,
    );
  });

  it('TwoPhase keeps the previous value readable until the new ReplicaSet is ready, then retires it without a rollout', async () => {
    await kvWrite(`${ns}/keys`, { 'api-key': 'old-api-key' });
    await createVaultSecret('keys', { dataFrom: [{ extract: { path: `${ns}/keys` } }] });
    await createDeployment('web', 'keys');
    await createRotation('keys', {
      interval: '720h',
      strategy: 'TwoPhase',
      previousValueRetention: '4s',
      generate: { 'api-key': { type: 'randomBytes', length: 16, encoding: 'hex' } },
      restart: { debounce: '1s', readyTimeout: '60s' },
    });
    await eventually('scheduled', async () =>
      condition(await rotation('keys'))?.reason === 'Scheduled' ? true : undefined,
    );
    await rotateNow('keys', 'go');

    // Sample while pods roll: both values must be readable (OpenBao and the synced Secret) until
    // the new ReplicaSet is ready.
    let newReadyAt: number | undefined;
    let retiredAt: number | undefined;
    let sawBoth = false;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && retiredAt === undefined) {
      const data = await secretData('keys');
      const sets = await replicaSets('web');
      const fresh = sets.find((r) => r.spec?.template?.metadata?.annotations?.[HMAC_ANNOTATION]);
      if (newReadyAt === undefined && fresh && (fresh.status?.readyReplicas ?? 0) >= 1)
        newReadyAt = Date.now();
      if (data['api-key'] !== 'old-api-key' && data['api-key_previous'] === 'old-api-key') {
        sawBoth = true;
        const kv = await kvRead(`${ns}/keys`);
        if (kv.data['api-key_previous']) assert.equal(kv.data['api-key_previous'], 'old-api-key');
      }
      if (sawBoth && data['api-key_previous'] === undefined) retiredAt = Date.now();
      else if (data['api-key'] !== 'old-api-key' && data['api-key_previous'] === undefined) {
        assert.fail('the previous value disappeared before it was ever readable beside the new one');
      }
      await delay(100);
    }
    assert.ok(sawBoth, 'both values were readable during the rollout');
    assert.ok(
      newReadyAt !== undefined && retiredAt !== undefined,
      `ready at ${newReadyAt}, retired at ${retiredAt}`,
    );
    assert.ok(
      retiredAt >= newReadyAt + 3000,
      `retired ${retiredAt - newReadyAt} ms after the new pods were ready (retention 4 s)`,
    );

    const sr = await eventually('Idle again', async () => {
      const x = await rotation('keys');
      return x?.status?.phase === 'Idle' && x.status.previousVersion === undefined ? x : undefined;
    });
    const kv = await kvRead(`${ns}/keys`);
    await remember(`${ns}/keys`, ['api-key']);
    assert.deepEqual(Object.keys(kv.data), ['api-key'], 'the previous value is retired in OpenBao');
    assert.equal(kv.version, 3, 'version 2 held both values, version 3 only the new one');
    assert.equal(sr.status?.currentVersion, '3');
    await delay(3000);
    assert.equal((await replicaSets('web')).length, 2, 'retiring the previous value rolled nothing out');
  });

  it('TwoPhase with a Deployment that never becomes ready keeps the previous value and says why', async () => {
    await kvWrite(`${ns}/stuck`, { token: 'old-token' });
    await createVaultSecret('stuck', { dataFrom: [{ extract: { path: `${ns}/stuck` } }] });
    await createDeployment('stuck', 'stuck', { schedulable: false });
    await createRotation(
      'stuck',
      {
        interval: '720h',
        strategy: 'TwoPhase',
        previousValueRetention: '1s',
        generate: { token: { type: 'uuid' } },
        restart: { debounce: '1s', readyTimeout: '8s' },
      },
      { 'vaultsync.io/rotate-now': 'at-once' },
    );
    const sr = await eventually(
      'Failed: rollout not ready',
      async () => {
        const x = await rotation('stuck');
        return x?.status?.phase === 'Failed' ? x : undefined;
      },
      60_000,
    );
    await remember(`${ns}/stuck`, ['token']);
    const ready = condition(sr);
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'RolloutNotReady');
    assert.match(
      ready?.message ?? '',
      /Deployment stuck did not become ready .* within 8s; the previous value is kept/,
    );
    assert.equal(sr.status?.previousVersion, '1');
    assert.equal(sr.status?.history?.[0]?.outcome, 'Failed');
    await delay(3000); // longer than the retention
    const kv = await kvRead(`${ns}/stuck`);
    assert.equal(kv.data.token_previous, 'old-token', 'the previous value stays in OpenBao');
    assert.equal((await secretData('stuck')).token_previous, 'old-token', 'and in the synced Secret');
    assert.equal((await rotation('stuck'))?.status?.phase, 'Failed');
  });

  it('TwoPhase with rollbackOnFailure and a Deployment that never becomes ready writes the previous value back', async () => {
    await kvWrite(`${ns}/undo`, { token: 'old-undo-token', user: 'kept' });
    await createVaultSecret('undo', { dataFrom: [{ extract: { path: `${ns}/undo` } }] });
    await createDeployment('undo', 'undo', { schedulable: false });
    await createRotation(
      'undo',
      {
        interval: '720h',
        strategy: 'TwoPhase',
        rollbackOnFailure: true,
        generate: { token: { type: 'uuid' } },
        restart: { debounce: '1s', readyTimeout: '8s' },
      },
      { 'vaultsync.io/rotate-now': 'at-once' },
    );
    const sr = await eventually(
      'RolledBack: rollout not ready',
      async () => {
        const x = await rotation('undo');
        return x?.status?.phase === 'RolledBack' ? x : undefined;
      },
      60_000,
    );
    // The value that failed to roll out (version 2): it must not leak either.
    const failed = await kvRead(`${ns}/undo`, 2);
    assert.equal(failed.data.token_previous, 'old-undo-token', 'version 2 held both values');
    generated.add(failed.data.token ?? '');
    const hmacAtRollback = hmacOf(await deployment('undo'));
    assert.match(hmacAtRollback ?? '', /^undo=/, 'the rotation restarted the Deployment');

    const ready = condition(sr);
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'RolledBack');
    assert.match(
      ready?.message ?? '',
      /Deployment undo did not become ready with version 2 within 8s; rolled back: the previous value is current again as version 3/,
    );
    assert.equal(condition(sr, 'RolledOut')?.reason, 'RolledBack');
    assert.equal(sr.status?.currentVersion, '3');
    assert.equal(sr.status?.previousVersion, undefined);
    assert.deepEqual(
      sr.status?.history?.map((h) => [h.version, h.outcome]),
      [['2', 'RolledBack']],
    );

    const kv = await kvRead(`${ns}/undo`);
    assert.equal(kv.version, 3, 'one rollback write, through check-and-set on version 2');
    assert.deepEqual(
      kv.data,
      { token: 'old-undo-token', user: 'kept' },
      'the previous value is current again',
    );
    await eventually('the Secret has the previous value again', async () => {
      const d = await secretData('undo');
      return d.token === 'old-undo-token' && d.token_previous === undefined && d.user === 'kept'
        ? d
        : undefined;
    });
    await eventually('the Deployment is restarted onto the rolled-back data', async () => {
      const h = hmacOf(await deployment('undo'));
      return h !== undefined && h !== hmacAtRollback ? h : undefined;
    });
    await delay(3000);
    assert.equal((await kvRead(`${ns}/undo`)).version, 3, 'no further writes');
    const after = await rotation('undo');
    assert.equal(after?.status?.phase, 'RolledBack', 'status keeps saying RolledBack');
    assert.equal(condition(after)?.reason, 'RolledBack');
  });

  it('restarts selected consumers one at a time (maxUnavailableTargets 1), each after the previous is ready', async () => {
    await kvWrite(`${ns}/fleet`, { token: 'fleet-v1' });
    await createVaultSecret('fleet', {
      data: [{ secretKey: 'token', remoteRef: { path: `${ns}/fleet`, property: 'token' } }],
    });
    const names = ['fleet-a', 'fleet-b', 'fleet-c'];
    for (const n of names) {
      await createObject<V1Deployment>(client, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: n, namespace: ns, labels: { tier: 'fleet' } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: n } },
          template: {
            metadata: { labels: { app: n } },
            spec: {
              containers: [{ name: 'app', image: 'example.invalid/app:1' }],
              tolerations: KWOK_TOLERATIONS,
            },
          },
        },
      });
    }
    for (const n of names) await eventually(`${n} rolled out`, () => rolledOut(n), 60_000);
    // Every state change of the three, in order, from a watch: never two rolling at once.
    const latest = new Map<string, V1Deployment>();
    let maxRolling = 0;
    const complete = (d: V1Deployment) =>
      (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
      d.status?.updatedReplicas === 1 &&
      d.status?.replicas === 1 &&
      d.status?.availableReplicas === 1;
    const stop = await new Watch(bed.kubeConfig()).watch(
      `/apis/apps/v1/namespaces/${ns}/deployments`,
      { labelSelector: 'tier=fleet' },
      (_type, d: V1Deployment) => {
        latest.set(d.metadata?.name ?? '', d);
        const rolling = [...latest.values()].filter((x) => hmacOf(x) && !complete(x)).length;
        maxRolling = Math.max(maxRolling, rolling);
      },
      () => undefined,
    );
    try {
      await createRotation(
        'fleet',
        {
          interval: '720h',
          generate: { token: { type: 'uuid' } },
          consumers: { selector: { matchLabels: { tier: 'fleet' } } },
          restart: { debounce: '1s', maxUnavailableTargets: 1, readyTimeout: '60s' },
        },
        { 'vaultsync.io/rotate-now': 'go' },
      );
      await eventually(
        'all three rolled out',
        () =>
          names.every((n) => latest.get(n) && hmacOf(latest.get(n)) && complete(latest.get(n)!))
            ? true
            : undefined,
        90_000,
        50,
      );
    } finally {
      stop.abort();
    }
    const restarted = await Promise.all(
      names.map(async (n) =>
        Date.parse((await deployment(n))?.metadata?.annotations?.['vaultsync.io/restarted-at'] ?? ''),
      ),
    );
    restarted.sort((a, b) => a - b);
    console.log(
      `      restarts ${restarted.map((t) => t - restarted[0]!).join(' ms, ')} ms after the first; at most ${maxRolling} rolling at once`,
    );
    assert.equal(maxRolling, 1, 'never two rolling at once');
    for (const n of names) assert.equal((await replicaSets(n)).length, 2, `${n} rolled out once`);
    await eventually('fleet Idle', async () =>
      (await rotation('fleet'))?.status?.phase === 'Idle' ? true : undefined,
    );
    await remember(`${ns}/fleet`, ['token']);
  });

  it('AnnotatePods annotates the running pods instead of restarting them', async () => {
    await kvWrite(`${ns}/live`, { key: 'live-v1' });
    await createVaultSecret('live', { dataFrom: [{ extract: { path: `${ns}/live` } }] });
    await createDeployment('live', 'live');
    await createRotation('live', {
      interval: '720h',
      generate: { key: { type: 'randomBytes', length: 8 } },
      consumers: { targets: [{ kind: 'Deployment', name: 'live' }] },
      restart: { debounce: '0s', mode: 'AnnotatePods' },
    });
    await eventually('scheduled', async () =>
      condition(await rotation('live'))?.reason === 'Scheduled' ? true : undefined,
    );
    await rotateNow('live', '1');
    await eventually('live Idle', async () => {
      const x = await rotation('live');
      return x?.status?.phase === 'Idle' && x.status.currentVersion === '2' ? true : undefined;
    });
    await remember(`${ns}/live`, ['key']);
    const pods = await client.rest.request<{
      items: { metadata?: { annotations?: Record<string, string> } }[];
    }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/pods`,
      query: { labelSelector: 'app=live' },
    });
    assert.equal(pods.items.length, 1);
    assert.match(pods.items[0]?.metadata?.annotations?.[HMAC_ANNOTATION] ?? '', /^live=/);
    assert.equal((await replicaSets('live')).length, 1, 'nothing restarted');
    assert.equal(hmacOf(await deployment('live')), undefined);
  });

  it('accepts an Argo Rollout consumer (CRD installed after the operator started): restarts it by spec.restartAt and waits until it is Healthy', async () => {
    // Everything above ran without the CRD. No Argo controller runs here: the test plays its part.
    await installRolloutCrd(client);
    await kvWrite(`${ns}/canary`, { token: 'canary-v1' });
    await createVaultSecret('canary', { dataFrom: [{ extract: { path: `${ns}/canary` } }] });
    await createObject<ArgoRollout>(client, rolloutObject(ns, 'canary', { secret: 'canary' }));
    await markRolloutHealthy(client, ns, 'canary');
    const restartAts: string[] = [];
    const stop = await new Watch(bed.kubeConfig()).watch(
      `/apis/argoproj.io/v1alpha1/namespaces/${ns}/rollouts`,
      { fieldSelector: 'metadata.name=canary' },
      (_type, r: ArgoRollout) => {
        const at = r.spec?.restartAt;
        if (at !== undefined && restartAts.at(-1) !== at) restartAts.push(at);
      },
      () => undefined,
    );
    try {
      await createRotation(
        'canary',
        {
          interval: '720h',
          generate: { token: { type: 'uuid' } },
          consumers: { targets: [{ kind: 'Rollout', name: 'canary' }] },
          restart: { debounce: '1s', readyTimeout: '60s' },
        },
        { 'vaultsync.io/rotate-now': 'go' },
      );
      const restarted = await eventually(
        'the Rollout restarted',
        async () => {
          const r = await getRollout(client, ns, 'canary');
          return r?.spec?.restartAt ? r : undefined;
        },
        30_000,
      );
      await remember(`${ns}/canary`, ['token']);
      assert.match(restarted.metadata?.annotations?.[HMAC_ANNOTATION] ?? '', /^canary=/);
      assert.equal(restarted.spec?.template?.metadata?.annotations?.[HMAC_ANNOTATION], undefined);
      // Not Healthy with the restart yet (Argo has not acted): the rotation waits for it.
      const waiting = await eventually('the rotation waits for the Rollout', async () => {
        const x = await rotation('canary');
        return x?.status?.phase === 'RollingOut' &&
          /waiting for Rollout canary/.test(condition(x)?.message ?? '')
          ? x
          : undefined;
      });
      assert.equal(waiting.status?.currentVersion, '2');
      await delay(2000);
      assert.equal((await rotation('canary'))?.status?.phase, 'RollingOut', 'still waiting');

      await markRolloutHealthy(client, ns, 'canary');
      const done = await eventually('the rotation rolled out', async () => {
        const x = await rotation('canary');
        return x?.status?.phase === 'Idle' ? x : undefined;
      });
      const rolled = condition(done, 'RolledOut');
      assert.equal(rolled?.status, 'True');
      assert.equal(rolled?.message, '1 consumer(s) ready with version 2');
      assert.deepEqual(
        done.status?.history?.map((h) => [h.version, h.outcome]),
        [['2', 'Succeeded']],
      );
      await delay(3000);
      assert.equal(restartAts.length, 1, 'spec.restartAt patched exactly once');
    } finally {
      stop.abort();
    }
  });

  it('restarts and rotates nothing when the operator restarts', async () => {
    const apps = ['api', 'web'];
    const state = async () => ({
      sets: await Promise.all(apps.map(async (a) => (await replicaSets(a)).length)),
      kv: [(await kvRead(`${ns}/db`)).version, (await kvRead(`${ns}/keys`)).version],
      status: [
        (await rotation('db'))?.metadata?.resourceVersion,
        (await rotation('keys'))?.metadata?.resourceVersion,
        (await rotation('canary'))?.metadata?.resourceVersion,
      ],
      rollout: (await getRollout(client, ns, 'canary'))?.metadata?.resourceVersion,
    });
    const before = await state();
    await operator.stop();
    const logs = operator.logs;
    operator = await startTestOperator(bed, { logs, config: withAnnotatePods(bed) });
    await eventually('informers synced', async () =>
      (await fetch(`http://${operator.healthAddress}/readyz`)).ok ? true : undefined,
    );
    await delay(5000);
    assert.deepEqual(await state(), before);
  });

  it('never lets a generated value reach logs, events, status or metrics', async () => {
    assert.ok(generated.size >= 4, `collected ${generated.size} generated values`);
    const events = await client.rest.request<{ items: CoreV1Event[] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/events`,
    });
    const statuses = await client.rest.request<{ items: unknown[] }>({
      method: 'GET',
      path: `/apis/${API}/namespaces/${ns}/secretrotations`,
    });
    const workloads = await client.rest.request<{ items: unknown[] }>({
      method: 'GET',
      path: `/apis/apps/v1/namespaces/${ns}/deployments`,
    });
    const metrics = await (await fetch(`http://${operator.healthAddress}/metrics`)).text();
    const reasons = new Set(events.items.map((e) => e.reason));
    for (const r of [
      'Rotated',
      'RolledOut',
      'PreviousValueRetired',
      'RolloutNotReady',
      'RolledBack',
      'Restarted',
    ]) {
      assert.ok(reasons.has(r), `a ${r} event was written (${[...reasons].join(', ')})`);
    }
    assert.match(metrics, /vaultsync_secret_rotations_total\{outcome="Succeeded"\} \d+/);
    for (const [where, text] of [
      ['logs', operator.logs.join('\n')],
      ['events', JSON.stringify(events)],
      ['status', JSON.stringify(statuses)],
      ['workloads', JSON.stringify(workloads)],
      ['metrics', metrics],
    ] as const) {
      for (const value of generated)
        assert.equal(text.includes(value), false, `a generated value is in ${where}`);
    }
  });
});

/** The usual backends, and restart.mode AnnotatePods turned on (the chart then grants pods: patch). */
function withAnnotatePods(bed: Testbed): string {
  return `${backendsYaml(bed)}\noperator: {annotatePods: true}\n`;
}
