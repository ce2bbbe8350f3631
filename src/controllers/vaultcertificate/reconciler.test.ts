import assert from 'node:assert/strict';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultCertificate, VaultCertificateSpec } from '../../apis/v1alpha1/index.ts';
import { BackendError } from '../../resilience/errors.ts';
import type { IssuedCertificate, Issuer, SignRequest } from '../../issuers/index.ts';
import { FakeClock } from '../../kube/fake-clock.ts';
import type { ReconcileContext } from '../../kube/controller.ts';
import type { KubeError } from '../../kube/errors.ts';
import { NotLeaderError } from '../../kube/fence.ts';
import { FakeRest, RecordingLogger, apiError } from '../../kube/testing.ts';
import type { RestRequest } from '../../kube/rest.ts';
import { RsaWorkerPool, certificateInfo, parseCertificate, parsePrivateKeyPem } from '../../pki/index.ts';
import { type LifecycleFact, eventTypeOf } from '../lifecycle.ts';
import { createVaultCertificateReconciler } from './reconciler.ts';
import { type TestCa, certificate, issuedSecret, macKeys, testCa } from './testing.ts';

const HOUR = 3_600_000;
const KEY = 'shop/api';

/** A tiny apiserver: Secrets (apply, get, delete) and the VaultCertificate (status, finalizers). */
class FakeCluster {
  vc: VaultCertificate;
  secrets = new Map<string, V1Secret>();
  rv = 10;
  /** When set, the Secret cache answers with this instead of the store (a cache that lags). */
  staleSecret: V1Secret | undefined | null = null;
  writes: string[] = [];
  rest: FakeRest;
  /** The apiserver's answer to a Secret write, while set (an admission policy, a quota, …). */
  refuseSecret: KubeError | undefined;
  /** The apiserver's answer to a status patch with this body, when it returns one. */
  refuseStatus: ((status: Record<string, unknown>) => KubeError | undefined) | undefined;

  constructor(vc: VaultCertificate) {
    this.vc = vc;
    this.rest = new FakeRest((req) => this.handle(req));
  }

  handle(req: RestRequest): unknown {
    const p = req.path;
    if (req.method === 'GET' && p === '/apis/vaultsync.io/v1alpha1') {
      return { resources: [{ name: 'vaultcertificates', kind: 'VaultCertificate', namespaced: true }] };
    }
    const secret = /^\/api\/v1\/namespaces\/shop\/secrets\/([^/]+)$/.exec(p);
    if (secret) {
      const name = secret[1]!;
      if (req.method === 'GET') {
        const s = this.secrets.get(name);
        if (!s) throw apiError(404, 'NotFound');
        return structuredClone(s);
      }
      if (req.method === 'PATCH') {
        const manager = String(req.query?.fieldManager);
        if (this.refuseSecret) {
          this.writes.push(`refused ${name}`);
          throw this.refuseSecret;
        }
        this.writes.push(
          manager === 'vaultsync-certificate' ? `apply ${name}` : `apply ${name} as ${manager}`,
        );
        const body = req.body as V1Secret;
        const before = this.secrets.get(name);
        // Server-side apply, as far as these tests need it: an apply without data gives up what
        // that manager owned (only ever the legacy manager here, whose fields are co-owned).
        const others = (before?.metadata?.managedFields ?? []).filter((m) => m.manager !== manager);
        const owns = body.data !== undefined;
        const stored: V1Secret = {
          ...structuredClone(before ?? {}),
          ...structuredClone(body),
          metadata: {
            ...structuredClone(before?.metadata ?? {}),
            ...structuredClone(body.metadata),
            resourceVersion: String(++this.rv),
            uid: `uid-${name}`,
            managedFields: [...others, ...(owns ? [{ manager, operation: 'Apply' }] : [])],
          },
        };
        if (!owns) stored.data = before?.data ?? {};
        this.secrets.set(name, stored);
        return structuredClone(stored);
      }
      if (req.method === 'DELETE') {
        this.writes.push(`delete ${name}`);
        this.secrets.delete(name);
        return {};
      }
    }
    if (p.endsWith('/vaultcertificates/api/status') && req.method === 'PATCH') {
      const refused = this.refuseStatus?.((req.body as { status: Record<string, unknown> }).status);
      if (refused) {
        this.writes.push('refused status');
        throw refused;
      }
      this.writes.push('status');
      const status = { ...this.vc.status } as Record<string, unknown>;
      for (const [k, v] of Object.entries((req.body as { status: Record<string, unknown> }).status)) {
        if (v === null) delete status[k];
        else status[k] = v;
      }
      this.vc = { ...this.vc, status: status as VaultCertificate['status'] };
      return this.vc;
    }
    if (p.endsWith('/vaultcertificates/api') && req.method === 'PATCH') {
      this.writes.push('finalizers');
      const fin = (req.body as { metadata: { finalizers: string[] | null } }).metadata.finalizers;
      this.vc = {
        ...this.vc,
        metadata: { ...this.vc.metadata, finalizers: fin ?? [], resourceVersion: String(++this.rv) },
      };
      return this.vc;
    }
    throw new Error(`unexpected ${req.method} ${p}`);
  }

