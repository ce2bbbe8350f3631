import assert from 'node:assert/strict';
import {
  MAX_REQUEUE_MS,
  RENEWAL_JITTER,
  backoffRemaining,
  issuanceBackoff,
  renewalTime,
  requeueDelay,
  stableFraction,
} from './renewal.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('VaultCertificate: renewal time and issuance backoff', () => {
  const cert = (lifetimeMs: number, serialNumber = 'ab12') => ({
    notBefore: new Date(0),
    notAfter: new Date(lifetimeMs),
    serialNumber,
  });

  const cases: {
    name: string;
    lifetime: number;
    renewBefore: Parameters<typeof renewalTime>[1];
    at: number;
    adjusted?: boolean;
  }[] = [
    {
      name: 'renewBefore 240h of 720h',
      lifetime: 720 * HOUR,
      renewBefore: { kind: 'duration', ms: 240 * HOUR },
      at: 480 * HOUR,
    },
    {
      name: '50% of 3 minutes',
      lifetime: 3 * MIN,
      renewBefore: { kind: 'percentage', percentage: 50 },
      at: 1.5 * MIN,
    },
    {
      name: '33% of 90 days',
      lifetime: 2160 * HOUR,
      renewBefore: { kind: 'percentage', percentage: 33 },
      at: 2160 * HOUR * 0.67,
    },
    {
      name: 'renewBefore longer than a shortened lifetime: a third of it',
      lifetime: 72 * HOUR,
      renewBefore: { kind: 'duration', ms: 240 * HOUR },
      at: 48 * HOUR,
      adjusted: true,
    },
  ];
  for (const c of cases) {
    it(`renews within the jitter window before the deadline: ${c.name}`, () => {
      const r = renewalTime(cert(c.lifetime), c.renewBefore);
      const window = (c.lifetime - c.at) * RENEWAL_JITTER;
      assert.ok(r.at <= c.at + 1, `${r.at} <= ${c.at}`);
      assert.ok(r.at >= c.at - window - 1, `${r.at} >= ${c.at - window}`);
      assert.equal(r.adjusted, c.adjusted ?? false);
    });
  }

  it('is the same for the same certificate (a restart renews nothing early) and spread across serials', () => {
    const r1 = renewalTime(cert(720 * HOUR, 'aa'), { kind: 'percentage', percentage: 33 });
    const r2 = renewalTime(cert(720 * HOUR, 'aa'), { kind: 'percentage', percentage: 33 });
    assert.equal(r1.at, r2.at);
    const spread = new Set(
      ['a', 'b', 'c', 'd', 'e'].map(
        (s) => renewalTime(cert(720 * HOUR, s), { kind: 'percentage', percentage: 33 }).at,
      ),
    );
    assert.equal(spread.size, 5);
    for (const s of ['x', 'y', 'z']) {
      const f = stableFraction(s);
      assert.ok(f >= 0 && f < 1);
    }
  });

  it('backs off from 5 s, doubling, capped at 30 minutes, never more than 10% early', () => {
    const expect = [5_000, 10_000, 20_000, 40_000, 80_000];
    for (const [i, ms] of expect.entries()) {
      const d = issuanceBackoff(i + 1, 'uid');
      assert.ok(d <= ms && d >= ms * 0.9, `attempt ${i + 1}: ${d}`);
    }
    assert.ok(issuanceBackoff(50, 'uid') <= 30 * MIN);
    assert.ok(issuanceBackoff(50, 'uid') >= 27 * MIN);
    assert.equal(issuanceBackoff(0, 'uid'), 0);
  });

  it('waits out the backoff from status, unless the spec changed since the failure', () => {
    const status = {
      failedIssuanceAttempts: 3,
      lastFailureTime: '2030-01-01T00:00:00Z',
      observedGeneration: 2,
    };
    const t0 = Date.parse(status.lastFailureTime);
    const wait = backoffRemaining(status, 2, 'uid', t0 + 1000);
    assert.ok(wait > 15_000 && wait <= 19_000, String(wait));
    assert.equal(backoffRemaining(status, 3, 'uid', t0 + 1000), 0);
    assert.equal(backoffRemaining(status, 2, 'uid', t0 + 60_000), 0);
    assert.equal(backoffRemaining(undefined, 2, 'uid', t0), 0);
  });
});

describe('VaultCertificate: when to look again', () => {
  it('at least a second away, at most a day', () => {
    assert.equal(requeueDelay(-5), 1000);
    assert.equal(requeueDelay(90_000), 90_000);
    assert.equal(requeueDelay(30 * 86_400_000), MAX_REQUEUE_MS);
  });
});
