import assert from 'node:assert/strict';
import { systemClock } from '../kube/clock.ts';
import { BackendError } from '../resilience/errors.ts';
import { noopBackendMetrics } from '../resilience/metrics.ts';
import { domainPatternProblem, ipRangeProblem, uriPatternProblem } from '../config/name-patterns.ts';
import type { CertificateRequestSpec } from '../pki/index.ts';
import { GuardedIssuer } from './guard.ts';
import { NamePolicy, type NamePolicyRules } from './name-policy.ts';
import type { IssuedCertificate, Issuer } from './types.ts';

/** The defaults of the config (src/config/schema.ts) for a local-ca issuer. */
const DEFAULTS: NamePolicyRules = {
  allowedDomains: ['**.{namespace}.svc', '**.{namespace}.svc.cluster.local'],
  allowedUriSans: ['spiffe://cluster.local/ns/{namespace}/**'],
  allowedIpRanges: [],
  allowCA: false,
};

const request = (over: Partial<CertificateRequestSpec> = {}): CertificateRequestSpec => ({
  dnsNames: [],
  ipAddresses: [],
  uris: [],
  emailAddresses: [],
  usages: ['digital signature', 'key encipherment', 'server auth'],
  isCA: false,
  ...over,
});

describe('issuer name policy: what an issuer certifies for a namespace', () => {
  const policy = new NamePolicy(DEFAULTS);

  it('by default allows the namespace’s own service domain, at any depth, and nothing else', () => {
    for (const name of [
      'api.team-a.svc',
      'api.team-a.svc.cluster.local',
      'web-0.web.team-a.svc.cluster.local',
      '*.team-a.svc',
      'API.Team-A.svc',
    ]) {
      assert.ok(policy.domainAllowed(name, 'team-a'), name);
    }
    for (const name of [
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
      'team-a.svc',
      'api.team-b.svc',
      'api.team-a.svc.evil.example',
      'localhost',
      'api.team-a.svc.',
      'api..team-a.svc',
      '',
    ]) {
      assert.ok(!policy.domainAllowed(name, 'team-a'), name);
    }
  });

  it('matches {namespace} as a whole label only: namespace "team" is not "team-a"', () => {
    assert.ok(!policy.domainAllowed('api.team-a.svc', 'team'));
    assert.ok(!policy.domainAllowed('api.team.svc', 'team-a'));
    assert.equal(
      domainPatternProblem('*.{namespace}-x.svc'),
      '"{namespace}" must be a whole label, e.g. "*.{namespace}.svc" (not "{namespace}-x")',
    );
    assert.equal(
      uriPatternProblem('spiffe://cluster.local/ns/{namespace}-*/**'),
      '"{namespace}" must be a whole segment, e.g. ".../ns/{namespace}/*" (not "{namespace}-x")',
    );
  });

  it('gives "*" exactly one label and "**" (first label only) one or more', () => {
    const p = new NamePolicy({ ...DEFAULTS, allowedDomains: ['*.{namespace}.example.com', 'localhost'] });
    assert.ok(p.domainAllowed('a.shop.example.com', 'shop'));
    assert.ok(!p.domainAllowed('a.b.shop.example.com', 'shop'));
    assert.ok(!p.domainAllowed('shop.example.com', 'shop'));
    assert.ok(p.domainAllowed('localhost', 'shop'));
    assert.ok(!p.domainAllowed('x.localhost', 'shop'));
    assert.equal(
      domainPatternProblem('a.**.svc'),
      '"**" may only be the first label, e.g. "**.{namespace}.svc"',
    );
    assert.equal(
      domainPatternProblem('web-*.svc'),
      '"*" must be a whole label, e.g. "*.{namespace}.svc" (not "web-*")',
    );
    assert.equal(domainPatternProblem('**'), undefined);
    assert.ok(new NamePolicy({ ...DEFAULTS, allowedDomains: ['**'] }).domainAllowed('any.thing', 'x'));
  });

  it('matches URI SANs by segment; wildcards never stand for dot segments, "%", "?" or "#"', () => {
    assert.ok(policy.uriAllowed('spiffe://cluster.local/ns/team-a/sa/api', 'team-a'));
    for (const uri of [
      'spiffe://cluster.local/ns/team-b/sa/api',
      'spiffe://cluster.local/ns/team-a',
      'spiffe://cluster.local/ns/team-a/',
      'spiffe://cluster.local/ns/team-a/../team-b/sa/api',
      'spiffe://cluster.local/ns/team-a/sa/%2e%2e',
      'spiffe://cluster.local/ns/team-a/sa/x?y',
      'spiffe://other.domain/ns/team-a/sa/api',
      'SPIFFE://cluster.local/ns/team-a/sa/api',
    ]) {
      assert.ok(!policy.uriAllowed(uri, 'team-a'), uri);
    }
    const one = new NamePolicy({ ...DEFAULTS, allowedUriSans: ['spiffe://*/ns/{namespace}/sa/*'] });
    assert.ok(one.uriAllowed('spiffe://td.example/ns/team-a/sa/api', 'team-a'));
    assert.ok(!one.uriAllowed('spiffe://td.example/ns/team-a/sa/api/x', 'team-a'));
    assert.equal(
      uriPatternProblem('spiffe://x/**/sa'),
      '"**" may only be the last segment, e.g. ".../ns/{namespace}/**"',
    );
    assert.match(uriPatternProblem('/ns/x') ?? '', /absolute URI pattern/);
  });

  it('matches IP SANs against CIDRs; none by default; IPv4-mapped IPv6 counts as IPv4', () => {
    assert.ok(!policy.ipAllowed('127.0.0.1'));
    const p = new NamePolicy({ ...DEFAULTS, allowedIpRanges: ['10.0.0.0/8', '127.0.0.1', 'fd00::/8'] });
    assert.ok(p.ipAllowed('10.1.2.3'));
    assert.ok(p.ipAllowed('127.0.0.1'));
    assert.ok(!p.ipAllowed('127.0.0.2'));
    assert.ok(p.ipAllowed('fd00::1'));
    assert.ok(p.ipAllowed('::ffff:10.0.0.1'));
    assert.ok(!p.ipAllowed('::ffff:192.168.0.1'));
    assert.ok(!p.ipAllowed('not-an-ip'));
    assert.equal(ipRangeProblem('10.0.0.0/33') !== undefined, true);
    assert.equal(ipRangeProblem('10.0.0.0/8'), undefined);
  });

  it('lists every refused name, the CA flag and CA-only usages, with the rule for this namespace', () => {
    const refused = policy.violations(
      request({
        commonName: 'kubernetes',
        dnsNames: ['api.team-a.svc', 'kubernetes.default.svc'],
        ipAddresses: ['10.96.0.1'],
        uris: ['spiffe://cluster.local/ns/kube-system/sa/admin'],
        emailAddresses: ['root@example.com'],
        usages: ['digital signature', 'cert sign'],
        isCA: true,
      }),
      'team-a',
    );
    const domains = 'allowedDomains: **.team-a.svc, **.team-a.svc.cluster.local';
    assert.deepEqual(refused, [
      `common name "kubernetes" (a host name or email inside ${domains})`,
      `DNS name "kubernetes.default.svc" (${domains})`,
      `email address "root@example.com" (${domains})`,
      'IP address "10.96.0.1" (allowedIpRanges: (none))',
      'URI "spiffe://cluster.local/ns/kube-system/sa/admin" (allowedUriSans: spiffe://cluster.local/ns/team-a/**)',
      'a CA certificate (isCA: true; allowCA: false)',
      'usage "cert sign" (only for a CA certificate)',
    ]);
    assert.deepEqual(
      policy.violations(request({ commonName: 'api.team-a.svc', dnsNames: ['api.team-a.svc'] }), 'team-a'),
      [],
    );
  });

  it('grants a CA and its usages only with allowCA; an issuer type without CAs says so', () => {
    const ca = request({ dnsNames: ['ca.team-a.svc'], isCA: true, usages: ['cert sign', 'crl sign'] });
    assert.deepEqual(new NamePolicy({ ...DEFAULTS, allowCA: true }).violations(ca, 'team-a'), []);
    assert.deepEqual(new NamePolicy({ ...DEFAULTS, allowCA: undefined }).violations(ca, 'team-a'), [
      'a CA certificate (isCA: true; this issuer type makes none)',
      'usage "cert sign" (only for a CA certificate)',
      'usage "crl sign" (only for a CA certificate)',
    ]);
  });

  it('matches in linear time: 200 patterns against a 253-character name of 127 labels, well under 50 ms', () => {
    const patterns = Array.from({ length: 200 }, (_, i) => `**.${'*.'.repeat(i % 60)}{namespace}.svc`);
    const p = new NamePolicy({ ...DEFAULTS, allowedDomains: patterns });
    const name = `${'a.'.repeat(126)}b`;
    const started = performance.now();
    for (let i = 0; i < 10; i++) assert.ok(!p.domainAllowed(name, 'team-a'));
    const uri = `spiffe://cluster.local/ns/team-a/${'x/'.repeat(500)}y`;
    assert.ok(policy.uriAllowed(uri, 'team-a'));
    const ms = (performance.now() - started) / 10;
    assert.ok(ms < 50, `${ms} ms per check`);
  });
});

