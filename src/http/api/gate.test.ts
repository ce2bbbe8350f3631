// The call gate's order of checks: what a burst of calls with a token not yet cached costs.
import assert from 'node:assert/strict';
import type { Authenticator, Caller } from './auth.ts';
import { createCallGate } from './gate.ts';

const caller: Caller = { user: 'system:serviceaccount:shop:web', groups: [] };
const access = { verb: 'get', resource: 'backends', subresource: 'secrets', namespace: 'shop' } as const;
const config = {
  audience: 'vaultsync',
  rateLimit: { max: 1000, window: 60_000, unauthenticated: { max: 2, window: 60_000 } },
  secretReads: true,
  secretWrites: false,
  secretDeletes: false,
};

/** An authenticator whose one review answers when the test says, sharing it as the real one does. */
function slowAuthenticator() {
  let answer!: (c: Caller) => void;
  let underway: Promise<Caller | undefined> | undefined;
  let reviews = 0;
  let cached: Caller | undefined;
  const auth: Authenticator = {
    known: () => cached,
    underway: () => underway,
    authenticate() {
      reviews++;
      underway = new Promise<Caller>((r) => (answer = r)).then((c) => {
        cached = c;
        underway = undefined;
        return c;
      });
      return underway;
    },
  };
  return { auth, answer: (c: Caller) => answer(c), reviews: () => reviews };
}

describe('API call gate', () => {
  it('lets a burst of calls with a new token wait for its one review, charging the address once', async () => {
    const { auth, answer, reviews } = slowAuthenticator();
    const gate = createCallGate({
      config,
      authenticator: auth,
      authorizer: { authorize: async () => ({ allowed: true }) },
    });
    const calls = Array.from({ length: 20 }, () => gate.admit({ token: 't', source: '10.0.0.1', access }));
    answer(caller);
    const admitted = await Promise.all(calls);
    assert.equal(admitted.length, 20);
    assert.equal(reviews(), 1);
  });

  it('still charges the address for calls without a token', async () => {
    const { auth } = slowAuthenticator();
    const gate = createCallGate({
      config,
      authenticator: auth,
      authorizer: { authorize: async () => ({ allowed: true }) },
    });
    const admit = () => gate.admit({ token: undefined, source: '10.0.0.2', access });
    await assert.rejects(admit(), { code: 'Unauthenticated' });
    await assert.rejects(admit(), { code: 'Unauthenticated' });
    await assert.rejects(admit(), { code: 'TooManyRequests' });
  });
});
