// VaultCertificate renewal in real time: 3-minute certificates from OpenBao PKI with
// renewBeforePercentage 50 are renewed on time, twice, with a new serial each time (and a new
// key under rotationPolicy Always, the same key under Never), while the operator is restarted
// between the renewals. About three minutes: the certificates' own clock sets the pace.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { VaultCertificate } from '../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject, getObject } from '../src/kube/index.ts';
import { installCrds } from './support/crds.ts';
import { ensureNamespace, startTestOperator, type TestOperator } from './support/operator.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { delay, eventually } from './support/wait.ts';

const ns = 'team-renew';

interface Seen {
  serial: string;
  key: string;
  notBefore: number;
  notAfter: number;
  renewalTime: number;
  revision: number;
  secretVersion: string;
}

describe('VaultCertificate renewal against the real apiserver and OpenBao PKI', function () {
  this.timeout(240_000);
  let bed: Testbed;
  let kc: KubeConfig;
  let client: KubeClient;
  let operator: TestOperator;

  const start = () =>
    startTestOperator(bed, {
      config: `
backends:
  - name: vault-pki
    type: vault-pki
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ["${ns}"]
`,
    });

  async function seen(name: string): Promise<Seen | undefined> {
    const vc = await getObject<VaultCertificate>(client, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultCertificate',
      namespace: ns,
      name,
    });
    const secret = await getObject<V1Secret>(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: ns,
      name: `${name}-tls`,
    });
    const ready = vc?.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status !== 'True' || !secret?.data?.['tls.crt']) return undefined;
    const cert = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64'));
    const serial = cert.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, '');
    if (serial !== vc?.status?.serialNumber) return undefined; // status not caught up yet
    return {
      serial,
      key: Buffer.from(secret.data['tls.key'] ?? '', 'base64').toString(),
      notBefore: Date.parse(cert.validFrom),
      notAfter: Date.parse(cert.validTo),
      renewalTime: Date.parse(vc.status!.renewalTime!),
      revision: vc.status!.revision!,
      secretVersion: secret.metadata!.resourceVersion!,
    };
  }

  const renewed = (name: string, previous: Seen) =>
    eventually(
      `${name} renewed after ${previous.serial}`,
      async () => {
        const s = await seen(name);
        return s && s.serial !== previous.serial ? s : undefined;
      },
      150_000,
      250,
    );

  /** Renewed within a few seconds of the announced renewal time, well before expiry. */
  function onTime(previous: Seen, next: Seen, label: string) {
    // OpenBao dates a certificate 1 s back (the role's not_before_duration): notBefore ≈ issue time.
    const issuedAt = next.notBefore + 1000;
    assert.ok(
      issuedAt >= previous.renewalTime - 2000 && issuedAt <= previous.renewalTime + 6000,
      `${label}: issued at ${new Date(issuedAt).toISOString()}, renewal was due ${new Date(previous.renewalTime).toISOString()}`,
    );
    assert.ok(issuedAt < previous.notAfter - 60_000, `${label}: renewed at least a minute before expiry`);
    const lifetime = previous.notAfter - previous.notBefore;
    const due = previous.notAfter - lifetime / 2;
    assert.ok(
      previous.renewalTime <= due && previous.renewalTime >= due - 0.1 * (lifetime / 2) - 1000,
      `${label}: renewal time is 50% of the lifetime (minus at most 10% jitter)`,
    );
  }

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    kc = bed.kubeConfig();
    client = createKubeClient(kc);
    await installCrds(kc);
    await ensureNamespace(kc, ns);
    // Like role svc, but dating certificates back 1 s instead of 30 s, so that a 3-minute
    // certificate lives 3 minutes and its renewal time is easy to check.
    await baoApi({ addr: bed.baoAddr, token: bed.baoToken })('POST', 'pki/roles/short', {
      allowed_domains: ['svc.cluster.local'],
      allow_subdomains: true,
      max_ttl: '72h',
      key_type: 'any',
      not_before_duration: '1s',
    });
    operator = await start();
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const line of operator?.logs ?? []) {
      if (/certificate|Certificate|issuance/.test(line)) console.log(line.trim().slice(0, 400));
    }
  });

  after(async () => {
    await operator?.stop();
  });

  it('renews a 3-minute certificate at 50% twice, on time, with new serials, across an operator restart', async () => {
    for (const [name, rotationPolicy] of [
      ['always', 'Always'],
      ['never', 'Never'],
    ] as const) {
      await createObject<VaultCertificate>(client, {
        apiVersion: 'vaultsync.io/v1alpha1',
        kind: 'VaultCertificate',
        metadata: { name, namespace: ns },
        spec: {
          issuer: { backend: 'vault-pki', role: 'short' },
          dnsNames: [`${name}.${ns}.svc.cluster.local`],
          duration: '3m',
          renewBeforePercentage: 50,
          privateKey: { rotationPolicy },
          secretName: `${name}-tls`,
        },
      });
    }
    const first = {
      always: await eventually('always Ready', () => seen('always')),
      never: await eventually('never Ready', () => seen('never')),
    };
    for (const s of Object.values(first)) {
      assert.ok(Math.abs(s.notAfter - s.notBefore - 181_000) <= 1000, 'a 3-minute certificate');
      assert.equal(s.revision, 1);
    }

    // First renewal, by the operator that issued them.
    const second = {
      always: await renewed('always', first.always),
      never: await renewed('never', first.never),
    };
    onTime(first.always, second.always, 'always #1');
    onTime(first.never, second.never, 'never #1');
    assert.notEqual(second.always.key, first.always.key, 'Always: a new key');
    assert.equal(second.never.key, first.never.key, 'Never: the same key');
    assert.equal(second.always.revision, 2);

    // Restart: the new operator reissues nothing early and writes nothing.
    await operator.stop();
    operator = await start();
    await delay(3000);
    for (const name of ['always', 'never'] as const) {
      const now = await seen(name);
      assert.equal(now?.serial, second[name].serial, `${name}: nothing reissued on restart`);
      assert.equal(now?.secretVersion, second[name].secretVersion, `${name}: Secret untouched on restart`);
    }

    // Second renewal, by the new operator, from what the first one left in status and Secret.
    const third = {
      always: await renewed('always', second.always),
      never: await renewed('never', second.never),
    };
    onTime(second.always, third.always, 'always #2');
    onTime(second.never, third.never, 'never #2');
    assert.notEqual(third.always.key, second.always.key);
    assert.equal(third.never.key, first.never.key);
    assert.equal(third.always.revision, 3);
    assert.equal(third.never.revision, 3);
    const events = await client.rest.request<{
      items: { reason: string; involvedObject: { name: string } }[];
    }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/events`,
    });
    assert.ok(
      events.items.filter((e) => e.involvedObject.name === 'always' && e.reason === 'Renewed').length >= 2,
    );
  });
});
