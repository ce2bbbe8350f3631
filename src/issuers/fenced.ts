/**
 * The certificate controller's view of the issuers: sign, issue and revoke only while this
 * process leads (checked right before the call goes to the guarded issuer; the fence's signal
 * cancels a call still waiting or in flight when leadership ends). The HTTPS API keeps the
 * unfenced registry.
 */
import { withFenceSignal } from '../backends/fenced.ts';
import type { WriteFence } from '../kube/fence.ts';
import type { Issuer, IssuerRegistry } from './types.ts';

export function fencedIssuer(issuer: Issuer, fence: WriteFence): Issuer {
  return {
    name: issuer.name,
    type: issuer.type,
    supportsRevocation: issuer.supportsRevocation,
    async sign(req, ctx) {
      fence.assertHeld();
      return issuer.sign(req, withFenceSignal(ctx, fence));
    },
    async issue(req, ctx) {
      fence.assertHeld();
      return issuer.issue(req, withFenceSignal(ctx, fence));
    },
    async revoke(serialNumber, ctx) {
      fence.assertHeld();
      return issuer.revoke(serialNumber, withFenceSignal(ctx, fence));
    },
    check: (signal) => issuer.check(signal),
    // The registry owns the issuer.
    close: async () => {},
  };
}

export function fencedIssuers(registry: IssuerRegistry, fence: WriteFence): IssuerRegistry {
  const views = new Map<string, Issuer>();
  return {
    get(name) {
      const issuer = registry.get(name);
      if (!issuer) return undefined;
      let view = views.get(name);
      if (!view) views.set(name, (view = fencedIssuer(issuer, fence)));
      return view;
    },
    names: () => registry.names(),
    close: async () => {},
  };
}
