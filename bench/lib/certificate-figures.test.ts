import assert from 'node:assert/strict';
import {
  baoSignRequests,
  certificateVerdict,
  eventLoopDelay,
  issuanceLatenciesMs,
} from './certificate-figures.ts';

describe('bench certificate figures', () => {
  it('takes issuance times from "Issued certificate" lines only, skipping renewals and non-JSON', () => {
    const logs = [
      '{"level":"info","message":"Issued certificate","seconds":0.042}',
      '{"level":"info","message":"Renewed certificate","seconds":9}',
      'Error: boom "Issued certificate"',
      '{"level":"info","message":"Issued certificate"}',
      '{"level":"info","message":"Issued certificate","seconds":0.5}',
    ];
    assert.deepEqual(issuanceLatenciesMs(logs), [42, 500]);
  });

  it('reads the event-loop delay of the prefixed default metrics in ms', () => {
    const text = [
      '# HELP vaultsync_nodejs_eventloop_lag_p99_seconds The 99th percentile',
      'vaultsync_nodejs_eventloop_lag_p50_seconds 0.010151',
      'vaultsync_nodejs_eventloop_lag_p99_seconds 0.0213',
      'vaultsync_nodejs_eventloop_lag_max_seconds 0.05',
      'nodejs_eventloop_lag_p99_seconds 9',
    ].join('\n');
    const d = eventLoopDelay(text);
    assert.ok(Math.abs(d.p50Ms - 10.151) < 1e-9);
    assert.ok(Math.abs(d.p99Ms - 21.3) < 1e-9);
    assert.equal(d.maxMs, 50);
    assert.throws(() => eventLoopDelay('nodejs_eventloop_lag_p99_seconds 1'), /p50/);
  });

  it('counts OpenBao sign requests, not their responses or other paths', () => {
    const audit = [
      '{"type":"request","request":{"path":"pki/sign/svc","operation":"update"}}',
      '{"type":"response","request":{"path":"pki/sign/svc","operation":"update"}}',
      '{"type":"request","request":{"path":"pki/issue/svc","operation":"update"}}',
      '{"type":"request","request":{"path":"pki/sign/svc","operation":"update"}}',
    ].join('\n');
    assert.equal(baoSignRequests(audit), 2);
    assert.equal(baoSignRequests(audit, 'other'), 0);
  });

  it('meets the goals only when every one is met, and says by how much one is missed', () => {
    const good = { rateRatio: 0.85, p99Ms: 90, eventLoopP99Ms: 15, rsaEventLoopP99Ms: 19 };
    assert.equal(certificateVerdict(good).met, true);
    const slow = certificateVerdict({ ...good, rateRatio: 0.5 });
    assert.equal(slow.met, false);
    assert.match(slow.findings[0]!, /^missed: rate 0\.50×/);
    assert.equal(certificateVerdict({ ...good, rsaEventLoopP99Ms: 21 }).met, false);
    assert.equal(certificateVerdict({ ...good, rsaEventLoopP99Ms: undefined }).findings.length, 3);
    assert.equal(certificateVerdict({ ...good, p99Ms: 100.1 }).met, false);
  });
});
