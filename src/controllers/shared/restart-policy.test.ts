import assert from 'node:assert/strict';
import { rotationRestartPolicy } from './restart-policy.ts';

describe('rotationRestartPolicy', () => {
  it('applies a rotation’s restart settings with defaults and its time zone', () => {
    const p = rotationRestartPolicy({
      backend: 'vault',
      path: 'a/b',
      schedule: '0 3 * * 0',
      timeZone: 'Europe/Berlin',
      generate: { p: { type: 'password' } },
      restart: { maxUnavailableTargets: 3, readyTimeout: '5m' },
    });
    assert.deepEqual(
      { ...p, windows: p.windows.length },
      {
        debounceMs: 10_000,
        minIntervalMs: 0,
        maxUnavailable: 3,
        readyTimeoutMs: 300_000,
        windows: 0,
        windowTimeZone: 'Europe/Berlin',
        mode: 'Restart',
      },
    );
  });
});
