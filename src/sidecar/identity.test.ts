import assert from 'node:assert/strict';
import { Sensitive } from '../secrets/sensitive.ts';
import { audienceProblem, identityFromToken, projectedTokenSource } from './identity.ts';

const jwt = (claims: object) =>
  ['e30', Buffer.from(JSON.stringify(claims)).toString('base64url'), 'c2ln'].join('.');

const saClaims = {
  aud: ['vault'],
  'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'app', uid: 'u' }, pod: { name: 'p' } },
};

describe('sidecar identity', () => {
  it('takes namespace, ServiceAccount and audiences from a projected token', () => {
    assert.deepEqual(identityFromToken(jwt(saClaims)), {
      namespace: 'team-a',
      serviceAccount: 'app',
      audiences: ['vault'],
    });
    assert.deepEqual(identityFromToken(jwt({ ...saClaims, aud: 'one' })).audiences, ['one']);
  });

  it('refuses what is not a ServiceAccount token, without printing it', () => {
    assert.throws(() => identityFromToken('not-a-jwt'), /does not hold a JWT/);
    const other = jwt({ sub: 'someone', secret: 'canary-xyz' });
    assert.throws(
      () => identityFromToken(other),
      (err: Error) => /no kubernetes.io claims/.test(err.message) && !err.message.includes('canary'),
    );
  });

  it('names the audience that is missing', () => {
    const id = identityFromToken(jwt(saClaims));
    assert.equal(audienceProblem(id, 'vault'), undefined);
    assert.match(audienceProblem(id, 'openbao')!, /audience vault, not "openbao"/);
    assert.match(audienceProblem({ ...id, audiences: [] }, 'vault')!, /audience none/);
  });

  it('reads the token file again at every login (the kubelet rotates it)', async () => {
    let reads = 0;
    const source = projectedTokenSource('/t', async (path) => new Sensitive(`${path}#${++reads}`));
    assert.equal((await source.getServiceAccountToken('x', 'y', ['z'], 600)).reveal(), '/t#1');
    assert.equal((await source.getServiceAccountToken('x', 'y', ['z'], 600)).reveal(), '/t#2');
  });
});
