// Nothing to issue: keep the Secret's metadata and extra outputs in line with the spec (the same
// certificate, rewritten only when something differs), status current, back at renewal time.
import { CertificateEventReason } from '../../apis/v1alpha1/index.ts';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultCertificate } from '../../apis/v1alpha1/index.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import type { StepContext } from './context.ts';
import { heldMaterial, materialMacOf, secretFor, verifiedStamp } from './material.ts';
import type { ObservedSecret } from './observed.ts';
import { type Renewal, requeueDelay } from './renewal.ts';
import { secretUpToDate } from './secret.ts';
import { rewriteSecret } from './secret-write.ts';
import { type DesiredCertificate, issuerRef } from './spec.ts';
import { issuedCondition, successFields, withConditions } from './status.ts';
import { writeStatus } from './status-write.ts';

export interface UpToDate {
  vc: VaultCertificate;
  key: string;
  desired: DesiredCertificate;
  secret: V1Secret;
  observed: ObservedSecret;
  renewal: Renewal;
}

export async function keepUpToDate(
  c: StepContext,
  s: UpToDate,
  ctx: ReconcileContext,
): Promise<ReconcileResult> {
  const { vc, key, desired, observed, renewal } = s;
  const cert = observed.cert!;
  const revision = Math.max(c.memory.revisionSoFar(vc, key, observed), 1);
  const mac = await alignSecret(c, s, revision, ctx);
  // The issuer is the spec's: the chain found the recorded one (or, in a status from before
  // issuers were recorded, the Secret's annotation next to unchanged material) equal to it.
  const status = withConditions(
    vc,
    successFields(vc.status, cert, issuerRef(desired), renewal, revision, mac),
    issuedCondition(renewal),
    undefined,
    c.deps.clock.now(),
  );
  await writeStatus(c, vc, key, status);
  return { requeueAfter: requeueDelay(renewal.at - c.deps.clock.now()) };
}

/** Rewrites the Secret when its metadata or extra outputs differ from the spec; its MAC after. */
async function alignSecret(
  c: StepContext,
  s: UpToDate,
  revision: number,
  ctx: ReconcileContext,
): Promise<string> {
  const { vc, key, desired, secret, observed } = s;
  const record = c.memory.written.get(key);
  const mac = observed.mac!;
  // The Secret (this resourceVersion) was already found complete for this spec: skip the rebuild.
  const stamp = verifiedStamp(vc, revision);
  if (observed.verified === stamp) return mac;
  const want = secretFor(vc, desired, heldMaterial(desired, observed), revision);
  if (secretUpToDate(secret, want)) {
    observed.verified = stamp;
    if (record && record.mac === mac && record.secretResourceVersion !== secret.metadata?.resourceVersion)
      record.secretResourceVersion = secret.metadata?.resourceVersion;
    return mac;
  }
  const applied = await rewriteSecret(c, desired.secretName, want);
  const written = materialMacOf(c.deps.macKeys, want);
  c.memory.written.set(key, {
    secretName: desired.secretName,
    secretResourceVersion: applied.metadata?.resourceVersion,
    mac: written,
    revision,
    serialNumber: observed.cert!.serialNumber,
    issuer: issuerRef(desired),
    ...(record?.status ? { status: record.status } : {}),
  });
  ctx.log.info('Updated Secret', { secret: desired.secretName, why: 'metadata or extra outputs' });
  void c.deps.events.normal(
    vc,
    CertificateEventReason.SecretUpdated,
    `Updated Secret ${desired.secretName} (labels, annotations or extra outputs)`,
  );
  return written;
}
