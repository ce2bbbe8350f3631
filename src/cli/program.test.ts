import assert from 'node:assert/strict';
import type { VaultSyncResource } from '../apis/v1alpha1/index.ts';
import type { Cluster, ConnectOptions } from './cluster.ts';
import { runCli } from './program.ts';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const vs = {
  apiVersion: 'vaultsync.io/v1alpha1',
  kind: 'VaultSecret',
  metadata: { name: 'db', namespace: 'team-a' },
  spec: { backend: 'vault' },
  status: {
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Synced',
        message: '',
        lastTransitionTime: '2026-01-01T11:00:00Z',
      },
    ],
  },
} as unknown as VaultSyncResource;

function fakeCluster(seen: ConnectOptions[]) {
  return (opts: ConnectOptions): Cluster => {
    seen.push(opts);
    return {
      namespace: opts.namespace ?? 'default',
      list: async (kind) => (kind === 'VaultSecret' ? [vs] : []),
      get: async (kind, _ns, name) => (kind === 'VaultSecret' && name === 'db' ? vs : undefined),
      annotate: async () => {},
      events: async () => [],
      secret: async () => undefined,
    };
  };
}

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const seen: ConnectOptions[] = [];
  const code = await runCli(argv, {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    connect: fakeCluster(seen),
    now: () => NOW,
  });
  return { code, out: out.join(''), err: err.join(''), seen };
}

describe('kubectl vaultsync: command line', () => {
  it('takes kubeconfig, context, namespace and output before or after the command', async () => {
    const a = await run(['--context', 'dev', 'status', '-n', 'team-a', '-o', 'json', '--kubeconfig', '/k']);
    assert.equal(a.code, 0, a.err);
    assert.deepEqual(a.seen[0], { context: 'dev', namespace: 'team-a', output: 'json', kubeconfig: '/k' });
    assert.equal(JSON.parse(a.out).items[0].name, 'db');
  });

  it('exit codes: 0 done, 1 not found, 2 a usage mistake', async () => {
    assert.equal((await run(['why', 'vaultsecret/db'])).code, 0);
    const missing = await run(['why', 'vaultsecret/nope', '-n', 'team-a']);
    assert.equal(missing.code, 1);
    assert.equal(missing.err, 'error: VaultSecret "nope" not found in namespace "team-a"\n');
    assert.equal((await run(['why', 'db'])).code, 2);
    assert.equal((await run(['why'])).code, 2);
    assert.equal((await run(['status', '--bogus'])).code, 2);
    assert.equal((await run(['status', '-o', 'xml'])).code, 2);
    assert.equal((await run(['nope'])).code, 2);
    assert.equal((await run(['sync', 'db', '--wait', '--timeout', 'soon'])).code, 2);
    assert.equal((await run(['--help'])).code, 0);
  });

  it('sync without --wait only asks', async () => {
    const r = await run(['sync', 'db']);
    assert.equal(r.code, 0);
    assert.match(r.out, /^vaultsecret\/db sync requested \(vaultsync.io\/sync-now=/);
  });

  it('inspect certificate says when there is nothing to inspect', async () => {
    const r = await run(['inspect', 'certificate', 'web']);
    assert.equal(r.code, 1);
    assert.match(r.err, /no VaultCertificate or Secret "web" in namespace "default"/);
  });
});
