import assert from 'node:assert/strict';
import { Sensitive } from '../../secrets/sensitive.ts';
import { FakeClock } from '../../kube/fake-clock.ts';
import { BackendError } from '../../resilience/errors.ts';
import type { AuthResult } from './api.ts';
import { LoginAuth, StaticTokenAuth } from './auth.ts';

function harness(
  opts: { ttlS?: number; renewable?: boolean; renewTtlS?: number; renewFails?: boolean; max?: number } = {},
) {
  const clock = new FakeClock();
  const events: string[] = [];
  let n = 0;
  let renewals = 0;
  let loginGate: Promise<void> | undefined;
  let loginFails = false;
  const auth = new LoginAuth({
    clock,
    timeoutMs: 10_000,
    ...(opts.max === undefined ? {} : { maxIdentities: opts.max }),
    identity: (ctx) => `${ctx.namespace}/${ctx.serviceAccount ?? 'vaultsync'}`,
    onEvent: (e, id) => events.push(`${e} ${id}`),
    login: async (): Promise<AuthResult> => {
      if (loginGate) await loginGate;
      if (loginFails) throw new BackendError('Unauthenticated', 'bad role');
      return {
        token: new Sensitive(`token-${++n}`),
        leaseDurationS: opts.ttlS ?? 3600,
        renewable: opts.renewable ?? true,
      };
    },
    api: {
      renewSelf: async (token) => {
        renewals++;
        if (opts.renewFails) throw new BackendError('PermissionDenied', 'token expired');
        return { token, leaseDurationS: opts.renewTtlS ?? opts.ttlS ?? 3600, renewable: true };
      },
    },
  });
  return {
    clock,
    auth,
    events,
    renewals: () => renewals,
    gate(p: Promise<void>) {
      loginGate = p;
    },
    failLogins(v: boolean) {
      loginFails = v;
    },
  };
}

const a = { namespace: 'team-a' };
const b = { namespace: 'team-b' };