  cachedSecret(): V1Secret | undefined {
    if (this.staleSecret !== null) return this.staleSecret;
    return this.secrets.get(this.vc.spec.secretName);
  }

  setSpec(spec: Partial<VaultCertificateSpec>) {
    this.vc = {
      ...this.vc,
      metadata: { ...this.vc.metadata, generation: (this.vc.metadata?.generation ?? 1) + 1 },
      spec: { ...this.vc.spec, ...spec },
    };
  }
}

class FakeIssuer implements Issuer {
  readonly name = 'ca';
  readonly type = 'local-ca' as const;
  readonly supportsRevocation = true;
  ca: TestCa;
  clock: FakeClock;
  signs: SignRequest[] = [];
  revoked: string[] = [];
  fail: BackendError | undefined;
  /** Lifetime granted, overriding the request. */
  grant: number | undefined;

  constructor(ca: TestCa, clock: FakeClock) {
    this.ca = ca;
    this.clock = clock;
  }

  async sign(req: SignRequest): Promise<IssuedCertificate> {
    this.signs.push(req);
    if (this.fail) throw this.fail;
    const now = this.clock.now();
    const pem = await this.ca.sign(
      req.csr,
      req,
      new Date(now - 30_000),
      new Date(now + (this.grant ?? req.durationMs ?? 2160 * HOUR)),
    );
    return {
      certificatePem: pem,
      chainPem: [],
      caPem: this.ca.pem,
      warnings: this.grant ? ['TTL capped'] : [],
    };
  }
  async issue(): Promise<IssuedCertificate> {
    throw new BackendError('InvalidRequest', 'not in this test');
  }
  async revoke(serial: string): Promise<void> {
    this.revoked.push(serial);
  }
  async check(): Promise<void> {}
  async close(): Promise<void> {}
}

