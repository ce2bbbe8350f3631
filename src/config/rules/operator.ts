// The rules of `operator` a schema cannot express.
import { parseDuration } from '../../apis/v1alpha1/duration.ts';
import { isObject, type Json } from '../json.ts';
import { type ProblemList, repeats } from '../problems.ts';
import { portOf } from './addresses.ts';

export function checkOperator(operator: Json, problems: ProblemList): void {
  checkLeaderElection(operator, problems);
  if (Array.isArray(operator.watchNamespaces) && !problems.has('/operator/watchNamespaces')) {
    for (const [i, first] of repeats(operator.watchNamespaces)) {
      problems.add(
        `/operator/watchNamespaces/${i}`,
        `"${String(operator.watchNamespaces[i])}" is already listed at watchNamespaces[${first}]`,
      );
    }
  }
  for (const field of ['metricsAddress', 'healthAddress'] as const) {
    const addr = operator[field];
    if (typeof addr !== 'string' || addr === '0' || problems.has(`/operator/${field}`)) continue;
    if (portOf(addr) > 65535) problems.add(`/operator/${field}`, 'port must be between 0 and 65535');
  }
  if (
    operator.metricsAddress === operator.healthAddress &&
    operator.metricsAddress !== '0' &&
    typeof operator.metricsAddress === 'string'
  ) {
    problems.add('/operator/healthAddress', 'must differ from metricsAddress');
  }
}

function checkLeaderElection(operator: Json, problems: ProblemList): void {
  const le = operator.leaderElection;
  if (!isObject(le) || problems.has('/operator/leaderElection')) return;
  const lease = parseDuration(String(le.leaseDuration));
  const renew = parseDuration(String(le.renewDeadline));
  const retry = parseDuration(String(le.retryPeriod));
  // The fence (src/kube/fence.ts) relies on these: a leader that cannot renew stops writing
  // at renewDeadline, before anyone else may take the Lease at leaseDuration, and a renewal
  // can be retried at least once before the deadline.
  if (lease < 1000) {
    problems.add('/operator/leaderElection/leaseDuration', 'must be at least 1s');
  } else if (renew >= lease) {
    problems.add('/operator/leaderElection/renewDeadline', 'must be shorter than leaseDuration');
  } else if (retry >= renew) {
    problems.add('/operator/leaderElection/retryPeriod', 'must be shorter than renewDeadline');
  } else if (retry * 1.2 >= renew) {
    problems.add(
      '/operator/leaderElection/retryPeriod',
      'must be below renewDeadline / 1.2, so a failed renewal is retried before the deadline',
    );
  } else if (retry < 100) {
    problems.add('/operator/leaderElection/retryPeriod', 'must be at least 100ms');
  }
}