describe('issuer guard: the name policy is checked before the issuer is called', () => {
  class Recording implements Issuer {
    readonly name = 'local-ca';
    readonly type = 'local-ca' as const;
    readonly supportsRevocation = false;
    calls = 0;
    async sign(): Promise<IssuedCertificate> {
      this.calls++;
      return { certificatePem: '', chainPem: [], caPem: '', warnings: [] };
    }
    async issue(): Promise<IssuedCertificate> {
      return this.sign();
    }
    async revoke(): Promise<void> {}
    async check(): Promise<void> {}
    async close(): Promise<void> {}
  }

  it('refuses sign and issue with TenancyDenied naming what was asked; allowed names pass', async () => {
    const inner = new Recording();
    const guarded = new GuardedIssuer(
      inner,
      { allowedNamespaces: ['team-*'], namePolicy: new NamePolicy(DEFAULTS) },
      { clock: systemClock, metrics: noopBackendMetrics },
    );
    const hostile = request({ dnsNames: ['kubernetes.default.svc'], isCA: true });
    for (const call of [
      () => guarded.sign({ ...hostile, csr: 'unused' }, { namespace: 'team-a' }),
      () => guarded.issue({ ...hostile, key: { algorithm: 'ECDSA', size: 256 } }, { namespace: 'team-a' }),
    ]) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof BackendError);
        assert.equal(err.code, 'TenancyDenied');
        assert.match(
          err.message,
          /^issuer "local-ca" does not certify for namespace "team-a": DNS name "kubernetes\.default\.svc"/,
        );
        assert.match(err.message, /a CA certificate \(isCA: true; allowCA: false\)/);
        return true;
      });
    }
    assert.equal(inner.calls, 0);
    await guarded.sign({ ...request({ dnsNames: ['api.team-a.svc'] }), csr: 'x' }, { namespace: 'team-a' });
    assert.equal(inner.calls, 1);
  });
});
