// The reload controller's public side (what contracts.ts offers the other controllers), built
// with FAKES and never started: a FAKE apiserver client, a kubeconfig pointing nowhere (the
// informers are not started), a FAKE SecretRotation cache. What a change records is read from
// the work queue: a key queued means a restart was recorded for that workload.
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import type { SecretRotation, VaultSecret } from '../../apis/v1alpha1/index.ts';
import { FakeClock } from '../../kube/fake-clock.ts';
import { FakeRest, RecordingLogger } from '../../kube/testing.ts';
import { MacKeyring } from '../../secrets/mac-keyring.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import { createReloadController } from './index.ts';

const T0 = Date.parse('2030-01-02T14:00:00Z');
const MAC = 'hmac-sha256:v2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const rotation = {
  metadata: { name: 'pw', namespace: 'shop' },
  spec: { backend: 'vault', path: 'shop/db', schedule: '@daily' },
} as unknown as SecretRotation;
const vs = {
  metadata: { name: 'db', namespace: 'shop' },
  spec: {
    backend: 'vault',
    dataFrom: [{ extract: { path: 'shop/db' } }],
    rolloutRestartTargets: [
      { kind: 'Deployment', name: 'api' },
      { kind: 'CronJob', name: 'nightly' },
    ],
  },
} as unknown as VaultSecret;

function setup() {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const logger = new RecordingLogger();
  const reload = createReloadController({
    kubeConfig,
    namespace: 'vaultsync',
    client: new FakeRest().client(),
    events: { normal: async () => {}, warning: async () => {} },
    rotations: { get: () => rotation, list: () => [rotation] },
    macKeys: new MacKeyring(new Sensitive<Uint8Array>(Buffer.alloc(32, 9))),
    clock: new FakeClock(T0),
    logger,
  });
  const queued = async () => {
    const keys: string[] = [];
    while (reload.controller.queue.len() > 0) keys.push((await reload.controller.queue.get())!);
    return keys;
  };
  return { reload, logger, queued };
}

describe('reload controller (FAKES, not started)', () => {
  it('records a restart for the explicit targets of a changed VaultSecret, warns of a kind it cannot restart', async () => {
    const t = setup();
    t.reload.secretChanged(vs, { secretName: 'db', previousMac: 'x', mac: MAC });
    assert.deepEqual(await t.queued(), ['shop/Deployment/api']);
    assert.match(t.logger.text(), /Skipped restart of CronJob: kind not supported/);
  });

  it('records nothing for a change that retires a previous value (expectRetirement), until the time is up', async () => {
    const t = setup();
    t.reload.expectRetirement({ namespace: 'shop', backend: 'vault', path: 'shop/db' }, T0 + 1000);
    t.reload.secretChanged(vs, { secretName: 'db', previousMac: 'x', mac: MAC });
    assert.deepEqual(await t.queued(), []);
    t.reload.expectRetirement({ namespace: 'shop', backend: 'vault', path: 'shop/db' }, T0);
    t.reload.secretChanged(vs, { secretName: 'db', previousMac: 'x', mac: MAC });
    assert.deepEqual(await t.queued(), ['shop/Deployment/api']);
  });

  it('records a requested restart for each named workload', async () => {
    const t = setup();
    t.reload.requestRestart({
      namespace: 'shop',
      workloads: [
        { kind: 'StatefulSet', name: 'db' },
        { kind: 'Rollout', name: 'canary' },
      ],
      secrets: { tls: 'AAAA' },
      group: 'VaultCertificate/tls',
      reason: 'certificate renewed',
    });
    assert.deepEqual(await t.queued(), ['shop/StatefulSet/db', 'shop/Rollout/canary']);
  });
});
