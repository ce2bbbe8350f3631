import assert from 'node:assert/strict';
import { type RunningParts, Shutdown, shutdownGrace, stopInOrder } from './shutdown.ts';
import { electionConfig } from './testing.ts';

const election = electionConfig();

/** Parts that write what they are asked, in order, to `steps`. */
function recordingParts(steps: string[], graceMs: number | undefined = 2500): RunningParts {
  const closable = (name: string) => ({ close: async () => void steps.push(name) });
  return {
    graceMs,
    controllers: ['vaultsecret', 'reload'].map((name) => ({
      stop: async (grace?: number) => void steps.push(`controller ${name} (grace ${grace})`),
    })),
    fence: { lose: (reason) => void steps.push(`fence lost: ${reason}`) },
    webhooks: closable('webhooks'),
    leadership: { stop: async () => void steps.push('elector') },
    informers: [{ stop: async () => void steps.push('informer') }],
    backends: closable('backends'),
    issuers: closable('issuers'),
    rsa: closable('rsa'),
    api: closable('api'),
    health: closable('health'),
    audit: closable('audit'),
  };
}

describe('operator shutdown', () => {
  it('gives reconciles half of leaseDuration − renewDeadline with leader election', () => {
    assert.equal(shutdownGrace(election), 2500);
    assert.equal(shutdownGrace({ ...election, leaseDuration: 10_001 }), 0);
    assert.equal(shutdownGrace({ ...election, leaseDuration: 13_001 }), 1500, 'rounded down');
  });

  it("leaves the grace to the controllers' own default without leader election", () => {
    assert.equal(shutdownGrace({ ...election, enabled: false }), undefined);
  });

  it('stops the controllers within the grace, then closes the fence, then releases the Lease, the API and the health server last but one', async () => {
    const steps: string[] = [];
    await stopInOrder(recordingParts(steps));
    assert.deepEqual(steps, [
      'controller vaultsecret (grace 2500)',
      'controller reload (grace 2500)',
      'fence lost: stopping',
      'webhooks',
      'elector',
      'informer',
      'backends',
      'issuers',
      'rsa',
      'api',
      'health',
      'audit',
    ]);
  });

  it('goes on when a controller or an informer fails to stop', async () => {
    const steps: string[] = [];
    const parts = recordingParts(steps);
    await stopInOrder({
      ...parts,
      controllers: [{ stop: () => Promise.reject(new Error('stuck')) }, ...parts.controllers],
      informers: [{ stop: () => Promise.reject(new Error('gone')) }],
    });
    assert.equal(steps.at(-1), 'audit');
  });

  it('skips what is not running: no fence, no API, no health server', async () => {
    const steps: string[] = [];
    await stopInOrder({ ...recordingParts(steps), fence: undefined, api: undefined, health: undefined });
    assert.ok(!steps.some((s) => ['api', 'health'].includes(s) || s.startsWith('fence')), steps.join());
  });

  it('stops once: a second stop (or one during the first) returns at once', async () => {
    const steps: string[] = [];
    const shutdown = new Shutdown();
    shutdown.arm(recordingParts(steps));
    assert.equal(shutdown.stopping, false);
    const first = shutdown.stop();
    assert.equal(shutdown.stopping, true, 'stopping from the first call on (liveness says so)');
    await shutdown.stop();
    await first;
    await shutdown.stop();
    assert.equal(steps.filter((s) => s === 'audit').length, 1);
  });

  it('marks itself stopping even before start-up armed it', async () => {
    const shutdown = new Shutdown();
    await shutdown.stop();
    assert.equal(shutdown.stopping, true);
  });
});
