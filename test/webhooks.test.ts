// Lifecycle webhooks end to end: the real operator (in this process) against the real apiserver
// and OpenBao, posting to a real HTTP receiver on 127.0.0.1 that checks the signature of every
// delivery. What users care about: each transition arrives once as signed JSON without values;
// a receiver that is down or hangs never slows reconciles; when it comes back on the same port,
// what was queued meanwhile arrives.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { SecretRotation, VaultCertificate, VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject, getObject, mergePatch } from '../src/kube/index.ts';
import { HEADERS, verifySignature } from '../src/webhooks/index.ts';
import type { LifecycleEvent } from '../src/webhooks/index.ts';
import { installCrds } from './support/crds.ts';
import { backendsYaml, ensureNamespace, startTestOperator, type TestOperator } from './support/operator.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { delay, eventually } from './support/wait.ts';

const ns = 'team-webhooks';
const API = 'vaultsync.io/v1alpha1';
const canary = `canary-${randomBytes(8).toString('hex')}-value`;
const signingKey = `whsec-${randomBytes(24).toString('hex')}`;
/** A token in the receiver's URL path, as real webhook URLs often carry one: never logged. */
const urlToken = `tok${randomBytes(12).toString('hex')}`;
/** VaultSecrets per timing phase. */
const N = 40;

interface Delivery {
  id: string;
  type: string;
  attempt: number;
  raw: string;
  event: LifecycleEvent;
  at: number;
}

/** The test's webhook receiver: verifies every request's signature and headers, records it. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  /** Requests whose signature, timestamp or headers did not check out (must stay 0). */
  readonly failures: string[] = [];
  requests = 0;
  port = 0;
  #server: http.Server | undefined;

  async start(port = 0): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests++;
        const raw = Buffer.concat(chunks);
        const header = (name: string) => req.headers[name.toLowerCase()] as string | undefined;
        const check = verifySignature({
          key: signingKey,
          body: raw,
          signature: header(HEADERS.signature),
          timestamp: header(HEADERS.timestamp),
        });
        let event: LifecycleEvent | undefined;
        try {
          event = JSON.parse(raw.toString('utf8')) as LifecycleEvent;
        } catch {
          // counted below
        }
        const problem = !check.ok
          ? `signature: ${check.reason}`
          : req.method !== 'POST' || req.url !== `/hooks/${urlToken}`
            ? `request line ${req.method} ${req.url}`
            : header('content-type') !== 'application/json'
              ? 'content-type'
              : !event || event.id !== header(HEADERS.eventId) || event.type !== header(HEADERS.event)
                ? 'id or type header differs from the body'
                : undefined;
        if (problem || !event) {
          this.failures.push(problem ?? 'no body');
          res.writeHead(400).end();
          return;
        }
        this.deliveries.push({
          id: event.id,
          type: event.type,
          attempt: Number(header(HEADERS.attempt)),
          raw: raw.toString('utf8'),
          event,
          at: Date.now(),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    this.#server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
  }

  of(type: string, name?: string): Delivery[] {
    return this.deliveries.filter((d) => d.type === type && (!name || d.event.resource.name === name));
  }
}

