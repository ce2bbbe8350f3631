import assert from 'node:assert/strict';
import { BackendError } from '../resilience/errors.ts';
import { FakeClock } from '../kube/fake-clock.ts';
import { noopBackendMetrics } from '../resilience/metrics.ts';
import { GuardedIssuer } from './guard.ts';
import type { IssuedCertificate, Issuer } from './types.ts';

/** An issuer that counts the revocations it is asked for (fake: only the guard is under test). */
class CountingIssuer implements Issuer {
  readonly name = 'pki';
  readonly type = 'vault-pki' as const;
  readonly supportsRevocation = true;
  revoked = 0;
  sign(): Promise<IssuedCertificate> {
    return Promise.reject(new Error('not used'));
  }
  issue(): Promise<IssuedCertificate> {
    return Promise.reject(new Error('not used'));
  }
  async revoke(): Promise<void> {
    this.revoked++;
  }
  async check(): Promise<void> {}
  async close(): Promise<void> {}
}

describe('GuardedIssuer roles', () => {
  const setup = (allowedRoles: string[]) => {
    const inner = new CountingIssuer();
    const guard = new GuardedIssuer(
      inner,
      { allowedNamespaces: ['team', 'team-*'], allowedRoles },
      { clock: new FakeClock(), metrics: noopBackendMetrics },
    );
    return { inner, guard };
  };

  it('{namespace}.* gives team-a its roles and not team, before any call', async () => {
    const { inner, guard } = setup(['{namespace}.*']);
    await guard.revoke('01', { namespace: 'team-a', role: 'team-a.web' });
    assert.equal(inner.revoked, 1);
    await assert.rejects(guard.revoke('01', { namespace: 'team', role: 'team-a.web' }), (err: unknown) => {
      assert.ok(err instanceof BackendError);
      assert.equal(err.code, 'TenancyDenied');
      assert.equal(
        err.message,
        'role "team-a.web" of issuer "pki" is not allowed for namespace "team" (allowedRoles: team.*)',
      );
      return true;
    });
    assert.equal(inner.revoked, 1);
  });

  it('refuses a role glob where {namespace} is not a whole token', () => {
    assert.throws(() => setup(['{namespace}-*']), /invalid role glob "\{namespace\}-\*"/);
  });

  it('"*" never matches a role with "/" (no path into another mount)', async () => {
    const { guard } = setup(['*']);
    await assert.rejects(guard.revoke('01', { namespace: 'team', role: '../../sys/x' }), /not allowed/);
  });
});
