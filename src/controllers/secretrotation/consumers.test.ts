import assert from 'node:assert/strict';
import type { SecretRotation, VaultSecret } from '../../apis/v1alpha1/index.ts';
import type { Workload, WorkloadRef } from '../contracts.ts';
import { readersOf } from '../shared/source-refs.ts';
import {
  type ConsumerState,
  affectedDigests,
  consumersOf,
  describeConsumers,
  newerReaderVersion,
  readerStuck,
  readerSynced,
  rolloutVerdict,
  writtenAt,
} from './consumers.ts';

function rotation(consumers?: SecretRotation['spec']['consumers']): SecretRotation {
  return {
    apiVersion: 'vaultsync.io/v1alpha1',
    kind: 'SecretRotation',
    metadata: { name: 'db', namespace: 'shop' },
    spec: {
      backend: 'vault',
      path: 'shop/db',
      interval: '24h',
      generate: {},
      ...(consumers && { consumers }),
    },
    status: { lastRotationTime: '2030-01-01T00:00:00Z' },
  };
}

function reader(
  name: string,
  opts: {
    path?: string;
    version?: string;
    ready?: boolean;
    reason?: string;
    mac?: string;
    pinned?: string;
  } = {},
): VaultSecret {
  const path = opts.path ?? 'shop/db';
  return {
    apiVersion: 'vaultsync.io/v1alpha1',
    kind: 'VaultSecret',
    metadata: { name, namespace: 'shop', generation: 1 },
    spec: {
      backend: 'vault',
      dataFrom: [{ extract: { path, ...(opts.pinned !== undefined && { version: opts.pinned }) } }],
    },
    status: {
      observedGeneration: 1,
      conditions: [
        {
          type: 'Ready',
          status: opts.ready === false ? 'False' : 'True',
          reason: opts.reason ?? 'Synced',
          message: 'the apiserver said no',
          lastTransitionTime: '2030-01-01T00:00:00Z',
        },
      ],
      ...(opts.version !== undefined && { sourceVersions: { [path]: opts.version } }),
      ...(opts.mac !== undefined && { secretMAC: opts.mac }),
      lastSyncTime: '2030-01-01T00:00:05Z',
    },
  };
}

const deployment = (name: string, annotations: Record<string, string> = {}, secrets: string[] = []) => ({
  ref: { kind: 'Deployment', namespace: 'shop', name } as WorkloadRef,
  obj: {
    metadata: { name, labels: { app: name }, annotations },
    spec: {
      template: {
        spec: { containers: [{ name: 'c', envFrom: secrets.map((s) => ({ secretRef: { name: s } })) }] },
      },
    },
  } as Workload,
});

describe('SecretRotation consumers', () => {
  it('readers: VaultSecrets of the same backend reading the path at its latest version', () => {
    const all = [reader('a'), reader('b', { path: 'shop/other' }), reader('c', { pinned: '3' })];
    assert.deepEqual(
      readersOf(rotation(), all).map((vs) => vs.metadata?.name),
      ['a'],
    );
  });

  it('a reader is synced when ready with at least the version and a MAC; stuck when it cannot write', () => {
    assert.equal(readerSynced(reader('a', { version: '3', mac: 'm' }), 'shop/db', '2'), true);
    assert.equal(readerSynced(reader('a', { version: '1', mac: 'm' }), 'shop/db', '2'), false);
    assert.equal(readerSynced(reader('a', { version: '3' }), 'shop/db', '2'), false, 'no MAC yet');
    assert.equal(readerSynced(reader('a', { version: '3', mac: 'm', ready: false }), 'shop/db', '2'), false);
    assert.equal(
      readerStuck(reader('a', { ready: false, reason: 'SecretWriteFailed' })),
      'SecretWriteFailed: the apiserver said no',
    );
    assert.equal(readerStuck(reader('a', { ready: false, reason: 'BackendUnavailable' })), undefined);
  });

  it('finds a newer version a reader synced (a lost rollback)', () => {
    const readers = [reader('a', { version: '2' }), reader('b', { version: '3' })];
    assert.equal(newerReaderVersion(readers, 'shop/db', '2'), '3');
    assert.equal(newerReaderVersion(readers, 'shop/db', '3'), undefined);
  });

  it('digests per Secret synced, or the rotation itself when nothing syncs the path', () => {
    const sr = rotation();
    assert.deepEqual(
      affectedDigests(sr, [reader('db', { mac: 'hmac-sha256:v1:abcdefghijklmnopq' })], () => 'x'),
      {
        db: 'abcdefghijklmnop',
      },
    );
    assert.deepEqual(
      affectedDigests(sr, [], () => 'hmac-sha256:v2:0123456789abcdefXYZ'),
      {
        'SecretRotation.db': '0123456789abcdef',
      },
    );
    assert.deepEqual(writtenAt(sr, [reader('db')]), {
      db: Date.parse('2030-01-01T00:00:05Z'),
      'SecretRotation.db': Date.parse('2030-01-01T00:00:00Z'),
    });
  });

  it('consumers: targets and selector; with neither, the workloads annotated to reload an affected Secret', () => {
    const workloads = [
      deployment('api', { 'vaultsync.io/reload': 'true' }, ['db']),
      deployment('web', {}, ['db', 'cache']),
      deployment('batch', {}, []),
    ];
    const affected = { db: 'd1', other: 'o1' };
    const auto = consumersOf(rotation(), workloads, affected);
    assert.deepEqual(auto.consumers, [{ ref: workloads[0]!.ref, wanted: { db: 'd1' } }]);
    const chosen = consumersOf(
      rotation({
        targets: [
          { kind: 'StatefulSet', name: 'x' },
          { kind: 'CronJob' as 'Deployment', name: 'y' },
        ],
        selector: { matchLabels: { app: 'web' } },
      }),
      workloads,
      affected,
    );
    assert.deepEqual(chosen.unsupported, ['CronJob y']);
    assert.deepEqual(
      chosen.consumers.map((c) => [c.ref.name, c.wanted]),
      [
        ['x', affected],
        ['web', { db: 'd1' }],
      ],
      'a target not in the cache wants everything; a selected one what it uses',
    );
  });

  it('the verdict: late unknown or never restarted after asking fail; timed out fails at once', () => {
    const ref = (name: string): WorkloadRef => ({ kind: 'Deployment', namespace: 'shop', name });
    const states: ConsumerState[] = [
      { c: { ref: ref('ready'), wanted: {} }, s: { state: 'Ready' } },
      { c: { ref: ref('gone'), wanted: {} }, s: { state: 'NotFound' } },
      { c: { ref: ref('slow'), wanted: {} }, s: { state: 'TimedOut' } },
      { c: { ref: ref('asked'), wanted: {} }, s: { state: 'NotRestarted' } },
      { c: { ref: ref('unknown'), wanted: {} }, s: { state: 'Unknown' } },
    ];
    const requested = new Set(['shop/Deployment/asked']);
    const early = rolloutVerdict(states, requested, false);
    assert.equal(describeConsumers(early.failing), 'Deployment slow');
    assert.equal(describeConsumers(early.waiting), 'Deployment slow, Deployment asked, Deployment unknown');
    assert.equal(describeConsumers(early.notFound), 'Deployment gone');
    const late = rolloutVerdict(states, requested, true);
    assert.equal(describeConsumers(late.failing), 'Deployment slow, Deployment asked, Deployment unknown');
  });
});