describe('LoginAuth', () => {
  it('logs in once per identity and serves the cached token afterwards', async () => {
    const h = harness();
    const first = await h.auth.token(a);
    assert.equal(first.fromCache, false);
    for (let i = 0; i < 100; i++) {
      const t = await h.auth.token(a);
      assert.equal(t.value, first.value);
      assert.equal(t.fromCache, true);
    }
    assert.deepEqual(h.events, ['login team-a/vaultsync']);
  });

  it('coalesces concurrent logins for one identity', async () => {
    const h = harness();
    let open!: () => void;
    h.gate(new Promise<void>((r) => (open = r)));
    const all = Array.from({ length: 30 }, () => h.auth.token(a));
    open();
    const tokens = await Promise.all(all);
    assert.equal(new Set(tokens.map((t) => t.value.reveal())).size, 1);
    assert.deepEqual(h.events, ['login team-a/vaultsync']);
  });

  it('keeps identities apart', async () => {
    const h = harness();
    const [x, y, z] = await Promise.all([
      h.auth.token(a),
      h.auth.token(b),
      h.auth.token({ namespace: 'team-a', serviceAccount: 'other' }),
    ]);
    assert.equal(new Set([x, y, z].map((t) => t.value.reveal())).size, 3);
    assert.equal(h.auth.size, 3);
  });

  it('renews the token after two thirds of its TTL instead of logging in', async () => {
    const h = harness({ ttlS: 300 });
    const first = await h.auth.token(a);
    await h.clock.advanceAsync(199_000);
    assert.equal((await h.auth.token(a)).fromCache, true);
    await h.clock.advanceAsync(2_000);
    const renewed = await h.auth.token(a);
    assert.equal(renewed.value, first.value);
    assert.equal(h.renewals(), 1);
    assert.deepEqual(h.events, ['login team-a/vaultsync', 'renew team-a/vaultsync']);
    // The renewal started a new TTL.
    await h.clock.advanceAsync(150_000);
    assert.equal((await h.auth.token(a)).fromCache, true);
  });

  it('logs in again when renewal fails', async () => {
    const h = harness({ ttlS: 300, renewFails: true });
    const first = await h.auth.token(a);
    await h.clock.advanceAsync(250_000);
    const next = await h.auth.token(a);
    assert.notEqual(next.value.reveal(), first.value.reveal());
    assert.deepEqual(h.events, [
      'login team-a/vaultsync',
      'renew-failed team-a/vaultsync',
      'login team-a/vaultsync',
    ]);
  });

  it('logs in again when renewal leaves too little time (max TTL reached)', async () => {
    const h = harness({ ttlS: 300, renewTtlS: 5 });
    await h.auth.token(a);
    await h.clock.advanceAsync(250_000);
    await h.auth.token(a);
    assert.deepEqual(h.events, [
      'login team-a/vaultsync',
      'renew-failed team-a/vaultsync',
      'login team-a/vaultsync',
    ]);
  });

  it('logs in without renewing when the token has expired or is not renewable', async () => {
    const h = harness({ ttlS: 300 });
    await h.auth.token(a);
    await h.clock.advanceAsync(400_000);
    await h.auth.token(a);
    const n = harness({ ttlS: 300, renewable: false });
    await n.auth.token(a);
    await n.clock.advanceAsync(250_000);
    await n.auth.token(a);
    assert.equal(h.renewals() + n.renewals(), 0);
    assert.deepEqual(h.events, ['login team-a/vaultsync', 'login team-a/vaultsync']);
  });

  it('never renews a token without TTL', async () => {
    const h = harness({ ttlS: 0 });
    await h.auth.token(a);
    await h.clock.advanceAsync(365 * 24 * 3600 * 1000);
    assert.equal((await h.auth.token(a)).fromCache, true);
  });

  it('drops an invalidated token, and only that token', async () => {
    const h = harness();
    const first = await h.auth.token(a);
    h.auth.invalidate('team-a/vaultsync', new Sensitive('other'));
    assert.equal((await h.auth.token(a)).fromCache, true);
    h.auth.invalidate(first.identity, first.value);
    const next = await h.auth.token(a);
    assert.equal(next.fromCache, false);
    assert.notEqual(next.value.reveal(), first.value.reveal());
  });

  it('does not cache a failed login', async () => {
    const h = harness();
    h.failLogins(true);
    await assert.rejects(h.auth.token(a), /bad role/);
    h.failLogins(false);
    assert.equal((await h.auth.token(a)).fromCache, false);
  });

  it('lets a caller give up while the login goes on for the others', async () => {
    const h = harness();
    let open!: () => void;
    h.gate(new Promise<void>((r) => (open = r)));
    const ac = new AbortController();
    const quitter = h.auth.token(a, ac.signal);
    const stayer = h.auth.token(a);
    ac.abort(new Error('cancelled'));
    await assert.rejects(quitter, /cancelled/);
    open();
    assert.equal((await stayer).fromCache, false);
    assert.equal((await h.auth.token(a)).fromCache, true);
  });

  it('keeps at most maxIdentities, dropping the least recently used', async () => {
    const h = harness({ max: 2 });
    await h.auth.token(a);
    await h.auth.token(b);
    await h.auth.token(a);
    await h.auth.token({ namespace: 'team-c' });
    assert.equal(h.auth.size, 2);
    assert.equal((await h.auth.token(a)).fromCache, true);
    assert.equal((await h.auth.token(b)).fromCache, false);
  });
});

describe('StaticTokenAuth', () => {
  it('loads once, and again only after the token was invalidated', async () => {
    let loads = 0;
    const auth = new StaticTokenAuth(async () => new Sensitive(`t${++loads}`));
    const first = await auth.token(a);
    assert.equal(first.fromCache, false);
    assert.equal((await auth.token(b)).fromCache, true);
    auth.invalidate('token', first.value);
    const second = await auth.token(a);
    assert.equal(second.value.reveal(), 't2');
    assert.equal(loads, 2);
  });

  it('does not keep a failed load', async () => {
    let fail = true;
    const auth = new StaticTokenAuth(async () => {
      if (fail) throw new BackendError('Unauthenticated', 'cannot read the Vault token from /t');
      return new Sensitive('t');
    });
    await assert.rejects(auth.token(a), /cannot read/);
    fail = false;
    assert.equal((await auth.token(a)).value.reveal(), 't');
  });
});
