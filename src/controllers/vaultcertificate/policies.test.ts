import assert from 'node:assert/strict';
import { generatePrivateKey } from '../../pki/index.ts';
import { observeSecret } from './observed.ts';
import { ISSUANCE_POLICIES, type PolicyInput, renewNowToken, shouldIssue, stillUsable } from './policies.ts';
import { IssuingReason, type VaultCertificate, tokenDigest } from '../../apis/v1alpha1/index.ts';
import { renewalTime } from './renewal.ts';
import { desiredCertificate, requestHash } from './spec.ts';
import { type TestCa, certificate, issuedSecret, macKeys, testCa } from './testing.ts';
import type { V1Secret } from '@kubernetes/client-node';

const HOUR = 3_600_000;
const NOW = Date.UTC(2030, 0, 1);

describe('VaultCertificate: should a certificate be issued? (policy chain)', function () {
  this.timeout(20_000);
  let ca: TestCa;
  let base: VaultCertificate;
  let good: { secret: V1Secret; mac: string };

  const input = (
    vc: VaultCertificate,
    secret: V1Secret | undefined,
    over: Partial<PolicyInput> = {},
  ): PolicyInput => {
    const desired = desiredCertificate(vc);
    const observed = observeSecret(secret, macKeys);
    return {
      desired,
      requestHash: requestHash(desired),
      observed,
      expectedMac: good.mac,
      renewal: observed.cert ? renewalTime(observed.cert, desired.renewBefore) : undefined,
      now: NOW,
      ...over,
    };
  };
  const edit = (secret: V1Secret, fn: (s: V1Secret) => void): V1Secret => {
    const copy = structuredClone(secret);
    fn(copy);
    return copy;
  };

  before(async () => {
    ca = await testCa(NOW);
    base = certificate({ duration: '720h', renewBefore: '240h' });
    const { secret } = await issuedSecret(base, ca, { notBefore: NOW - HOUR, notAfter: NOW + 719 * HOUR });
    good = { secret, mac: observeSecret(secret, macKeys).mac! };
  });

  it('lists its checks in cert-manager order: existence, data, key pair, drift, issuer, spec, expiry', () => {
    assert.equal(ISSUANCE_POLICIES.length, 14);
  });

  const cases: {
    name: string;
    vc?: () => VaultCertificate;
    secret?: () => Promise<V1Secret | undefined> | V1Secret | undefined;
    over?: () => Partial<PolicyInput>;
    want: string | undefined;
  }[] = [
    { name: 'a good certificate needs nothing', want: undefined },
    { name: 'no Secret', secret: () => undefined, want: IssuingReason.DoesNotExist },
    {
      name: 'tls.key removed',
      secret: () => edit(good.secret, (s) => delete s.data!['tls.key']),
      want: IssuingReason.MissingData,
    },
    {
      name: 'tls.key is garbage',
      secret: () => edit(good.secret, (s) => (s.data!['tls.key'] = Buffer.from('nope').toString('base64'))),
      want: IssuingReason.InvalidKeyPair,
    },
    {
      name: 'tls.crt is garbage',
      secret: () => edit(good.secret, (s) => (s.data!['tls.crt'] = Buffer.from('nope').toString('base64'))),
      want: IssuingReason.InvalidCertificate,
    },
    {
      name: 'tls.key is another valid key',
      secret: async () => {
        const other = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
        return edit(
          good.secret,
          (s) => (s.data!['tls.key'] = Buffer.from(other.pem().reveal()).toString('base64')),
        );
      },
      want: IssuingReason.KeyMismatch,
    },
    {
      name: 'someone put another valid certificate and key in',
      secret: async () =>
        (await issuedSecret(base, ca, { notBefore: NOW - HOUR, notAfter: NOW + 700 * HOUR })).secret,
      want: IssuingReason.SecretEdited,
    },
    {
      name: 'a certificate vaultsync has no record of writing is never adopted (no status.certificateMAC)',
      secret: async () =>
        (await issuedSecret(base, ca, { notBefore: NOW - HOUR, notAfter: NOW + 700 * HOUR })).secret,
      over: () => ({ expectedMac: undefined }),
      want: IssuingReason.NotRecorded,
    },
    {
      name: 'the Secret’s issuer annotation is edited: the recorded issuer counts, nothing to issue',
      secret: () => edit(good.secret, (s) => (s.metadata!.annotations!['vaultsync.io/issuer'] = 'other-pki')),
      over: () => ({ recordedIssuer: 'ca' }),
      want: undefined,
    },
    {
      name: 'the spec and the annotation name another issuer than the recorded one',
      vc: () => certificate({ ...base.spec, issuer: { backend: 'other-pki' } }),
      secret: () => edit(good.secret, (s) => (s.metadata!.annotations!['vaultsync.io/issuer'] = 'other-pki')),
      over: () => ({ recordedIssuer: 'ca' }),
      want: IssuingReason.IncorrectIssuer,
    },
    {
      name: 'the spec names another issuer',
      vc: () => certificate({ ...base.spec, issuer: { backend: 'vault-pki', role: 'web' } }),
      want: IssuingReason.IncorrectIssuer,
    },
    {
      name: 'a DNS name was added to the spec',
      vc: () => certificate({ ...base.spec, dnsNames: ['api.shop.svc', 'api.shop.svc.cluster.local'] }),
      want: IssuingReason.SpecChanged,
    },
    {
      name: 'usages changed',
      vc: () => certificate({ ...base.spec, usages: ['digital signature', 'client auth'] }),
      want: IssuingReason.SpecChanged,
    },
    {
      name: 'the key algorithm changed',
      vc: () => certificate({ ...base.spec, privateKey: { algorithm: 'RSA', size: 2048 } }),
      want: IssuingReason.SpecChanged,
    },
    {
      name: 'duration, renewBefore, rotation policy, labels and outputs changed: nothing to issue',
      vc: () =>
        certificate({
          ...base.spec,
          duration: '1000h',
          renewBefore: '100h',
          privateKey: { rotationPolicy: 'Never' },
          secretTemplate: { labels: { team: 'shop' } },
          additionalOutputFormats: [{ type: 'CombinedPEM' }],
        }),
      want: undefined,
    },
    {
      name: 'the same names in another order and case',
      vc: () => certificate({ ...base.spec, dnsNames: ['API.shop.svc', 'api.shop.svc'] }),
      want: undefined,
    },
    {
      name: 'the certificate lacks a requested name though the request hash matches',
      secret: () =>
        edit(good.secret, (s) => {
          const vc = certificate({ ...base.spec, dnsNames: ['other.shop.svc'] });
          s.metadata!.annotations!['vaultsync.io/certificate-request'] = requestHash(desiredCertificate(vc));
        }),
      vc: () => certificate({ ...base.spec, dnsNames: ['other.shop.svc'] }),
      want: IssuingReason.NamesMismatch,
    },
    { name: 'expired', over: () => ({ now: NOW + 720 * HOUR }), want: IssuingReason.Expired },
    { name: 'past the renewal time', over: () => ({ now: NOW + 480 * HOUR }), want: IssuingReason.Renewing },
    {
      name: 'just before the jittered renewal window',
      over: () => ({ now: NOW + 450 * HOUR }),
      want: undefined,
    },
    {
      name: 'a renew-now value not answered yet',
      over: () => ({ renewNow: 'now' }),
      want: IssuingReason.ManuallyTriggered,
    },
  ];

  for (const c of cases) {
    it(`${c.want ?? 'nothing'}: ${c.name}`, async () => {
      const vc = c.vc?.() ?? base;
      const secret = c.secret ? await c.secret() : good.secret;
      const violation = shouldIssue(input(vc, secret, c.over?.()));
      assert.equal(violation?.reason, c.want, violation?.message);
    });
  }

  it('renew-now: a new annotation value is pending until status records its digest; the certificate stays usable', () => {
    const asked = certificate(base.spec, { annotations: { 'vaultsync.io/renew-now': 'go' } });
    assert.equal(renewNowToken(base), undefined);
    assert.equal(renewNowToken(asked), 'go');
    const answered = { ...asked, status: { renewNowHandled: tokenDigest('go') } };
    assert.equal(renewNowToken(answered), undefined);
    // Our own status write answers it while the cache still shows the older status.
    assert.equal(renewNowToken(asked, { renewNowHandled: tokenDigest('go') }), undefined);
    assert.equal(renewNowToken(asked, { renewNowHandled: tokenDigest('earlier') }), 'go');
    assert.equal(renewNowToken(asked, {}), 'go');
    assert.equal(stillUsable({ reason: IssuingReason.ManuallyTriggered, message: '' }), true);
  });
});
