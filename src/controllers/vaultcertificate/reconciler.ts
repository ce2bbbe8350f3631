// Reconciles one VaultCertificate by sequencing named steps: check the spec, the finalizer, the
// issuer and the Secret (a failure here is `blocked`: Ready=False, slow retry); parse the Secret
// and ask the policy chain (policies.ts — the one place for a new renewal or re-issue trigger)
// whether a new certificate is needed; if so, wait out the backoff and `issue` (issue.ts), else
// `keepUpToDate` (up-to-date.ts) and come back at the renewal time. Status and events are written
// only on change; failures back off by the state in status, so a restart does not shorten the wait.
import { VaultCertificateReason } from '../../apis/v1alpha1/index.ts';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultCertificate } from '../../apis/v1alpha1/index.ts';
import { getObject } from '../../kube/client.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import { keyFor } from '../../kube/resources.ts';
import { Failure, FailureReporter, USER_ERROR_RETRY_MS, classify } from '../failure/index.ts';
import { invalidSpecMessage } from '../invalid-spec.ts';
import { type StepContext, type VaultCertificateReconcilerDeps, secretRef } from './context.ts';
import { blocked } from './failure-report.ts';
import { finalize, syncFinalizer } from './finalizer.ts';
import { issue } from './issue.ts';
import { type KeyAhead, startKeyAhead, worthKeyAhead } from './key-ahead.ts';
import { ReplicaMemory } from './memory.ts';
import { renewNowToken, shouldIssue } from './policies.ts';
import { BACKEND_REASONS } from './reasons.ts';
import { backoffRemaining, renewalTime } from './renewal.ts';
import { secretProblem } from './secret.ts';
import { type DesiredCertificate, desiredCertificate, requestHash } from './spec.ts';
import { keepUpToDate } from './up-to-date.ts';

export function createVaultCertificateReconciler(deps: VaultCertificateReconcilerDeps) {
  const userErrorRetryMs = deps.userErrorRetryMs ?? USER_ERROR_RETRY_MS;
  const c: StepContext = {
    deps,
    memory: new ReplicaMemory(deps.macKeys),
    failures: new FailureReporter(userErrorRetryMs),
    userErrorRetryMs,
  };
  const forget = (key: string) => {
    c.memory.forget(key);
    c.failures.forget(key);
  };

  async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    // A reconcile that finds everything in the caches completes without I/O; without this
    // turn of the event loop, workers draining a full queue (start-up, relist) would hold the
    // loop for the whole queue.
    await yieldToEventLoop();
    const vc = deps.certificates.get(key);
    if (!vc) {
      forget(key);
      return undefined;
    }
    try {
      return await reconcileOne(c, vc, key, ctx);
    } catch (err) {
      // Transient trouble (apiserver, backend) is retried by the controller with backoff, and lost
      // leadership (fencing) ends the reconcile; anything else is shown on the resource: never a
      // silent retry loop. (Issuance failures were shown and backed off by issue.ts already.)
      const classified = classify(err, ctx.signal.aborted, BACKEND_REASONS);
      if (ctx.signal.aborted || classified.rethrow || classified.failure.transient) throw err;
      if (classified.unexpected)
        ctx.log.error('Reconcile failed unexpectedly', { error: classified.unexpected });
      return blocked(c, vc, key, classified.failure);
    }
  }

  /** Drops what this replica remembers of a deleted resource. */
  return Object.assign(reconcile, { forget });
}

async function reconcileOne(
  c: StepContext,
  vc: VaultCertificate,
  key: string,
  ctx: ReconcileContext,
): Promise<ReconcileResult> {
  if (vc.metadata?.deletionTimestamp) return finalize(c, vc, key, ctx);
  // The CRD's rules again: an object stored past them gets InvalidSpec, not a throw or a loop.
  const invalid = invalidSpecMessage('VaultCertificate', vc.spec);
  if (invalid) return blocked(c, vc, key, new Failure(VaultCertificateReason.InvalidSpec, invalid));
  const desired = desiredCertificate(vc);
  await syncFinalizer(c, vc, desired);

  const issuer = c.deps.issuers.get(desired.issuer.backend);
  if (!issuer) {
    const message = `issuer "${desired.issuer.backend}" is not in the operator configuration (a vault-pki or local-ca backend)`;
    return blocked(c, vc, key, new Failure(VaultCertificateReason.IssuerNotFound, message));
  }
  const now = c.deps.clock.now();
  const { secret, ahead } = await currentSecret(c, vc, key, desired, now, ctx.signal);
  const problem = secretProblem(vc, secret);
  if (problem) return blocked(c, vc, key, new Failure(problem.reason, problem.message));

  const observed = c.memory.observe(key, secret);
  const ours = c.memory.stillHeld(key, desired.secretName, observed);
  const renewal = observed.cert ? renewalTime(observed.cert, desired.renewBefore) : undefined;
  const trigger = shouldIssue({
    desired,
    requestHash: requestHash(desired),
    observed,
    expectedMac: ours ? ours.mac : vc.status?.certificateMAC,
    recordedIssuer: ours ? ours.issuer : vc.status?.issuer,
    renewal,
    renewNow: renewNowToken(vc, ours?.status),
    now,
  });
  if (!trigger)
    return keepUpToDate(c, { vc, key, desired, secret: secret!, observed, renewal: renewal! }, ctx);

  const wait = backoffRemaining(vc.status, vc.metadata?.generation, vc.metadata?.uid ?? key, now);
  if (wait > 0) {
    ctx.log.debug('Waiting to retry issuance', { waitMs: wait, why: trigger.reason });
    return { requeueAfter: wait };
  }
  ctx.log.debug('Issuing certificate', { why: trigger.reason, detail: trigger.message });
  return issue(c, { vc, key, desired, issuer, observed, trigger, ahead }, ctx);
}

/**
 * The Secret: from the cache when it shows what we last wrote (or we never wrote it);
 * otherwise from the apiserver, since the cache may not have caught up with our own write, or
 * the Secret is not ours to cache. A first issuance makes its key meanwhile (key-ahead.ts).
 */
async function currentSecret(
  c: StepContext,
  vc: VaultCertificate,
  key: string,
  desired: DesiredCertificate,
  now: number,
  signal: AbortSignal,
): Promise<{ secret: V1Secret | undefined; ahead?: KeyAhead }> {
  const name = desired.secretName;
  const cached = c.deps.secrets.get(keyFor(vc.metadata?.namespace, name));
  if (cached && !c.memory.cacheBehind(key, name, cached)) return { secret: cached };
  const worth = worthKeyAhead({
    mode: desired.mode,
    cached: cached !== undefined,
    writtenByUs: c.memory.written.has(key),
    kept: c.memory.unwritten.has(key),
    status: vc.status,
    generation: vc.metadata?.generation,
    seed: vc.metadata?.uid ?? key,
    now,
  });
  const ahead = worth ? startKeyAhead(desired, { rsa: c.deps.rsa, signal }) : undefined;
  return { secret: await getObject<V1Secret>(c.deps.client, secretRef(vc, name)), ...(ahead && { ahead }) };
}
