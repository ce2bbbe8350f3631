import assert from 'node:assert/strict';
import { Sensitive } from '../secrets/sensitive.ts';
import type { AwsBackendConfig } from '../config/schema.ts';
import type { PodIdentity } from './identity.ts';
import {
  roleSessionName,
  takeWebIdentity,
  webIdentityProviders,
  webIdentityTokenProblem,
} from './web-identity.ts';

const ROLE = 'arn:aws:iam::123456789012:role/team-a-app';
const pod: PodIdentity = { namespace: 'team-a', serviceAccount: 'app', audiences: ['sts.amazonaws.com'] };
const jwt = (claims: object) =>
  ['e30', Buffer.from(JSON.stringify(claims)).toString('base64url'), 'c2ln'].join('.');
const claims = (over: object = {}) => ({
  aud: ['sts.amazonaws.com'],
  exp: 2_000_000_000,
  'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'app' } },
  ...over,
});
const aws = (auth: object, extra: object = {}) => ({
  name: 'aws',
  type: 'aws-secrets-manager',
  region: 'eu-west-1',
  auth,
  ...extra,
});

describe('sidecar AWS web identity', () => {
  it('takes auth.webIdentity out of the backend, defaults filled in', () => {
    const taken = takeWebIdentity([aws({ webIdentity: { roleArn: ROLE } }), { name: 'v', type: 'vault' }]);
    assert.deepEqual(taken.problems, []);
    assert.deepEqual(taken.backends, [aws({}), { name: 'v', type: 'vault' }]);
    assert.deepEqual(taken.byBackend.get('aws'), { roleArn: ROLE, audience: 'sts.amazonaws.com' });
  });

  it('names each wrong field, and web identity on another backend type', () => {
    const taken = takeWebIdentity([
      aws({ webIdentity: { roleArn: 'team-a-app', tokenFile: 'token', extra: 1 } }),
      { name: 'v', type: 'vault', auth: { webIdentity: { roleArn: ROLE } } },
      aws({ webIdentity: { roleArn: ROLE, stsEndpoint: 'http://127.0.0.1:5000' } }),
      aws(
        { webIdentity: { roleArn: ROLE, stsEndpoint: 'http://127.0.0.1:5000' } },
        { tls: { insecure: true } },
      ),
    ]);
    assert.deepEqual(
      taken.problems.map((p) => p.path),
      [
        'backends[0].auth.webIdentity.extra',
        'backends[0].auth.webIdentity.roleArn',
        'backends[0].auth.webIdentity.tokenFile',
        'backends[1].auth.webIdentity',
        'backends[2].auth.webIdentity.stsEndpoint',
      ],
    );
    assert.match(taken.problems[3]!.message, /only an aws-secrets-manager backend/);
    assert.equal(taken.byBackend.size, 1);
  });

  it("accepts only a live token of the pod's ServiceAccount for the STS audience", () => {
    const now = 1_900_000_000_000;
    const token = (over: object = {}): PodIdentity => ({
      ...pod,
      expiresAtMs: 2_000_000_000_000,
      ...over,
    });
    assert.equal(webIdentityTokenProblem(pod, token(), 'sts.amazonaws.com', now), undefined);
    assert.match(
      webIdentityTokenProblem(pod, token({ serviceAccount: 'other' }), 'sts.amazonaws.com', now)!,
      /team-a\/other's, not this pod's \(team-a\/app\)/,
    );
    assert.match(
      webIdentityTokenProblem(pod, token({ audiences: ['vault'] }), 'sts.amazonaws.com', now)!,
      /audience vault, not "sts.amazonaws.com".*auth.webIdentity.audience/,
    );
    assert.match(
      webIdentityTokenProblem(pod, token({ expiresAtMs: now }), 'sts.amazonaws.com', now)!,
      /expired at 2030-03-17T17:46:40.000Z/,
    );
  });

  it('names the session after the pod, within what STS allows', () => {
    assert.equal(roleSessionName(pod), 'vaultsync-sidecar.team-a.app');
    const long = roleSessionName({ ...pod, serviceAccount: 'a'.repeat(80) });
    assert.equal(long.length, 64);
    assert.match(long, /^[\w+=,.@-]+$/);
  });

  describe('webIdentityProviders', () => {
    const backend = {
      name: 'aws',
      type: 'aws-secrets-manager',
      region: 'eu-west-1',
      timeout: 5000,
      tls: { insecure: false },
    } as unknown as AwsBackendConfig;
    const byBackend = new Map([['aws', { roleArn: ROLE, audience: 'sts.amazonaws.com' }]]);
    const reader = (text: string) => async () => new Sensitive(text);

    it('reads the configured file, else the pod token, and gives a provider per backend', async () => {
      const read: string[] = [];
      const providers = await webIdentityProviders([backend], byBackend, '/pod/token', pod, async (path) => {
        read.push(path);
        return new Sensitive(jwt(claims()));
      });
      assert.deepEqual(read, ['/pod/token']);
      assert.equal(typeof providers.get('aws'), 'function');
      const other = new Map([['aws', { roleArn: ROLE, audience: 'x', tokenFile: '/irsa/token' }]]);
      await webIdentityProviders([backend], other, '/pod/token', pod, async (path) => {
        read.push(path);
        return new Sensitive(jwt(claims({ aud: 'x' })));
      });
      assert.equal(read.at(-1), '/irsa/token');
    });

    it('refuses garbage and expired tokens with the backend and file named, not the token', async () => {
      for (const [text, why] of [
        ['garbage-canary', /does not hold a JWT/],
        [jwt(claims({ exp: 1, secret: 'canary' })), /expired at 1970/],
      ] as const) {
        await assert.rejects(
          webIdentityProviders([backend], byBackend, '/pod/token', pod, reader(text)),
          (err: Error) =>
            /backend "aws": the web identity token \/pod\/token/.test(err.message) &&
            why.test(err.message) &&
            !err.message.includes('canary'),
        );
      }
    });
  });
});