describe('VaultCertificate reconciler (fake apiserver, in-process CA)', function () {
  this.timeout(30_000);
  let ca: TestCa;
  const rsa = new RsaWorkerPool({ size: 1, idleMs: 500 });
  after(() => rsa.close());
  before(async () => {
    ca = await testCa(Date.UTC(2030, 0, 1));
  });

  function setup(spec: Partial<VaultCertificateSpec> = {}) {
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    const restarts: {
      workloads: readonly { kind: string; name: string }[];
      secrets: Readonly<Record<string, string>>;
    }[] = [];
    const cluster = new FakeCluster(
      certificate({ duration: '720h', renewBefore: '240h', ...spec }, { resourceVersion: '1' }),
    );
    const issuer = new FakeIssuer(ca, clock);
    const events: string[] = [];
    const facts: LifecycleFact[] = [];
    const logger = new RecordingLogger();
    const ownWrites: string[] = [];
    const reconcile = createVaultCertificateReconciler({
      client: cluster.rest.client(),
      certificates: { get: (k) => (k === KEY ? cluster.vc : undefined) },
      secrets: {
        get: (k) => (k === `shop/${cluster.vc.spec.secretName}` ? cluster.cachedSecret() : undefined),
      },
      issuers: { get: (n) => (n === 'ca' ? issuer : undefined) },
      events: {
        normal: async (_o, reason, message) => void events.push(`Normal ${reason}: ${message}`),
        warning: async (_o, reason, message) => void events.push(`Warning ${reason}: ${message}`),
        // As controllerEvents records a fact: its Event, and the typed fact for the webhooks.
        fact: async (f) => {
          facts.push(f);
          events.push(`${eventTypeOf(f)} ${f.reason}: ${f.message}`);
        },
      },
      macKeys,
      clock,
      rsa,
      restarts: { requestRestart: (req) => void restarts.push(req) },
      ownWrites: { record: (key, rv) => void ownWrites.push(`${key}@${rv}`) },
    });
    const ctx = (): ReconcileContext => ({
      key: KEY,
      namespace: 'shop',
      name: 'api',
      reconcileId: 'r',
      retries: 0,
      signal: new AbortController().signal,
      log: logger,
    });
    const run = () => reconcile(KEY, ctx());
    const ready = () => cluster.vc.status?.conditions?.find((c) => c.type === 'Ready');
    const issuing = () => cluster.vc.status?.conditions?.find((c) => c.type === 'Issuing');
    const tls = () => {
      const s = cluster.secrets.get(cluster.vc.spec.secretName)!;
      const text = (k: string) => Buffer.from(s.data![k]!, 'base64').toString();
      return {
        secret: s,
        text,
        cert: certificateInfo(parseCertificate(text('tls.crt'))),
        key: text('tls.key'),
      };
    };
    return { clock, cluster, issuer, events, facts, logger, run, ready, issuing, tls, restarts, ownWrites };
  }

  it('issues the first certificate, stores a TLS Secret and reports Ready with the certificate facts', async () => {
    const t = setup();
    const result = await t.run();
    const { secret, cert, key, text } = t.tls();
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.deepEqual(Object.keys(secret.data!).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
    assert.equal(text('ca.crt').trim(), ca.pem.trim());
    assert.ok(parsePrivateKeyPem(key).spki().equals(cert.spki));
    assert.equal(secret.metadata?.labels?.['vaultsync.io/vaultcertificate'], 'api');
    const s = t.cluster.vc.status!;
    assert.equal(t.ready()?.status, 'True');
    assert.equal(t.ready()?.reason, 'Issued');
    assert.equal(t.issuing(), undefined);
    assert.equal(s.revision, 1);
    assert.equal(s.serialNumber, cert.serialNumber);
    assert.equal(s.notAfter, cert.notAfter.toISOString().replace('.000', ''));
    assert.equal(t.issuer.signs[0]?.durationMs, 720 * HOUR);
    assert.match(t.events.join('\n'), /^Normal Issued: Issued certificate [0-9a-f]+ \(revision 1\)/);
    // The webhooks get the facts typed, not parsed out of the message.
    assert.deepEqual(
      t.facts.map((f) =>
        f.type === 'CertificateIssued' ? { ...f, object: undefined, message: undefined } : f,
      ),
      [
        {
          type: 'CertificateIssued',
          object: undefined,
          reason: 'Issued',
          message: undefined,
          secretName: 'api-tls',
          serialNumber: cert.serialNumber,
          revision: 1,
          notAfter: cert.notAfter.toISOString(),
        },
      ],
    );
    const renewalAt = Date.parse(s.renewalTime!);
    assert.ok(renewalAt <= cert.notAfter.getTime() - 240 * HOUR);
    assert.ok(result && result.requeueAfter === 24 * HOUR, 'requeues at most a day ahead');
    assert.ok(!t.logger.text().includes('PRIVATE KEY'));
  });

  it('writes nothing and says nothing when run again (and after a restart: a fresh reconciler)', async () => {
    const t = setup();
    await t.run();
    const writes = t.cluster.writes.length;
    const events = t.events.length;
    await t.run();
    await t.run();
    assert.equal(t.cluster.writes.length, writes);
    assert.equal(t.events.length, events);
    assert.equal(t.issuer.signs.length, 1);
  });

  it('does not reissue when the Secret cache has not caught up with its own write', async () => {
    const t = setup();
    t.cluster.staleSecret = undefined; // the cache has not seen the Secret yet
    await t.run();
    await t.run(); // the status says what was written; the cache still lags
    assert.equal(t.issuer.signs.length, 1);
  });

  it('renews at the renewal time with a new serial and a new key (rotationPolicy Always)', async () => {
    const t = setup();
    await t.run();
    const first = t.tls();
    t.clock.advance(Date.parse(t.cluster.vc.status!.renewalTime!) - t.clock.now() + 1000);
    await t.run();
    const second = t.tls();
    assert.notEqual(second.cert.serialNumber, first.cert.serialNumber);
    assert.notEqual(second.key, first.key);
    assert.equal(t.cluster.vc.status?.revision, 2);
    assert.match(t.events.at(-1)!, /^Normal Renewed: Renewed certificate/);
  });

  it('keeps the key across renewals under rotationPolicy Never', async () => {
    const t = setup({ privateKey: { rotationPolicy: 'Never' } });
    await t.run();
    const first = t.tls();
    t.clock.advance(500 * HOUR);
    await t.run();
    const second = t.tls();
    assert.notEqual(second.cert.serialNumber, first.cert.serialNumber);
    assert.equal(second.key, first.key);
  });

  it('reissues for a spec change that matters, and only rewrites the Secret for one that does not', async () => {
    const t = setup();
    await t.run();
    const serial = t.tls().cert.serialNumber;
    t.cluster.setSpec({
      secretTemplate: { labels: { team: 'shop' } },
      additionalOutputFormats: [{ type: 'CombinedPEM' }, { type: 'DER' }],
    });
    await t.run();
    const after = t.tls();
    assert.equal(after.cert.serialNumber, serial);
    assert.equal(after.secret.metadata?.labels?.team, 'shop');
    assert.ok(after.text('tls-combined.pem').startsWith('-----BEGIN PRIVATE KEY-----'));
    assert.equal(
      after.secret.data!['key.der'],
      parsePrivateKeyPem(after.key).der().reveal().toString('base64'),
    );
    assert.match(t.events.at(-1)!, /^Normal SecretUpdated/);

    t.cluster.setSpec({ dnsNames: ['api.shop.svc', 'api.shop.svc.cluster.local'] });
    await t.run();
    assert.notEqual(t.tls().cert.serialNumber, serial);
    assert.deepEqual(t.tls().cert.dnsNames, ['api.shop.svc', 'api.shop.svc.cluster.local']);
    assert.match(t.events.at(-1)!, /^Normal Reissued: .* because names, subject/);
  });

  it('repairs an edited key and a deleted Secret by issuing again', async () => {
    const t = setup();
    await t.run();
    const s = t.cluster.secrets.get('api-tls')!;
    const other = t.tls();
    s.data!['tls.key'] = Buffer.from(other.key.replace('A', 'B')).toString('base64');
    s.metadata!.resourceVersion = String(++t.cluster.rv); // an edit, as the apiserver records it
    await t.run();
    assert.equal(t.issuer.signs.length, 2);
    t.cluster.secrets.delete('api-tls');
    await t.run();
    assert.equal(t.issuer.signs.length, 3);
    assert.equal(t.cluster.vc.status?.revision, 3);
  });

  it('reports a refused request as Ready=False with the backend reason and backs off without a hot loop', async () => {
    const t = setup();
    t.issuer.fail = new BackendError(
      'InvalidRequest',
      'vault sign with role "svc": common name evil.example.com not allowed by this role (HTTP 400)',
    );
    const r1 = await t.run();
    assert.equal(t.ready()?.status, 'False');
    assert.equal(t.ready()?.reason, 'InvalidRequest');
    assert.match(t.ready()?.message ?? '', /not allowed by this role/);
    assert.equal(t.issuing()?.status, 'True');
    assert.equal(t.issuing()?.reason, 'DoesNotExist');
    assert.equal(t.cluster.vc.status?.failedIssuanceAttempts, 1);
    assert.ok(r1 && r1.requeueAfter! >= 4500 && r1.requeueAfter! <= 5000);
    // Woken early (an event): no new attempt before the backoff ends.
    await t.run();
    assert.equal(t.issuer.signs.length, 1);
    t.clock.advance(5000);
    const r2 = await t.run();
    assert.equal(t.issuer.signs.length, 2);
    assert.equal(t.cluster.vc.status?.failedIssuanceAttempts, 2);
    assert.ok(r2 && r2.requeueAfter! >= 9000);
    assert.equal(t.events.filter((e) => e.startsWith('Warning')).length, 1, t.events.join('\n'));
    assert.deepEqual(
      t.facts.map((f) => [f.type, f.reason, f.type === 'CertificateFailed' ? f.secretName : undefined]),
      [['CertificateFailed', 'InvalidRequest', 'api-tls']],
    );
    // A spec change is tried at once, and success clears the failure record.
    t.issuer.fail = undefined;
    t.cluster.setSpec({ dnsNames: ['api.shop.svc'], commonName: 'api.shop.svc' });
    await t.run();
    assert.equal(t.ready()?.status, 'True');
    assert.equal(t.cluster.vc.status?.failedIssuanceAttempts, undefined);
    assert.equal(t.cluster.vc.status?.lastFailureTime, undefined);
  });

  it('keeps Ready=True while a renewal fails and the certificate is still valid', async () => {
    const t = setup();
    await t.run();
    t.issuer.fail = new BackendError('Unavailable', 'vault sign: connection refused');
    t.clock.advance(500 * HOUR);
    await t.run();
    assert.equal(t.ready()?.status, 'True');
    assert.match(t.ready()?.message ?? '', /renewal is failing \(BackendUnavailable\)/);
    assert.equal(t.issuing()?.reason, 'Renewing');
  });

  it('refuses a certificate shorter than spec.duration asked for (a capped TTL), with the backend warning', async () => {
    const t = setup({ duration: '100h', renewBefore: '10h' });
    t.issuer.grant = 72 * HOUR;
    await t.run();
    assert.equal(t.ready()?.reason, 'DurationNotGranted');
    assert.match(t.ready()?.message ?? '', /granted 72h instead of the requested 100h: TTL capped/);
    assert.equal(t.cluster.secrets.size, 0);
  });

  it('never takes over a Secret it did not write', async () => {
    const t = setup();
    t.cluster.secrets.set('api-tls', {
      metadata: { name: 'api-tls', namespace: 'shop', resourceVersion: '1' },
      data: {},
    });
    await t.run();
    assert.equal(t.ready()?.reason, 'SecretNotOwned');
    assert.equal(t.issuer.signs.length, 0);
  });

  it("reads a Secret the cache does not hold before signing: someone else's is not taken over, and nothing is signed", async () => {
    const t = setup();
    t.cluster.staleSecret = undefined; // the cache holds only Secrets labelled as ours
    t.cluster.secrets.set('api-tls', {
      metadata: { name: 'api-tls', namespace: 'shop', resourceVersion: '1' },
      data: { other: 'eA==' },
    });
    await t.run();
    assert.equal(t.ready()?.reason, 'SecretNotOwned');
    assert.equal(t.issuer.signs.length, 0);
    assert.deepEqual(t.cluster.writes, ['status']);
    assert.deepEqual(t.cluster.secrets.get('api-tls')?.data, { other: 'eA==' });
  });

  it('tells which Secret version it wrote, so the echo of its write wakes no second reconcile', async () => {
    const t = setup();
    await t.run();
    const rv = t.cluster.secrets.get('api-tls')?.metadata?.resourceVersion;
    assert.ok(rv);
    assert.deepEqual(t.ownWrites, [`shop/api-tls@${rv}`]);
  });

  it('issues with the key made while the missing Secret was read: the certificate is for the key written', async () => {
    const t = setup();
    t.cluster.staleSecret = undefined;
    await t.run();
    assert.equal(t.ready()?.reason, 'Issued');
    assert.equal(t.issuer.signs.length, 1);
    const secret = t.cluster.secrets.get('api-tls')!;
    const key = parsePrivateKeyPem(Buffer.from(secret.data!['tls.key']!, 'base64'));
    const cert = certificateInfo(Buffer.from(secret.data!['tls.crt']!, 'base64').toString('utf8'));
    assert.ok(key.spki().equals(cert.spki));
  });

  it('a label alone grants nothing: a Secret labelled as ours that vaultsync did not apply is not taken over', async () => {
    const t = setup();
    const labels = { 'app.kubernetes.io/managed-by': 'vaultsync', 'vaultsync.io/vaultcertificate': 'api' };
    t.cluster.secrets.set('api-tls', {
      metadata: { name: 'api-tls', namespace: 'shop', resourceVersion: '1', labels },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': 'eA==', 'tls.key': 'eA==' },
    });
    await t.run();
    assert.equal(t.ready()?.reason, 'SecretNotOwned');
    assert.match(t.ready()?.message ?? '', /a label alone grants no writing/);
    assert.equal(t.issuer.signs.length, 0);
    assert.deepEqual(t.cluster.writes, ['status']);
  });

  it('never deletes a Secret of its own with another type: reports it, and writes once it is gone', async () => {
    const t = setup();
    const labels = { 'app.kubernetes.io/managed-by': 'vaultsync', 'vaultsync.io/vaultcertificate': 'api' };
    t.cluster.secrets.set('api-tls', {
      metadata: {
        name: 'api-tls',
        namespace: 'shop',
        resourceVersion: '1',
        labels,
        managedFields: [{ manager: 'vaultsync-certificate', operation: 'Apply' }],
      },
      type: 'Opaque',
      data: { other: 'eA==' },
    });
    await t.run();
    assert.equal(t.ready()?.reason, 'SecretTypeMismatch');
    assert.match(t.ready()?.message ?? '', /api-tls has type Opaque.*delete the Secret/);
    assert.equal(t.issuer.signs.length, 0, 'nothing issued for a Secret that cannot hold it');
    assert.deepEqual(t.cluster.writes, ['status'], 'no delete, no apply');
    assert.match(t.events.at(-1)!, /^Warning SecretTypeMismatch/);
    t.cluster.secrets.delete('api-tls'); // a person deletes it
    await t.run();
    assert.equal(t.ready()?.reason, 'Issued');
    assert.equal(t.tls().secret.type, 'kubernetes.io/tls');
  });

  it('revokes the superseded certificate when asked to', async () => {
    const t = setup({ revokeSuperseded: true });
    await t.run();
    const first = t.tls().cert.serialNumber;
    t.clock.advance(500 * HOUR);
    await t.run();
    assert.deepEqual(t.issuer.revoked, [first]);
    assert.ok(t.events.some((e) => e.startsWith(`Normal Revoked: Revoked superseded certificate ${first}`)));
  });

  /** The Secret as a tenant edits it: another namespace's certificate and issuer in it. */
  async function plantForeignCertificate(t: ReturnType<typeof setup>): Promise<string> {
    const victim = certificate({ dnsNames: ['db.bank.svc'], secretName: 'db-tls' }, { namespace: 'bank' });
    const foreign = await issuedSecret(victim, ca, {
      notBefore: t.clock.now() - HOUR,
      notAfter: t.clock.now() + 700 * HOUR,
    });
    const s = t.cluster.secrets.get('api-tls')!;
    s.data!['tls.crt'] = Buffer.from(foreign.certPem).toString('base64');
    s.metadata!.annotations!['vaultsync.io/issuer'] = 'other-pki/bank';
    s.metadata!.resourceVersion = String(++t.cluster.rv);
    return certificateInfo(parseCertificate(foreign.certPem)).serialNumber;
  }

  it('revokes only what it recorded: another tenant’s certificate put in the Secret is replaced, never revoked', async () => {
    const t = setup({ revokeSuperseded: true, revokeOnDelete: true });
    await t.run();
    const first = t.tls().cert.serialNumber;
    assert.equal(t.cluster.vc.status?.serialNumber, first);
    assert.equal(t.cluster.vc.status?.issuer, 'ca');
    const foreign = await plantForeignCertificate(t);
    await t.run();
    const second = t.tls().cert.serialNumber;
    assert.notEqual(second, first);
    assert.equal(t.issuing(), undefined);
    assert.deepEqual(t.issuer.revoked, [first], 'the certificate it had written, taken from status');

    await plantForeignCertificate(t);
    t.cluster.vc = {
      ...t.cluster.vc,
      metadata: { ...t.cluster.vc.metadata, deletionTimestamp: new Date(t.clock.now()) },
    };
    await t.run();
    assert.deepEqual(t.issuer.revoked, [first, second]);
    assert.ok(!t.issuer.revoked.includes(foreign));
    assert.deepEqual(t.cluster.vc.metadata.finalizers, []);
  });

  it('adopts a status written before issuers were recorded: one status write, no Secret write, nothing issued', async () => {
    const t = setup({ revokeOnDelete: true });
    await t.run();
    const serial = t.tls().cert.serialNumber;
    const { issuer: _dropped, ...legacy } = t.cluster.vc.status!;
    t.cluster.vc = { ...t.cluster.vc, status: legacy };
    const writes = t.cluster.writes.length;
    const fresh = setup({ revokeOnDelete: true }); // another replica: no memory of the write
    fresh.cluster.vc = t.cluster.vc;
    fresh.cluster.secrets = t.cluster.secrets;
    fresh.cluster.rv = t.cluster.rv;
    await fresh.run();
    assert.deepEqual(fresh.cluster.writes, ['status']);
    assert.equal(fresh.cluster.vc.status?.issuer, 'ca');
    assert.equal(fresh.cluster.vc.status?.serialNumber, serial);
    await fresh.run();
    assert.deepEqual(fresh.cluster.writes, ['status'], 'written once');
    assert.equal(fresh.issuer.signs.length, 0);
    assert.equal(t.cluster.writes.length, writes);
  });

  it('does not revoke a certificate of an old status whose issuer it cannot tell, and says so', async () => {
    const t = setup({ revokeOnDelete: true });
    await t.run();
    const { issuer: _dropped, ...legacy } = t.cluster.vc.status!;
    await plantForeignCertificate(t);
    const fresh = setup({ revokeOnDelete: true });
    fresh.cluster.vc = {
      ...t.cluster.vc,
      status: legacy,
      metadata: { ...t.cluster.vc.metadata, deletionTimestamp: new Date(t.clock.now()) },
    };
    fresh.cluster.secrets = t.cluster.secrets;
    await fresh.run();
    assert.deepEqual(fresh.issuer.revoked, []);
    assert.match(
      fresh.events.join('\n'),
      /Warning RevocationFailed: Did not revoke certificate .* not recorded/,
    );
    assert.deepEqual(fresh.cluster.vc.metadata.finalizers, []);
  });

  it('re-issues a certificate it has no record of writing (status lost or never written)', async () => {
    const t = setup();
    await t.run();
    const serial = t.tls().cert.serialNumber;
    const fresh = setup();
    fresh.cluster.secrets = t.cluster.secrets;
    fresh.cluster.rv = t.cluster.rv;
    await fresh.run();
    assert.notEqual(fresh.tls().cert.serialNumber, serial);
    assert.match(fresh.events.join('\n'), /Reissued .* because vaultsync has no record of writing/);
  });

  it('after an upgrade, its next write hands the old shared field manager’s fields over (stale keys go)', async () => {
    const t = setup();
    await t.run();
    const s = t.cluster.secrets.get('api-tls')!;
    s.metadata!.managedFields = [{ manager: 'vaultsync', operation: 'Apply' }];
    t.cluster.writes = [];
    await t.run();
    assert.deepEqual(t.cluster.writes, [], 'an upgrade alone writes nothing');
    t.cluster.setSpec({ secretTemplate: { labels: { team: 'shop' } } });
    await t.run();
    assert.deepEqual(t.cluster.writes.slice(0, 2), ['apply api-tls', 'apply api-tls as vaultsync']);
    assert.deepEqual(
      t.cluster.secrets.get('api-tls')!.metadata?.managedFields?.map((m) => m.manager),
      ['vaultsync-certificate'],
    );
    t.cluster.writes = [];
    await t.run();
    assert.deepEqual(t.cluster.writes, []);
  });

  it('restarts rolloutRestartTargets (an Argo Rollout too) when a certificate is replaced, not for the first one', async () => {
    const t = setup({
      rolloutRestartTargets: [
        { kind: 'Deployment', name: 'api' },
        { kind: 'Rollout', name: 'web' },
      ],
    });
    await t.run();
    assert.equal(t.restarts.length, 0);
    t.clock.advance(500 * HOUR);
    await t.run();
    assert.equal(t.restarts.length, 1);
    assert.deepEqual(t.restarts[0]!.workloads, [
      { kind: 'Deployment', name: 'api' },
      { kind: 'Rollout', name: 'web' },
    ]);
    assert.match(t.restarts[0]!.secrets['api-tls'] ?? '', /^[A-Za-z0-9_-]{16}$/);
  });

  const warnings = (t: ReturnType<typeof setup>) => t.events.filter((e) => e.startsWith('Warning'));

  describe('failures that show (fake apiserver refusing writes)', () => {
    const refused = apiError(
      403,
      'Forbidden',
      'secrets "api-tls" is forbidden: ValidatingAdmissionPolicy \'no-tls\' denied request: not here',
    );

    it('a refused Secret write: Ready=False SecretWriteFailed, one event, slow retry, the same certificate written later (signed once)', async () => {
      const t = setup();
      t.cluster.refuseSecret = refused;
      const r1 = await t.run();
      assert.equal(t.ready()?.status, 'False');
      assert.equal(t.ready()?.reason, 'SecretWriteFailed');
      assert.match(
        t.ready()?.message ?? '',
        /refused the write of Secret api-tls: Forbidden \(HTTP 403\): .*denied request/,
      );
      assert.ok(r1 && r1.requeueAfter! >= 5 * 60_000, `user-error retry, got ${JSON.stringify(r1)}`);
      // Retries (timer and wake-ups) only write again: nothing is signed a second time.
      for (let i = 0; i < 3; i++) {
        t.clock.advance(5 * 60_000);
        await t.run();
      }
      assert.equal(t.issuer.signs.length, 1);
      assert.equal(t.cluster.writes.filter((w) => w === 'refused api-tls').length, 4);
      assert.deepEqual(warnings(t), [`Warning SecretWriteFailed: ${t.ready()?.message}`]);
      // The policy goes: the certificate signed the first time is what lands in the Secret.
      t.cluster.refuseSecret = undefined;
      t.clock.advance(5 * 60_000);
      await t.run();
      assert.equal(t.issuer.signs.length, 1);
      assert.equal(t.ready()?.status, 'True');
      assert.equal(t.cluster.vc.status?.serialNumber, t.tls().cert.serialNumber);
      assert.equal(t.cluster.vc.status?.revision, 1);
      assert.equal(t.cluster.vc.status?.failedIssuanceAttempts, undefined);
    });

    it('a refused Secret write of a renewal: Ready=False too (the Secret cannot be kept current), renewed once', async () => {
      const t = setup();
      await t.run();
      const serial = t.tls().cert.serialNumber;
      t.cluster.refuseSecret = refused;
      t.clock.advance(500 * HOUR);
      await t.run();
      assert.equal(t.ready()?.status, 'False');
      assert.equal(t.ready()?.reason, 'SecretWriteFailed');
      t.clock.advance(10 * 60_000);
      await t.run();
      assert.equal(t.issuer.signs.length, 2);
      t.cluster.refuseSecret = undefined;
      t.clock.advance(10 * 60_000);
      await t.run();
      assert.equal(t.issuer.signs.length, 2);
      assert.notEqual(t.tls().cert.serialNumber, serial);
      assert.equal(t.ready()?.reason, 'Issued');
    });

    it('a spec change drops the kept certificate (it no longer fits) and signs for the new spec', async () => {
      const t = setup();
      t.cluster.refuseSecret = refused;
      await t.run();
      t.cluster.refuseSecret = undefined;
      t.cluster.setSpec({ dnsNames: ['web.shop.svc'] });
      await t.run();
      assert.equal(t.issuer.signs.length, 2);
      assert.deepEqual(t.tls().cert.dnsNames, ['web.shop.svc']);
    });

    it('a refused status patch: the Ready condition alone is written, one event, nothing signed again', async () => {
      const t = setup();
      // An admission rule refusing any status that records a serial number.
      t.cluster.refuseStatus = (status) =>
        'serialNumber' in status ? apiError(422, 'Invalid', 'status.serialNumber: Invalid value') : undefined;
      await t.run();
      assert.equal(t.ready()?.status, 'False');
      assert.equal(t.ready()?.reason, 'SecretWriteFailed');
      assert.match(
        t.ready()?.message ?? '',
        /refused the write of the status of VaultCertificate api: Invalid \(HTTP 422\)/,
      );
      for (let i = 0; i < 3; i++) {
        t.clock.advance(10 * 60_000);
        await t.run();
      }
      assert.equal(t.issuer.signs.length, 1);
      assert.equal(warnings(t).length, 1, t.events.join('\n'));
    });

    it('a status the apiserver refuses outright: the event still says why, once', async () => {
      const t = setup();
      t.cluster.refuseSecret = refused;
      t.cluster.refuseStatus = () => apiError(403, 'Forbidden', 'status is forbidden');
      for (let i = 0; i < 3; i++) {
        await t.run();
        t.clock.advance(10 * 60_000);
      }
      assert.equal(t.issuer.signs.length, 1);
      assert.equal(warnings(t).length, 1, t.events.join('\n'));
      assert.match(
        warnings(t)[0]!,
        /^Warning SecretWriteFailed: the apiserver refused the write of Secret api-tls/,
      );
    });

    it('lost leadership (a fenced write) ends the reconcile: no condition, no event, not InternalError', async () => {
      const t = setup();
      t.cluster.refuseSecret = new NotLeaderError('not the leader') as unknown as KubeError;
      await assert.rejects(t.run(), /not the leader/);
      assert.equal(t.ready(), undefined);
      assert.deepEqual(warnings(t), []);
    });

    it('a refused Secret update (labels) of a current certificate: SecretWriteFailed, no issuance', async () => {
      const t = setup();
      await t.run();
      t.cluster.refuseSecret = refused;
      t.cluster.setSpec({ secretTemplate: { labels: { team: 'shop' } } });
      const r = await t.run();
      assert.equal(t.ready()?.reason, 'SecretWriteFailed');
      assert.ok(r && r.requeueAfter! >= 5 * 60_000);
      await t.run();
      assert.equal(t.issuer.signs.length, 1);
      assert.equal(warnings(t).length, 1);
    });
  });

  describe('re-validation (objects stored past the CRD rules)', () => {
    for (const [what, spec, field] of [
      ['renewBefore not shorter than duration', { duration: '1h', renewBefore: '2h' }, 'spec.renewBefore'],
      ['a duration parseDuration throws on', { duration: 'soon', renewBefore: undefined }, 'spec.duration'],
      ['no name at all', { dnsNames: [] }, 'spec: '],
    ] as const) {
      it(`${what}: Ready=False InvalidSpec, no throw, nothing issued, one event, no hot loop`, async () => {
        const t = setup(spec as Partial<VaultCertificateSpec>);
        const r = await t.run();
        assert.equal(t.ready()?.status, 'False');
        assert.equal(t.ready()?.reason, 'InvalidSpec');
        assert.ok(t.ready()?.message.includes(field), t.ready()?.message);
        assert.ok(r && r.requeueAfter! >= 5 * 60_000);
        const writes = t.cluster.writes.length;
        await t.run();
        await t.run();
        assert.equal(t.cluster.writes.length, writes);
        assert.equal(t.issuer.signs.length, 0);
        assert.equal(t.cluster.secrets.size, 0);
        assert.equal(warnings(t).length, 1);
        // Fixed: issued at once.
        t.cluster.setSpec({ duration: '720h', renewBefore: '240h', dnsNames: ['api.shop.svc'] });
        await t.run();
        assert.equal(t.ready()?.reason, 'Issued');
      });
    }
  });
});
