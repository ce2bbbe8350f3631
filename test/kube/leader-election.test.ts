// Two electors against a real API server's Lease: one leads; a release hands over at once;
// a leader cut off from the server steps down and the other takes over after expiry.
import assert from 'node:assert/strict';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  type KubeClient,
  KubeError,
  LeaderElector,
  type RestClient,
  createKubeClient,
  createRestClient,
} from '../../src/kube/index.ts';
import { testbed } from '../support/testbed.ts';
import { delay, eventually, freshNamespace } from './helpers.ts';

describe('kube runtime: leader election (real API server)', function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  let client: KubeClient;
  let ns: { name: string; cleanup: () => Promise<unknown> };

  before(async function () {
    this.timeout(300_000);
    kc = (await testbed()).kubeConfig();
    client = createKubeClient(kc);
    ns = await freshNamespace(client, 'election');
  });
  after(() => ns?.cleanup());

  /** An elector whose connection to the API server the test can cut. */
  function candidate(identity: string, leaseName: string) {
    const real = createRestClient(kc);
    const cut = { on: false };
    const rest: RestClient = {
      request(req) {
        if (cut.on) {
          return Promise.reject(
            new KubeError({ code: 'Unavailable', status: 0, message: 'Unavailable: cut' }),
          );
        }
        return real.request(req);
      },
    };
    const transitions: string[] = [];
    const elector = new LeaderElector({
      client: createKubeClient(rest),
      identity,
      leaseName,
      leaseNamespace: ns.name,
      leaseDurationMs: 4000,
      renewDeadlineMs: 3000,
      retryPeriodMs: 500,
      onStartedLeading: () => transitions.push('started'),
      onStoppedLeading: () => transitions.push('stopped'),
    });
    return { elector, cut, transitions };
  }

  it('elects exactly one leader and hands over at once on release', async () => {
    const a = candidate('a', 'release');
    const b = candidate('b', 'release');
    a.elector.start();
    await eventually('a leads', () => (a.elector.isLeader() ? true : undefined));
    b.elector.start();
    await delay(2000);
    assert.equal(b.elector.isLeader(), false, 'b waits while a renews');
    assert.equal(b.elector.leader(), 'a');

    const stoppedAt = Date.now();
    await a.elector.stop();
    assert.deepEqual(a.transitions, ['started', 'stopped']);
    await eventually('b leads', () => (b.elector.isLeader() ? true : undefined));
    assert.ok(Date.now() - stoppedAt < 2500, 'well before the 4 s lease would have expired');
    await b.elector.stop();
  });

  it('a leader that cannot renew steps down, and the other takes over only after the lease expired', async () => {
    const a = candidate('a', 'expire');
    const b = candidate('b', 'expire');
    a.elector.start();
    await eventually('a leads', () => (a.elector.isLeader() ? true : undefined));
    b.elector.start();
    await delay(1000);
    const cutAt = Date.now();
    a.cut.on = true;
    await eventually('a steps down', () => (a.elector.isLeader() ? undefined : true));
    const aStepped = Date.now();
    await eventually('b leads', () => (b.elector.isLeader() ? true : undefined));
    const bLeads = Date.now();
    assert.ok(aStepped - cutAt <= 3000 + 700, `a stepped down after ${aStepped - cutAt} ms`);
    assert.ok(bLeads - cutAt >= 3500, `b took over after ${bLeads - cutAt} ms (lease 4 s)`);
    assert.ok(aStepped < bLeads, 'never two leaders');
    a.cut.on = false;
    await Promise.all([a.elector.stop(), b.elector.stop()]);
  });
});
