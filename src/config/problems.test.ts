import assert from 'node:assert/strict';
import { ConfigError, ProblemList, repeats } from './problems.ts';

describe('config problems', () => {
  it('repeats maps each repeat to the first index of its value, ignoring undefined', () => {
    assert.deepEqual(
      [...repeats(['a', 'b', 'a', undefined, undefined, 'b', 'a'])],
      [
        [2, 0],
        [5, 1],
        [6, 0],
      ],
    );
    assert.equal(repeats([]).size, 0);
  });

  it('has matches the pointer and what is below it; hasAt the pointer only', () => {
    const problems = new ProblemList();
    problems.add('/backends/1/auth/token', 'x');
    assert.equal(problems.has('/backends/1/auth'), true);
    assert.equal(problems.hasAt('/backends/1/auth'), false);
    assert.equal(problems.hasAt('/backends/1/auth/token'), true);
    assert.equal(problems.has('/backends/10'), false, 'backends[10] is not below backends[1]');
    assert.equal(problems.has('/backends/0'), false);
  });

  it('names the environment variable a field came from, and fails with every problem', () => {
    const problems = new ProblemList();
    problems.fromEnv.set('/operator/logLevel', 'VAULTSYNC_LOG_LEVEL');
    problems.push({ path: '(yaml)', message: 'line 1' });
    problems.add('/operator/logLevel', 'must be one of: info');
    assert.equal(problems.count, 2);
    assert.throws(
      () => problems.fail('c.yaml'),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message ===
          'Invalid operator config c.yaml (2 problems):\n  - (yaml): line 1\n  - operator.logLevel (from VAULTSYNC_LOG_LEVEL): must be one of: info',
    );
  });
});
