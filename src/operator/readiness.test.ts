import assert from 'node:assert/strict';
import type { InformerStatus } from '../kube/informer-options.ts';
import { type Reachable, informersReadiness, leaderElectionDetail, readinessChecks } from './readiness.ts';

function status(name: string, synced: boolean, healthy: boolean): InformerStatus {
  return { name, synced, healthy, watching: healthy, objects: 0, consecutiveFailures: 0 };
}

function registry(...members: Reachable[]) {
  return { names: () => members.map((m) => m.name), get: (n: string) => members.find((m) => m.name === n) };
}

describe('operator readiness', () => {
  it('is ready when every informer has synced and is watching', () => {
    assert.deepEqual(informersReadiness([status('secrets', true, true), status('pods', true, true)]), {
      ok: true,
    });
    assert.deepEqual(informersReadiness([]), { ok: true });
  });

  it('names each informer that is not synced or not watching', () => {
    assert.deepEqual(
      informersReadiness([
        status('secrets', false, false),
        status('pods', true, true),
        status('leases', true, false),
      ]),
      { ok: false, detail: 'secrets: not synced; leases: not watching' },
    );
  });

  it("tells this replica's part in leader election", () => {
    assert.equal(leaderElectionDetail(undefined), 'disabled');
    assert.equal(leaderElectionDetail({ isLeader: () => true, leader: () => 'me' }), 'leader');
    assert.equal(
      leaderElectionDetail({ isLeader: () => false, leader: () => 'pod-b' }),
      'standby (leader: pod-b)',
    );
    assert.equal(
      leaderElectionDetail({ isLeader: () => false, leader: () => undefined }),
      'standby (leader: none)',
    );
  });

  it('checks each backend, then each issuer, under backends/<name>, and says why one is unreachable', async () => {
    const calls: string[] = [];
    const reachable = (name: string, error?: string): Reachable => ({
      name,
      check: async (signal) => {
        assert.ok(signal instanceof AbortSignal, 'each check is bounded by a timeout');
        calls.push(name);
        if (error) throw new Error(error);
      },
    });
    const checks = readinessChecks({
      informers: [{ status: () => status('secrets', true, true) }],
      elector: undefined,
      backends: registry(reachable('vault'), reachable('aws', 'connect ECONNREFUSED')),
      issuers: registry(reachable('pki')),
    });
    assert.deepEqual(
      checks.map((c) => c.name),
      ['informers', 'leader-election', 'backends/vault', 'backends/aws', 'backends/pki'],
    );
    const outcomes = await Promise.all(checks.map((c) => c.check()));
    assert.deepEqual(outcomes, [
      { ok: true },
      { ok: true, detail: 'disabled' },
      { ok: true },
      { ok: false, detail: 'connect ECONNREFUSED' },
      { ok: true },
    ]);
    await checks[2]!.check();
    assert.deepEqual(
      calls,
      ['vault', 'aws', 'pki'],
      'a second /readyz within the cache time asks no backend',
    );
  });
});
