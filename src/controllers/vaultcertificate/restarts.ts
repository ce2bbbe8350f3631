// rolloutRestartTargets: restarted (by the reload controller) when a certificate is replaced,
// never for the first one; the Secret's MAC digest tells the rollout which data it is for.
import type { VaultCertificate } from '../../apis/v1alpha1/index.ts';
import { macDigest } from '../shared/digests.ts';
import type { StepContext } from './context.ts';
import type { DesiredCertificate } from './spec.ts';

export function requestRestarts(
  c: StepContext,
  vc: VaultCertificate,
  desired: DesiredCertificate,
  mac: string,
): void {
  const targets = vc.spec.rolloutRestartTargets ?? [];
  if (!c.deps.restarts || targets.length === 0) return;
  c.deps.restarts.requestRestart({
    namespace: vc.metadata?.namespace ?? '',
    workloads: targets,
    secrets: { [desired.secretName]: macDigest(mac) },
    group: `VaultCertificate/${vc.metadata?.name ?? ''}`,
    reason: `Secret ${desired.secretName} holds a new certificate`,
  });
}
