// A VaultSecret's failure on the shared failure path (controllers/failure): Ready=False with its
// reason, one Warning per change; a failure after a backend read that needs a user's fix holds
// further reads (failure-hold.ts). When the apiserver refuses the status patch itself, the event
// and the log still say so, once, and nothing loops.
import type { VaultSecret } from '../../apis/v1alpha1/index.ts';
import { tokenDigest } from '../../apis/v1alpha1/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { type Condition, getCondition } from '../../kube/conditions.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import { keyFor } from '../../kube/resources.ts';
import {
  type Failure,
  type FailureReporter,
  type Recorded,
  failedConditions,
  refusedWrite,
  refusedWriteMessage,
  settle,
} from '../failure/index.ts';
import type { ControllerEvents } from '../lifecycle.ts';
import { targetName } from '../shared/target-name.ts';
import type { FailureHold, HoldInput } from './failure-hold.ts';
import { writeStatus } from './status-write.ts';
import { syncNowToken } from './sync-now.ts';

export interface FailureIo {
  client: KubeClient;
  events: Pick<ControllerEvents, 'fact'>;
  clock: { now(): number };
  failures: FailureReporter;
  held: FailureHold;
}

/** Reports `failure` on `vs`; `hold` is set when the backend was read (a user error then holds reads). */
export async function reportFailure(
  io: FailureIo,
  vs: VaultSecret,
  failure: Failure,
  log: ReconcileContext['log'],
  hold?: HoldInput,
): Promise<ReconcileResult> {
  const key = keyFor(vs.metadata?.namespace, vs.metadata?.name ?? '');
  const previous = getCondition(vs.status?.conditions as Condition[] | undefined, 'Ready');
  const userErrorRetryMs = io.failures.userErrorRetryMs;
  const { stored, retry } = await io.failures.report({
    key,
    failure,
    previous,
    warn: (reason, message) =>
      io.events.fact({ type: 'SecretSyncFailed', object: vs, reason, message, secretName: targetName(vs) }),
    record: () => recordFailure(io, vs, failure, log),
  });
  if (!stored) {
    // The status still shows what it showed before: that is what the hold waits on.
    if (hold) io.held.hold(key, hold, io.clock.now() + userErrorRetryMs, previous?.reason);
    return { requeueAfter: userErrorRetryMs };
  }
  const result = settle(failure, retry);
  if (hold) io.held.hold(key, hold, io.clock.now() + userErrorRetryMs, failure.reason);
  return result;
}

async function recordFailure(
  io: FailureIo,
  vs: VaultSecret,
  failure: Failure,
  log: ReconcileContext['log'],
): Promise<Recorded> {
  const token = syncNowToken(vs);
  const conditions = vs.status?.conditions as Condition[] | undefined;
  try {
    await writeStatus(io.client, vs, {
      ...vs.status,
      conditions: failedConditions(conditions, failure, vs.metadata?.generation, io.clock.now()),
      observedGeneration: vs.metadata?.generation,
      ...(token !== undefined && { syncNowHandled: tokenDigest(token) }),
    });
    return { stored: true };
  } catch (err) {
    const refused = refusedWrite(err);
    if (!refused) throw err;
    log.error('Status update refused', { reason: failure.reason, error: refused.message });
    const note = refusedWriteMessage('the VaultSecret status', refused);
    return { stored: false, note: `the status could not record it: ${note}` };
  }
}
