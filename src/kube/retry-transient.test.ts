import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { FakeClock } from './fake-clock.ts';
import { KubeError } from './errors.ts';
import { retryTransient } from './retry-transient.ts';

const unreachable = () =>
  new KubeError({ code: 'Timeout', status: 0, reason: 'Timeout', message: 'Timeout: network error' });
const forbidden = () => new KubeError({ code: 'Forbidden', status: 403, message: 'Forbidden: no' });

describe('retryTransient (start-up calls to the apiserver)', () => {
  it('waits out an unreachable apiserver with growing delays, then returns the result', async () => {
    const clock = new FakeClock();
    const calls: number[] = [];
    const warnings: unknown[] = [];
    const logger = { debug() {}, info() {}, warn: (_m: string, f: unknown) => warnings.push(f), error() {} };
    const result = retryTransient(
      'MAC keys',
      async () => {
        calls.push(clock.now());
        if (calls.length < 4) throw unreachable();
        return 'keys';
      },
      { clock, random: () => 0.5, logger: logger as never },
    );
    await clock.advanceAsync(120_000);
    assert.equal(await result, 'keys');
    assert.equal(calls.length, 4);
    const gaps = calls.slice(1).map((t, i) => t - calls[i]!);
    assert.ok(
      gaps.every((g) => g >= 1000 && g <= 30_000),
      `delays within [1 s, 30 s]: ${gaps.join(', ')}`,
    );
    assert.equal(warnings.length, 3, 'one warning per failed attempt');
  });

  it('fails at once on an error that needs a change (403)', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await assert.rejects(
      retryTransient(
        'MAC keys',
        async () => {
          calls++;
          throw forbidden();
        },
        { clock },
      ),
      /Forbidden/,
    );
    assert.equal(calls, 1);
  });

  it('honours Retry-After on a 429', async () => {
    const clock = new FakeClock();
    const calls: number[] = [];
    const result = retryTransient(
      'API CA',
      async () => {
        calls.push(clock.now());
        if (calls.length === 1) {
          throw new KubeError({
            code: 'TooManyRequests',
            status: 429,
            message: 'slow down',
            retryAfterMs: 7000,
          });
        }
        return 1;
      },
      { clock, random: () => 0 },
    );
    await clock.advanceAsync(10_000);
    assert.equal(await result, 1);
    assert.equal(calls[1]! - calls[0]!, 7000);
  });

  it('keeps the process alive while it waits (nothing else may hold it open at start-up)', () => {
    // A child process whose only work is the retry: with an unref'd timer alone, node exits
    // with status 0 in the middle of the wait and prints nothing.
    const script = `
      import { retryTransient } from ${JSON.stringify(new URL('./retry-transient.ts', import.meta.url).href)};
      import { KubeError } from ${JSON.stringify(new URL('./errors.ts', import.meta.url).href)};
      let calls = 0;
      const out = await retryTransient('x', async () => {
        if (++calls === 1) throw new KubeError({ code: 'Unavailable', status: 0, message: 'refused' });
        return 'done';
      }, { backoff: { baseMs: 200, capMs: 200 } });
      console.log(out);
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(out.trim(), 'done');
  });
});
