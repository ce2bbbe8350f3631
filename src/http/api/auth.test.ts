// TokenReview handling against a fake apiserver client (the real one answers in
// test/api.test.ts and test/security/api.test.ts): the audience is asked for and checked, and an
// accepted token is never cached past its expiry.
import assert from 'node:assert/strict';
import type { KubeClient } from '../../kube/client.ts';
import {
  acceptedTokenTtl,
  callerFromReview,
  subjectAccessReviewAuthorizer,
  tokenExpiry,
  tokenReviewAuthenticator,
} from './auth.ts';

const jwt = (payload: object) =>
  ['{"alg":"RS256"}', JSON.stringify(payload), 'signature']
    .map((p, i) => (i < 2 ? Buffer.from(p).toString('base64url') : p))
    .join('.');

const user = { username: 'system:serviceaccount:shop:web', groups: ['system:serviceaccounts'] };

/** A fake apiserver answering TokenReviews with `answer(token, audiences)`, recording each review. */
function fakeClient(answer: (token: string, audiences: string[]) => object) {
  const reviews: { token: string; audiences: string[] }[] = [];
  const client = {
    rest: {
      request: async (req: { body: { spec: { token: string; audiences: string[] } } }) => {
        const { token, audiences } = req.body.spec;
        reviews.push({ token, audiences });
        return { status: answer(token, audiences) };
      },
    },
  } as unknown as KubeClient;
  return { client, reviews };
}

describe('API authentication', () => {
  it('asks the apiserver for the configured audience and refuses a status that does not name it', async () => {
    // An audience-aware apiserver: only tokens issued for "vaultsync" are valid for it.
    const issuedFor: Record<string, string> = {
      'sa-default': 'https://kubernetes.default.svc',
      'sa-ours': 'vaultsync',
    };
    const { client, reviews } = fakeClient((token, audiences) =>
      audiences.includes(issuedFor[token] ?? '')
        ? { authenticated: true, user, audiences: [issuedFor[token]] }
        : { authenticated: false, error: 'token audiences do not match' },
    );
    const auth = tokenReviewAuthenticator(client, { ttlMs: 10_000, audience: 'vaultsync' });
    assert.equal(await auth.authenticate('sa-default'), undefined);
    assert.equal((await auth.authenticate('sa-ours'))?.user, user.username);
    assert.deepEqual(
      reviews.map((r) => r.audiences),
      [['vaultsync'], ['vaultsync']],
    );
    // An authenticator that ignores audiences (no status.audiences) is not taken at its word.
    assert.equal(callerFromReview({ authenticated: true, user }, 'vaultsync'), undefined);
    assert.equal(
      callerFromReview({ authenticated: true, user, audiences: ['other'] }, 'vaultsync'),
      undefined,
    );
    assert.equal(
      callerFromReview({ authenticated: true, user, audiences: ['vaultsync'] }, 'vaultsync')?.user,
      user.username,
    );
  });

  it('reuses an answer within the TTL: one review per token, known() answers from the cache', async () => {
    const { client, reviews } = fakeClient(() => ({ authenticated: true, user, audiences: ['vaultsync'] }));
    const auth = tokenReviewAuthenticator(client, { ttlMs: 10_000, audience: 'vaultsync' });
    const token = jwt({ exp: Math.floor(Date.now() / 1000) + 3600 });
    assert.equal(auth.known(token), undefined, 'not known before it is reviewed');
    for (let i = 0; i < 5; i++) assert.ok(await auth.authenticate(token));
    assert.equal(reviews.length, 1);
    assert.equal(auth.known(token)?.user, user.username);
    // A bad token is cached too (as "invalid"), but never known.
    const bad = fakeClient(() => ({ authenticated: false }));
    const badAuth = tokenReviewAuthenticator(bad.client, { ttlMs: 10_000, audience: 'vaultsync' });
    for (let i = 0; i < 5; i++) assert.equal(await badAuth.authenticate('garbage'), undefined);
    assert.equal(bad.reviews.length, 1);
    assert.equal(badAuth.known('garbage'), undefined);
  });

  it('sends one review for a burst of calls that arrive before the first answer', async () => {
    const { client, reviews } = fakeClient(() => ({ authenticated: true, user, audiences: ['vaultsync'] }));
    const auth = tokenReviewAuthenticator(client, { ttlMs: 10_000, audience: 'vaultsync' });
    const token = jwt({ exp: Math.floor(Date.now() / 1000) + 3600 });
    const first = auth.authenticate(token);
    assert.ok(auth.underway?.(token), 'the review is under way for the calls that follow');
    const callers = await Promise.all([first, ...Array.from({ length: 9 }, () => auth.authenticate(token))]);
    assert.equal(reviews.length, 1);
    assert.ok(callers.every((c) => c?.user === user.username));
    assert.equal(auth.underway?.(token), undefined, 'forgotten once answered');

    let sars = 0;
    const sarClient = {
      rest: { request: async () => (sars++, { status: { allowed: true } }) },
    } as unknown as KubeClient;
    const authz = subjectAccessReviewAuthorizer(sarClient, 10_000);
    const access = { verb: 'get', resource: 'backends', subresource: 'secrets', namespace: 'shop' } as const;
    const caller = callers[0]!;
    const decisions = await Promise.all(Array.from({ length: 10 }, () => authz.authorize(caller, access)));
    assert.equal(sars, 1);
    assert.ok(decisions.every((d) => d.allowed));
  });

  it('never caches an accepted token past its exp', async () => {
    const now = Date.now();
    const { client, reviews } = fakeClient(() => ({ authenticated: true, user, audiences: ['vaultsync'] }));
    const auth = tokenReviewAuthenticator(client, { ttlMs: 10_000, audience: 'vaultsync', now: () => now });
    const expired = jwt({ exp: Math.floor(now / 1000) - 1 });
    await auth.authenticate(expired);
    await auth.authenticate(expired);
    assert.equal(reviews.length, 2, 'an expired token is reviewed every time (the apiserver decides)');
    assert.equal(auth.known(expired), undefined);

    assert.equal(acceptedTokenTtl(jwt({ exp: now / 1000 + 3 }), 10_000, now), 3000, 'cut at exp');
    assert.equal(acceptedTokenTtl(jwt({ exp: now / 1000 + 3600 }), 10_000, now), 10_000, 'the TTL');
    assert.equal(acceptedTokenTtl('opaque-static-token', 10_000, now), 10_000, 'no exp: the TTL');
  });

  it('reads exp from a JWT payload and nothing from anything else', () => {
    assert.equal(tokenExpiry(jwt({ exp: 1700000000 })), 1_700_000_000_000);
    for (const token of [
      'not-a-jwt',
      'a.b',
      'a.b.c.d',
      jwt({}),
      jwt({ exp: '1700000000' }),
      `x.${Buffer.from('not json').toString('base64url')}.y`,
      `x.${Buffer.from('null').toString('base64url')}.y`,
    ]) {
      assert.equal(tokenExpiry(token), undefined, token);
    }
  });
});
