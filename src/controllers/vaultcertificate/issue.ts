// A new certificate is needed (the trigger says why): obtain it — or take the one issued before
// whose Secret write failed — check what was granted, write the Secret, revoke the certificate
// it supersedes, record it in status, say so, and restart the workloads that use it. Any failure
// is shown on the resource and backed off (failure-report.ts); the Secret is never blanked.
import type { V1Secret } from '@kubernetes/client-node';
import { type VaultCertificate, tokenDigest } from '../../apis/v1alpha1/index.ts';
import type { Issuer } from '../../issuers/index.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import { isNotLeader } from '../../kube/fence.ts';
import { keyFor } from '../../kube/resources.ts';
import type { StepContext } from './context.ts';
import { issuanceFailure } from './failure.ts';
import { failed } from './failure-report.ts';
import { grantProblem } from './granted.ts';
import { type Obtained, obtainCertificate } from './issuance.ts';
import type { KeyAhead } from './key-ahead.ts';
import { appliedObservation, issuedMaterial, materialMacOf, secretFor } from './material.ts';
import type { ObservedSecret } from './observed.ts';
import { issuanceOutcome } from './outcome.ts';
import { type Violation, renewNowToken } from './policies.ts';
import type { RecordedCertificate } from './recorded.ts';
import { type Renewal, renewalTime, requeueDelay } from './renewal.ts';
import { requestRestarts } from './restarts.ts';
import { revokeSuperseded } from './revocation.ts';
import { writeIssuedSecret } from './secret-write.ts';
import { type DesiredCertificate, issuerRef, requestHash } from './spec.ts';
import { issuedCondition, successFields, withConditions } from './status.ts';
import { writeStatus } from './status-write.ts';

export interface Issuance {
  vc: VaultCertificate;
  key: string;
  desired: DesiredCertificate;
  issuer: Issuer;
  observed: ObservedSecret;
  trigger: Violation;
  /** The key and CSR made while the Secret was read, if they were (key-ahead.ts). */
  ahead?: KeyAhead;
}

export async function issue(c: StepContext, s: Issuance, ctx: ReconcileContext): Promise<ReconcileResult> {
  const { vc, key, desired, issuer } = s;
  const started = c.deps.clock.now();
  const previousRevision = c.memory.revisionSoFar(vc, key, s.observed);
  const previous = c.memory.recorded(vc, key, s.observed);
  // A certificate issued earlier whose Secret write failed is written now, not signed again.
  const kept = c.memory.kept(vc, key, desired, started);
  const revision = kept?.revision ?? previousRevision + 1;
  try {
    const obtained =
      kept ??
      (await obtainCertificate(vc, desired, issuer, s.observed, {
        rsa: c.deps.rsa,
        signal: ctx.signal,
        ...(s.ahead && { ahead: s.ahead }),
      }));
    const renewal = renewalTime(obtained.cert, desired.renewBefore);
    if (!kept) {
      const problem = grantProblem({
        desired,
        issuerName: issuer.name,
        ...obtained,
        requestedAt: started,
        renewal,
        now: c.deps.clock.now(),
      });
      if (problem) throw problem;
    } else
      ctx.log.info('Writing the certificate issued before again', {
        serialNumber: obtained.cert.serialNumber,
      });
    const { mac, current } = await store(c, s, obtained, revision);
    const seconds = (c.deps.clock.now() - started) / 1000;
    c.deps.metrics?.issuance(issuer.name, desired.mode, 'success', seconds);

    // Revoked before status records the new certificate: until then status still names the
    // one replaced, so a crash in between leaves it recorded, and the next issuance revokes it.
    await revokeSuperseded(c, vc, desired, { previous, current }, ctx);
    await recordIssued(c, s, obtained, renewal, revision, mac);
    const outcome = issuanceOutcome(s.trigger, previousRevision, obtained.cert, revision);
    ctx.log.info(outcome.logMessage, {
      secret: desired.secretName,
      serialNumber: obtained.cert.serialNumber,
      revision,
      notAfter: obtained.cert.notAfter.toISOString(),
      why: s.trigger.reason,
      seconds,
    });
    void c.deps.events.fact({
      type: 'CertificateIssued',
      object: vc,
      reason: outcome.eventReason,
      message: outcome.eventMessage,
      secretName: desired.secretName,
      serialNumber: obtained.cert.serialNumber,
      revision,
      notAfter: obtained.cert.notAfter.toISOString(),
    });
    if (!outcome.first) requestRestarts(c, vc, desired, mac);
    return { requeueAfter: requeueDelay(renewal.at - c.deps.clock.now()) };
  } catch (err) {
    if (ctx.signal.aborted || isNotLeader(err)) throw err;
    const failure = issuanceFailure(err);
    c.deps.metrics?.issuance(
      issuer.name,
      desired.mode,
      failure.reason,
      (c.deps.clock.now() - started) / 1000,
    );
    return failed(c, vc, key, s.observed, s.trigger, failure, ctx);
  }
}

/** Writes the Secret and remembers the write: this replica's record, and the Secret as parsed. */
async function store(
  c: StepContext,
  s: Issuance,
  obtained: Obtained,
  revision: number,
): Promise<{ mac: string; current: RecordedCertificate }> {
  const { vc, key, desired } = s;
  const { cert, key: privateKey } = obtained;
  const material = issuedMaterial(desired, obtained.issued, privateKey);
  const want: V1Secret = secretFor(vc, desired, material, revision);
  const unwritten = {
    generation: vc.metadata?.generation,
    requestHash: requestHash(desired),
    revision,
    issued: obtained.issued,
    key: privateKey,
    cert,
  };
  const applied = await writeIssuedSecret(c, key, desired.secretName, want, unwritten);
  const mac = materialMacOf(c.deps.macKeys, want);
  const current: RecordedCertificate = { serialNumber: cert.serialNumber, issuer: issuerRef(desired) };
  const resourceVersion = applied.metadata?.resourceVersion;
  c.deps.ownWrites?.record(keyFor(vc.metadata?.namespace, desired.secretName), resourceVersion);
  c.memory.written.set(key, {
    secretName: desired.secretName,
    secretResourceVersion: resourceVersion,
    mac,
    revision,
    ...current,
  });
  if (resourceVersion !== undefined) {
    c.memory.rememberParsed(
      key,
      appliedObservation({ vc, desired, material, cert, key: privateKey, mac, revision, resourceVersion }),
    );
  }
  return { mac, current };
}

/** Status records the new certificate: its facts, Ready=True Issued, Issuing gone. */
async function recordIssued(
  c: StepContext,
  s: Issuance,
  obtained: Obtained,
  renewal: Renewal,
  revision: number,
  mac: string,
): Promise<void> {
  // A renew-now request made before this issuance is answered by it.
  const renewNow = renewNowToken(s.vc);
  const status = withConditions(
    s.vc,
    {
      ...successFields(s.vc.status, obtained.cert, issuerRef(s.desired), renewal, revision, mac),
      ...(renewNow !== undefined && { renewNowHandled: tokenDigest(renewNow) }),
    },
    issuedCondition(),
    undefined,
    c.deps.clock.now(),
  );
  await writeStatus(c, s.vc, s.key, status);
}