/** Accepts connections on a port and never answers: the worst receiver there is. */
async function blackHole(port: number): Promise<{ accepted: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    accepted: () => accepted,
    close: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

describe('Lifecycle webhooks against the real apiserver and OpenBao', function () {
  this.timeout(240_000);
  let bed: Testbed;
  let kc: KubeConfig;
  let client: KubeClient;
  let operator: TestOperator;
  let bao: ReturnType<typeof baoApi>;
  let keyDir: string;
  const receiver = new Receiver();
  /** Values that must never appear in a webhook body or a log line. */
  const forbidden = new Set<string>([canary, signingKey]);

  const kv = (path: string, data: Record<string, string>) => bao('POST', `secret/data/${path}`, { data });
  const get = <T extends VaultSecret | VaultCertificate | SecretRotation>(kind: T['kind'], name: string) =>
    getObject<T>(client, { apiVersion: API, kind, namespace: ns, name });
  const ready = async <T extends VaultSecret | VaultCertificate>(
    kind: T['kind'],
    name: string,
    status = 'True',
  ): Promise<T | undefined> => {
    const o = await get<T>(kind, name);
    const c = o?.status?.conditions?.find((x) => x.type === 'Ready');
    return c?.status === status && o?.status?.observedGeneration === o?.metadata?.generation ? o : undefined;
  };
  const createVaultSecret = (name: string, spec: VaultSecret['spec'], labels?: Record<string, string>) =>
    createObject<VaultSecret>(client, {
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name, namespace: ns, ...(labels && { labels }) },
      spec,
    });
  /** Waits until `fn` returns a non-empty list. */
  const delivered = (what: string, fn: () => Delivery[] | undefined, timeoutMs = 20_000) =>
    eventually(what, () => ((fn()?.length ?? 0) > 0 ? fn() : undefined), timeoutMs, 50);
  const metricsText = async () => (await fetch(`http://${operator.healthAddress}/metrics`)).text();
  const metric = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  /** Creates N VaultSecrets (memory backend) labelled `phase`; ms until all are Ready. */
  async function timeToReady(phase: string): Promise<number> {
    const started = Date.now();
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        createVaultSecret(
          `${phase}-${i}`,
          {
            backend: 'memory',
            data: [{ secretKey: 'greeting', remoteRef: { path: 'shared/dev', property: 'greeting' } }],
          },
          { phase },
        ),
      ),
    );
    await eventually(
      `${N} ${phase} VaultSecrets Ready`,
      async () => {
        const list = await client.rest.request<{ items: VaultSecret[] }>({
          method: 'GET',
          path: `/apis/${API}/namespaces/${ns}/vaultsecrets`,
          query: { labelSelector: `phase=${phase}` },
        });
        const n = list.items.filter((vs) =>
          vs.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        ).length;
        return n === N ? n : undefined;
      },
      60_000,
      50,
    );
    return Date.now() - started;
  }

  before(async function () {
    this.timeout(180_000);
    bed = await testbed();
    kc = bed.kubeConfig();
    client = createKubeClient(kc);
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await installCrds(kc);
    await ensureNamespace(kc, ns);
    await kv(`${ns}/db`, { password: canary, user: 'app' });
    keyDir = mkdtempSync(join(tmpdir(), 'vaultsync-webhook-key-'));
    writeFileSync(join(keyDir, 'signing-key'), `${signingKey}\n`, { mode: 0o600 });
    await receiver.start();
    operator = await startTestOperator(bed, {
      config: `${backendsYaml(bed)}
  - name: local-ca
    type: local-ca
    allowedNamespaces: ["team-*"]
webhooks:
  expiringWithin: 100s
  receivers:
    - name: test
      url: http://127.0.0.1:${receiver.port}/hooks/${urlToken}
      insecure: true
      signingKeyFile: ${join(keyDir, 'signing-key')}
      namespaces: ["${ns}"]
      timeout: 1s
      maxAttempts: 100
      retry: {initialDelay: 100ms, maxDelay: 1s}
`,
    });
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    console.log(`      receiver: ${receiver.requests} requests, failures: ${receiver.failures.join(', ')}`);
    for (const line of operator?.logs ?? [])
      if (/"message":"[^"]*[Ww]ebhook/.test(line)) console.log(line.trim().slice(0, 300));
  });

  after(async () => {
    await operator?.stop();
    await receiver.stop();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  it('sends synced, signed, naming the resource and the Secret but carrying no value', async () => {
    await createVaultSecret('db', {
      backend: 'vault',
      data: [{ secretKey: 'password', remoteRef: { path: `${ns}/db`, property: 'password' } }],
      target: { name: 'db-creds' },
    });
    const vs = await eventually('db Ready', () => ready('VaultSecret', 'db'));
    const [d] = await delivered('synced for db', () => receiver.of('synced', 'db'));
    assert.deepEqual(Object.keys(d!.event), [
      'id',
      'type',
      'time',
      'resource',
      'reason',
      'message',
      'details',
    ]);
    assert.deepEqual(d!.event.resource, {
      apiVersion: API,
      kind: 'VaultSecret',
      namespace: ns,
      name: 'db',
      uid: vs.metadata?.uid,
    });
    assert.equal(d!.event.reason, 'SecretCreated');
    assert.equal(d!.event.message, 'Created Secret db-creds');
    assert.deepEqual(d!.event.details, { secretName: 'db-creds' });
    assert.match(d!.id, /^[0-9a-f-]{36}$/);
    assert.ok(Math.abs(Date.parse(d!.event.time) - d!.at) < 10_000, 'time is when it happened');
    assert.equal(d!.attempt, 1);
  });

  it('sends sync_failed for a path that does not exist, and synced once it is fixed', async () => {
    await createVaultSecret('broken', {
      backend: 'vault',
      data: [{ secretKey: 'x', remoteRef: { path: `${ns}/not-there`, property: 'x' } }],
    });
    await eventually('broken Ready=False', () => ready('VaultSecret', 'broken', 'False'));
    const [failed] = await delivered('sync_failed for broken', () => receiver.of('sync_failed', 'broken'));
    assert.equal(failed!.event.reason, 'RemoteSecretNotFound');
    assert.match(failed!.event.message, /not-there/);
    assert.deepEqual(failed!.event.details, { secretName: 'broken' });

    await kv(`${ns}/there`, { x: 'fixed' });
    await mergePatch(
      client,
      { apiVersion: API, kind: 'VaultSecret', namespace: ns, name: 'broken' },
      { spec: { data: [{ secretKey: 'x', remoteRef: { path: `${ns}/there`, property: 'x' } }] } },
    );
    await eventually('broken Ready', () => ready('VaultSecret', 'broken'));
    const synced = await delivered('synced for broken', () => receiver.of('synced', 'broken'));
    assert.ok(synced.some((d) => d.event.reason === 'SecretCreated' || d.event.reason === 'Synced'));
    assert.ok(
      synced.every((d) => d.at >= failed!.at),
      'in order: the failure first',
    );
    assert.equal(
      receiver.of('sync_failed', 'broken').length,
      1,
      'one sync_failed per failure, not per retry',
    );
  });

  it('sends certificate_issued with serial, revision and notAfter from the local CA', async () => {
    await createObject<VaultCertificate>(client, {
      apiVersion: API,
      kind: 'VaultCertificate',
      metadata: { name: 'web', namespace: ns },
      spec: { issuer: { backend: 'local-ca' }, dnsNames: [`web.${ns}.svc`], secretName: 'web-tls' },
    });
    const vc = await eventually('web Ready', () => ready<VaultCertificate>('VaultCertificate', 'web'));
    const [d] = await delivered('certificate_issued for web', () => receiver.of('certificate_issued', 'web'));
    assert.equal(d!.event.reason, 'Issued');
    assert.deepEqual(d!.event.details, {
      secretName: 'web-tls',
      serialNumber: vc.status?.serialNumber,
      notAfter: new Date(Date.parse(vc.status!.notAfter!)).toISOString(),
      revision: 1,
    });
    assert.equal(
      receiver.of('certificate_expiring', 'web').length,
      0,
      'a 90-day certificate is not expiring',
    );
  });

  it('sends rotated with the new version (and the generated value nowhere)', async () => {
    await kv(`${ns}/rot`, { token: 'initial' });
    await createObject<SecretRotation>(client, {
      apiVersion: API,
      kind: 'SecretRotation',
      metadata: { name: 'rot', namespace: ns },
      spec: { backend: 'vault', path: `${ns}/rot`, interval: '720h', generate: { token: { type: 'uuid' } } },
    } as SecretRotation);
    await eventually('rot scheduled', async () =>
      (await get<SecretRotation>('SecretRotation', 'rot'))?.status?.conditions?.some(
        (c) => c.reason === 'Scheduled',
      )
        ? true
        : undefined,
    );
    await mergePatch(
      client,
      { apiVersion: API, kind: 'SecretRotation', namespace: ns, name: 'rot' },
      { metadata: { annotations: { 'vaultsync.io/rotate-now': 'now' } } },
    );
    const [d] = await delivered('rotated for rot', () => receiver.of('rotated', 'rot'), 30_000);
    assert.deepEqual(d!.event.details, { backend: 'vault', path: `${ns}/rot`, version: '2' });
    const read = (await bao('GET', `secret/data/${ns}/rot`)) as { data: { data: { token: string } } };
    assert.match(read.data.data.token, /^[0-9a-f-]{36}$/);
    forbidden.add(read.data.data.token);
  });

  it('does not slow reconciles while the receiver is down or hangs, and delivers the backlog when it is back', async () => {
    // Up: the baseline.
    const up = await timeToReady('up');
    await delivered(`synced for all ${N} up-*`, () =>
      new Set(
        receiver
          .of('synced')
          .filter((d) => d.event.resource.name.startsWith('up-'))
          .map((d) => d.event.resource.name),
      ).size === N
        ? receiver.deliveries
        : undefined,
    );

    // Down: the port refuses connections.
    const port = receiver.port;
    await receiver.stop();
    const before = receiver.deliveries.length;
    const down = await timeToReady('down');
    const depthDown = metric(await metricsText(), 'vaultsync_webhook_queue_depth{receiver="test"}');

    // Hung: something accepts connections on the port and never answers (each attempt times out).
    const hole = await blackHole(port);
    const hung = await timeToReady('hung');
    await delay(1500);
    const depthHung = metric(await metricsText(), 'vaultsync_webhook_queue_depth{receiver="test"}');
    const accepted = hole.accepted();
    await hole.close();
    assert.equal(receiver.deliveries.length, before, 'nothing arrived while the receiver was away');

    console.log(
      `      ${N} VaultSecrets to Ready: receiver up ${up} ms, down ${down} ms, hanging ${hung} ms; ` +
        `queue depth ${depthDown} (down), ${depthHung} (hanging); the black hole took ${accepted} connections`,
    );
    const allowed = up * 1.5 + 1500;
    assert.ok(down <= allowed, `down ${down} ms vs up ${up} ms`);
    assert.ok(hung <= allowed, `hanging ${hung} ms vs up ${up} ms`);
    assert.ok((depthDown ?? 0) >= N, `events queued while down (${depthDown})`);
    assert.ok((depthHung ?? 0) >= 2 * N, `events queued while hanging (${depthHung})`);
    assert.ok(accepted >= 1, 'attempts reached the hanging receiver');

    // Back, on the same port: the backlog arrives.
    const back = Date.now();
    await receiver.start(port);
    await delivered(
      `synced for all ${N} down-* and ${N} hung-*`,
      () => {
        const names = new Set(receiver.of('synced').map((d) => d.event.resource.name));
        const all = ['down', 'hung'].every((p) =>
          Array.from({ length: N }, (_, i) => `${p}-${i}`).every((n) => names.has(n)),
        );
        return all ? receiver.deliveries : undefined;
      },
      30_000,
    );
    const backlog = receiver.deliveries.slice(before);
    const retried = backlog.filter((d) => d.attempt > 1).length;
    console.log(
      `      backlog of ${backlog.length} events delivered within ${Date.now() - back} ms after the receiver came back ` +
        `(${retried} on a retry, highest attempt ${Math.max(...backlog.map((d) => d.attempt))})`,
    );
    assert.ok(retried >= 1, 'the head of the queue was retried until the receiver came back');

    const text = await metricsText();
    const series = (event: string, outcome: string) =>
      metric(
        text,
        `vaultsync_webhook_deliveries_total{receiver="test",event="${event}",outcome="${outcome}"}`,
      ) ?? 0;
    assert.ok(series('synced', 'delivered') >= 3 * N);
    assert.equal(series('synced', 'failed'), 0);
    assert.equal(series('synced', 'rejected'), 0);
    assert.equal(metric(text, 'vaultsync_webhook_events_dropped_total{receiver="test",event="synced"}'), 0);
    assert.ok(
      (metric(text, 'vaultsync_webhook_request_duration_seconds_count{receiver="test",result="error"}') ??
        0) > 0,
    );
    assert.ok(
      (metric(text, 'vaultsync_webhook_request_duration_seconds_count{receiver="test",result="timeout"}') ??
        0) > 0,
    );
    await eventually('queue empty', async () =>
      metric(await metricsText(), 'vaultsync_webhook_queue_depth{receiver="test"}') === 0 ? true : undefined,
    );
  });

  it('sends certificate_expiring when a short-lived certificate enters the window, then certificate_renewed', async () => {
    // 2 minutes (+30 s backdated) with renewal at 30% of the lifetime left: renewed about 45 s
    // before expiry; expiringWithin is 100 s, so certificate_expiring comes about 20 s after issuance.
    await createObject<VaultCertificate>(client, {
      apiVersion: API,
      kind: 'VaultCertificate',
      metadata: { name: 'short', namespace: ns },
      spec: {
        issuer: { backend: 'local-ca' },
        dnsNames: [`short.${ns}.svc`],
        secretName: 'short-tls',
        duration: '2m',
        renewBeforePercentage: 30,
      },
    });
    const first = await eventually('short Ready', () => ready<VaultCertificate>('VaultCertificate', 'short'));
    const [issued] = await delivered('certificate_issued for short', () =>
      receiver.of('certificate_issued', 'short'),
    );
    const notAfter = Date.parse(first.status!.notAfter!);
    const [expiring] = await delivered(
      'certificate_expiring for short',
      () => receiver.of('certificate_expiring', 'short'),
      60_000,
    );
    assert.equal(expiring!.event.reason, 'Expiring');
    assert.equal(expiring!.event.details.serialNumber, first.status?.serialNumber);
    assert.equal(Date.parse(expiring!.event.details.notAfter!), notAfter);
    const early = notAfter - 100_000 - Date.parse(expiring!.event.time);
    assert.ok(early <= 1000 && early > -5000, `sent when it entered the window (${-early} ms after)`);
    assert.ok(expiring!.at > issued!.at + 10_000, 'not at issuance: when it fell due');

    const [renewed] = await delivered(
      'certificate_renewed for short',
      () => receiver.of('certificate_renewed', 'short'),
      90_000,
    );
    assert.equal(renewed!.event.reason, 'Renewed');
    assert.notEqual(renewed!.event.details.serialNumber, first.status?.serialNumber);
    assert.equal(renewed!.event.details.revision, 2);
    assert.ok(Date.parse(renewed!.event.details.notAfter!) > notAfter);
    const ids = receiver.of('certificate_expiring', 'short').map((d) => d.id);
    assert.equal(
      ids.filter((id) => id === expiring!.id).length,
      1,
      'certificate_expiring once per certificate',
    );
    console.log(
      `      short-lived certificate: issued, expiring ${Math.round((expiring!.at - issued!.at) / 1000)} s later, ` +
        `renewed ${Math.round((renewed!.at - issued!.at) / 1000)} s after issuance`,
    );
  });

  it('verified every signature, delivered each event id once, and leaked no value, key or URL token', async () => {
    assert.ok(receiver.deliveries.length > 3 * N, `${receiver.deliveries.length} deliveries`);
    assert.deepEqual(receiver.failures, [], 'every request carried a valid signature and matching headers');
    const ids = receiver.deliveries.map((d) => d.id);
    assert.equal(
      new Set(ids).size,
      ids.length,
      'no event delivered twice (a retry only after a failed attempt)',
    );
    const counts: Record<string, number> = {};
    for (const d of receiver.deliveries) counts[d.type] = (counts[d.type] ?? 0) + 1;
    console.log(
      `      ${receiver.requests} requests, ${receiver.deliveries.length} deliveries: ${JSON.stringify(counts)}`,
    );

    const bodies = receiver.deliveries.map((d) => d.raw).join('\n');
    const logs = operator.logs.join('\n');
    assert.ok(operator.logs.length > 10, 'debug logs were captured');
    assert.match(logs, /Webhook delivery failed; retrying with backoff/, 'the outage was logged');
    for (const value of forbidden) {
      assert.equal(bodies.includes(value), false, 'a value or the key in a webhook body');
      assert.equal(logs.includes(value), false, 'a value or the key in the operator logs');
    }
    assert.equal(logs.includes(urlToken), false, 'the receiver URL (with its token) in the operator logs');
  });
});
