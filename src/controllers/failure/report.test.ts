import assert from 'node:assert/strict';
import type { Condition } from '../../kube/conditions.ts';
import { Failure } from './failure.ts';
import { FailureReporter, type Recorded } from './report.ts';

const shown = (f: Failure): Condition => ({
  type: 'Ready',
  status: 'False',
  reason: f.reason,
  message: f.message,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

describe('failure: FailureReporter', () => {
  const denied = new Failure('PermissionDenied', 'permission denied on shop/db');
  let warnings: string[];
  const report = (
    reporter: FailureReporter,
    previous: Condition | undefined,
    recorded: Recorded,
    f = denied,
  ) =>
    reporter.report({
      key: 'ns/a',
      failure: f,
      previous,
      record: async () => recorded,
      warn: (reason, message) => void warnings.push(`${reason}: ${message}`),
    });
  beforeEach(() => {
    warnings = [];
  });

  it('records, warns once per change, and says how to retry', async () => {
    const reporter = new FailureReporter(300);
    assert.deepEqual(await report(reporter, undefined, { stored: true }), {
      stored: true,
      retry: { kind: 'userError', ms: 300 },
    });
    await report(reporter, shown(denied), { stored: true });
    assert.deepEqual(warnings, ['PermissionDenied: permission denied on shop/db']);
  });

  it('while the status cannot record it, warns once with the note and not again per retry', async () => {
    const reporter = new FailureReporter();
    const refused = { stored: false, note: 'the status could not record it: quota' } as const;
    assert.equal((await report(reporter, undefined, refused)).stored, false);
    await report(reporter, undefined, refused);
    assert.deepEqual(warnings, [
      'PermissionDenied: permission denied on shop/db; the status could not record it: quota',
    ]);
    // Another failure is news; once stored, the memory goes.
    const down = new Failure('BackendUnavailable', 'down', { transient: true });
    assert.deepEqual((await report(reporter, undefined, { stored: true }, down)).retry, { kind: 'backoff' });
    await report(reporter, undefined, refused);
    assert.equal(warnings.length, 3);
  });

  it('forgets a deleted resource', async () => {
    const reporter = new FailureReporter();
    await report(reporter, undefined, { stored: false });
    reporter.forget('ns/a');
    await report(reporter, undefined, { stored: false });
    assert.equal(warnings.length, 2);
  });

  it('lets a status write it cannot handle (lost leadership) through, saying nothing', async () => {
    const reporter = new FailureReporter();
    await assert.rejects(
      reporter.report({
        key: 'ns/a',
        failure: denied,
        previous: undefined,
        record: () => Promise.reject(new Error('NotLeader')),
        warn: () => void warnings.push('x'),
      }),
      /NotLeader/,
    );
    assert.deepEqual(warnings, []);
  });
});
