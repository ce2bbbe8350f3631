import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { VaultCertificate } from '../apis/v1alpha1/index.ts';
import { loadConfig } from '../config/load.ts';
import type { WebhooksConfig } from '../config/schema.ts';
import { systemClock } from '../kube/clock.ts';
import { FakeClock, settle } from '../kube/fake-clock.ts';
import type { LogFields, Logger } from '../kube/logger.ts';
import { Sensitive } from '../secrets/sensitive.ts';
import type { LifecycleEventInput } from './event.ts';
import { createWebhookNotifier } from './notifier.ts';
import { HEADERS, verifySignature } from './signature.ts';
import type { DeliveryRequest, DeliveryResponse } from './transport.ts';

async function webhooks(yaml: string): Promise<WebhooksConfig> {
  const config = await loadConfig(
    {
      text: `
backends:
  - {name: mem, type: memory, allowedNamespaces: ["*"], data: {}}
webhooks:
${yaml}`,
    },
    { env: {} },
  );
  return config.webhooks!;
}

const synced = (namespace = 'shop'): LifecycleEventInput => ({
  type: 'synced',
  resource: { apiVersion: 'vaultsync.io/v1alpha1', kind: 'VaultSecret', namespace, name: 'db', uid: 'u-1' },
  reason: 'SecretCreated',
  message: 'Created Secret db',
  details: { secretName: 'db' },
});

function recorder() {
  const got: Record<string, DeliveryRequest[]> = {};
  return {
    got,
    transport: (r: { name: string }) => (req: DeliveryRequest) => {
      (got[r.name] ??= []).push(req);
      return Promise.resolve<DeliveryResponse>({ status: 200 });
    },
  };
}

function memoryLogger() {
  const lines: string[] = [];
  const logger: Logger = {
    debug: (m: string, f?: LogFields) => void lines.push(JSON.stringify({ m, ...f })),
    info: (m: string, f?: LogFields) => void lines.push(JSON.stringify({ m, ...f })),
    warn: (m: string, f?: LogFields) => void lines.push(JSON.stringify({ m, ...f })),
    error: (m: string, f?: LogFields) => void lines.push(JSON.stringify({ m, ...f })),
    child: () => logger,
  };
  return { lines, logger };
}

/** Signing keys of the rotation test (each at least 32 bytes). */
const KEY_ONE = 'key-one-0123456789abcdef0123456789';
const KEY_TWO = 'key-two-0123456789abcdef0123456789';

const noFiles = async (): Promise<Sensitive<string>> => {
  throw new Error('no files here');
};

describe('webhook notifier', () => {
  it('sends each receiver the events and namespaces it asked for', async () => {
    const config = await webhooks(`
  receivers:
    - {name: all, url: "http://a.invalid/", insecure: true, signingKey: key-a-0123456789abcdef0123456789ab}
    - {name: certs, url: "http://b.invalid/", insecure: true, signingKey: key-b-0123456789abcdef0123456789ab, events: [certificate_failed, synced], namespaces: ["team-*"]}
`);
    const r = recorder();
    const n = await createWebhookNotifier(config, { readSecretFile: noFiles, transport: r.transport });
    n.notify(synced('shop'));
    n.notify(synced('team-a'));
    n.notify({ ...synced('team-a'), type: 'rotated' });
    await n.idle();
    assert.equal(r.got.all?.length, 3);
    assert.equal(r.got.certs?.length, 1);
    assert.equal(JSON.parse(r.got.certs![0]!.body).resource.namespace, 'team-a');
    for (const [name, key] of [
      ['all', 'key-a-0123456789abcdef0123456789ab'],
      ['certs', 'key-b-0123456789abcdef0123456789ab'],
    ] as const) {
      for (const req of r.got[name]!) {
        const v = verifySignature({
          key,
          body: req.body,
          signature: req.headers[HEADERS.signature],
          timestamp: req.headers[HEADERS.timestamp],
        });
        assert.equal(v.ok, true, `${name} signed with its own key`);
      }
    }
    await n.close();
  });

  it("turns a controller's lifecycle fact into the event it stands for, for the receivers that want it", async () => {
    const config = await webhooks(`
  receivers:
    - {name: certs, url: "http://b.invalid/", insecure: true, signingKey: key-b-0123456789abcdef0123456789ab, events: [certificate_renewed]}
`);
    const r = recorder();
    const n = await createWebhookNotifier(config, { readSecretFile: noFiles, transport: r.transport });
    const vc = {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultCertificate',
      metadata: { name: 'web', namespace: 'shop', uid: 'u-2' },
    } as VaultCertificate;
    const renewed = {
      type: 'CertificateIssued',
      object: vc,
      message: 'Renewed certificate 0a:1b',
      secretName: 'web-tls',
      serialNumber: '0A:1B',
      revision: 3,
      notAfter: '2030-01-01T00:00:00.000Z',
    } as const;
    n.onLifecycleFact({ ...renewed, reason: 'Issued' });
    n.onLifecycleFact({ ...renewed, reason: 'Renewed' });
    await n.idle();
    assert.equal(r.got.certs?.length, 1);
    const body = JSON.parse(r.got.certs![0]!.body);
    assert.equal(body.type, 'certificate_renewed');
    assert.deepEqual(body.resource, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultCertificate',
      namespace: 'shop',
      name: 'web',
      uid: 'u-2',
    });
    assert.deepEqual(body.details, {
      secretName: 'web-tls',
      serialNumber: '0a:1b',
      revision: 3,
      notAfter: '2030-01-01T00:00:00.000Z',
    });
    await n.close();
  });

  it('builds a body of names, times and reasons only, with one id shared by header and body', async () => {
    const config = await webhooks(`
  receivers: [{name: r, url: "http://a.invalid/", insecure: true, signingKey: k-0123456789abcdef0123456789abcdef}]`);
    const r = recorder();
    const clock = new FakeClock(Date.UTC(2030, 5, 1, 12));
    const n = await createWebhookNotifier(config, { readSecretFile: noFiles, transport: r.transport, clock });
    // Someone passes more than the contract allows: it does not reach the body.
    n.notify({
      ...synced(),
      details: { secretName: 'db', value: 'hunter2', data: { password: 'hunter2' } } as never,
      extra: 'hunter2',
    } as never);
    n.notify(synced());
    await n.idle();
    const [first, second] = r.got.r!;
    const body = JSON.parse(first!.body);
    assert.deepEqual(Object.keys(body), ['id', 'type', 'time', 'resource', 'reason', 'message', 'details']);
    assert.deepEqual(body, {
      id: body.id,
      type: 'synced',
      time: '2030-06-01T12:00:00.000Z',
      resource: {
        apiVersion: 'vaultsync.io/v1alpha1',
        kind: 'VaultSecret',
        namespace: 'shop',
        name: 'db',
        uid: 'u-1',
      },
      reason: 'SecretCreated',
      message: 'Created Secret db',
      details: { secretName: 'db' },
    });
    assert.doesNotMatch(first!.body, /hunter2/);
    assert.match(body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(first!.headers[HEADERS.eventId], body.id);
    assert.notEqual(JSON.parse(second!.body).id, body.id, 'every event has its own id');
    await n.close();
  });

  it('reads signingKeyFile at start and again later, so a rotated key is used without a restart', async () => {
    const config = await webhooks(`
  receivers: [{name: r, url: "http://a.invalid/", insecure: true, signingKeyFile: /keys/webhook}]`);
    let fileKey: string | Error = KEY_ONE;
    let reads = 0;
    const readSecretFile = async (path: string) => {
      assert.equal(path, '/keys/webhook');
      reads++;
      if (fileKey instanceof Error) throw fileKey;
      return new Sensitive(fileKey);
    };
    const clock = new FakeClock();
    const r = recorder();
    const { lines, logger } = memoryLogger();
    const n = await createWebhookNotifier(config, {
      readSecretFile,
      transport: r.transport,
      clock,
      keyRefreshMs: 60_000,
      logger,
    });
    assert.equal(reads, 1);
    const keyOf = (i: number) =>
      [KEY_ONE, KEY_TWO].find(
        (key) =>
          verifySignature({
            key,
            body: r.got.r![i]!.body,
            signature: r.got.r![i]!.headers[HEADERS.signature],
            timestamp: r.got.r![i]!.headers[HEADERS.timestamp],
            now: clock.now(),
          }).ok,
      );
    n.notify(synced());
    await n.idle();
    fileKey = KEY_TWO;
    await clock.advanceAsync(30_000);
    n.notify(synced());
    await n.idle();
    await clock.advanceAsync(30_000);
    n.notify(synced());
    await n.idle();
    fileKey = new Error('cannot read /keys/webhook: ENOENT');
    await clock.advanceAsync(60_000);
    n.notify(synced());
    await n.idle();
    assert.deepEqual([0, 1, 2, 3].map(keyOf), [KEY_ONE, KEY_ONE, KEY_TWO, KEY_TWO]);
    assert.equal(lines.filter((l) => l.includes('Cannot re-read the webhook signing key')).length, 1);
    assert.ok(!lines.some((l) => l.includes(KEY_ONE) || l.includes(KEY_TWO)), 'no key in the logs');
    await n.close();
  });

  it('refuses to start when a signing key file cannot be read, naming the receiver and file only', async () => {
    const config = await webhooks(`
  receivers: [{name: ops, url: "http://a.invalid/", insecure: true, signingKeyFile: /keys/missing}]`);
    await assert.rejects(
      createWebhookNotifier(config, {
        readSecretFile: async () => {
          throw new Error('cannot read /keys/missing: ENOENT');
        },
      }),
      /webhook receiver ops: cannot read signingKeyFile: cannot read \/keys\/missing: ENOENT/,
    );
  });

  it('takes https:// receivers; http:// only when the receiver says insecure: true', async () => {
    const key = 'k'.repeat(32);
    const https = await webhooks(
      `  receivers: [{name: ops, url: "https://hooks.example.com/", signingKey: ${key}}]`,
    );
    assert.equal(https.receivers[0]?.insecure, false);
    const dev = await webhooks(
      `  receivers: [{name: dev, url: "http://127.0.0.1:9/", insecure: true, signingKey: ${key}}]`,
    );
    assert.equal(dev.receivers[0]?.insecure, true);
    for (const receiver of [
      `{name: dev, url: "http://127.0.0.1:9/", signingKey: ${key}}`,
      `{name: dev, url: "http://127.0.0.1:9/", insecure: false, signingKey: ${key}}`,
    ]) {
      await assert.rejects(
        webhooks(`  receivers: [${receiver}]`),
        /webhooks\.receivers\[0\]\.url: must start with https:\/\/ \(or set insecure: true on this receiver to allow http:\/\/\)/,
      );
    }
  });

  it('refuses an inline signing key shorter than 32 characters, without echoing it', async () => {
    await assert.rejects(
      webhooks(`  receivers: [{name: ops, url: "https://h.example.com/", signingKey: short-inline-key}]`),
      (err: Error) =>
        /webhooks\.receivers\[0\]\.signingKey: must be at least 32 characters/.test(err.message) &&
        !err.message.includes('short-inline-key'),
    );
  });

  it('refuses a signing key file shorter than 32 bytes, naming the file and never the key', async () => {
    const config = await webhooks(`
  receivers: [{name: ops, url: "https://a.invalid/", signingKeyFile: /keys/short}]`);
    await assert.rejects(
      createWebhookNotifier(config, { readSecretFile: async () => new Sensitive('too-short-key') }),
      (err: Error) =>
        err.message ===
          'webhook receiver ops: cannot read signingKeyFile: /keys/short holds 13 bytes; a signing key needs at least 32 (a random key, e.g. openssl rand -hex 32)' &&
        !err.message.includes('too-short-key'),
    );
  });

  it('registers the delivery metrics with every series at 0, and counts', async () => {
    const config = await webhooks(`
  queueSize: 2
  receivers: [{name: r, url: "http://a.invalid/", insecure: true, signingKey: k-0123456789abcdef0123456789abcdef}]`);
    const registry = new Registry();
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const n = await createWebhookNotifier(config, {
      readSecretFile: noFiles,
      registry,
      transport: () => async () => {
        await gate;
        return { status: 200 };
      },
    });
    const before = await registry.metrics();
    assert.match(
      before,
      /vaultsync_webhook_deliveries_total\{receiver="r",event="certificate_expiring",outcome="failed"\} 0/,
    );
    assert.match(before, /vaultsync_webhook_events_dropped_total\{receiver="r",event="synced"\} 0/);
    assert.match(before, /vaultsync_webhook_queue_depth\{receiver="r"\} 0/);
    n.notify(synced());
    await settle(); // in flight
    for (let i = 0; i < 5; i++) n.notify(synced());
    const during = await registry.metrics();
    assert.match(during, /vaultsync_webhook_queue_depth\{receiver="r"\} 3/);
    assert.match(during, /vaultsync_webhook_events_dropped_total\{receiver="r",event="synced"\} 3/);
    release();
    await n.idle();
    const after = await registry.metrics();
    assert.match(
      after,
      /vaultsync_webhook_deliveries_total\{receiver="r",event="synced",outcome="delivered"\} 3/,
    );
    assert.match(after, /vaultsync_webhook_request_duration_seconds_count\{receiver="r",result="2xx"\} 3/);
    assert.match(after, /vaultsync_webhook_queue_depth\{receiver="r"\} 0/);
    await n.close();
  });

  it('with no receivers does nothing', async () => {
    const n = await createWebhookNotifier(await webhooks('  receivers: []'), {
      readSecretFile: noFiles,
      registry: new Registry(),
    });
    n.notify(synced());
    await n.idle();
    await n.close();
    const none = await createWebhookNotifier(undefined, { readSecretFile: noFiles });
    assert.deepEqual(none.receivers, []);
  });

  describe('over real HTTP (127.0.0.1)', () => {
    let server: http.Server;
    let url: string;
    const seen: { headers: http.IncomingHttpHeaders; body: string; ok: boolean }[] = [];
    let answer: (res: http.ServerResponse, n: number) => void = (res) => res.writeHead(204).end();

    before(async () => {
      server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          const ok = verifySignature({
            key: 'http-key-0123456789abcdef0123456789',
            body,
            signature: req.headers['vaultsync-signature'] as string | undefined,
            timestamp: req.headers['vaultsync-timestamp'] as string | undefined,
          }).ok;
          seen.push({ headers: req.headers, body: body.toString('utf8'), ok });
          answer(res, seen.length);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/vaultsync`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    beforeEach(() => {
      seen.length = 0;
    });

    it('POSTs JSON with verifiable signatures; a 500 is retried until a 200', async () => {
      const config = await webhooks(`
  receivers: [{name: r, url: "${url}", insecure: true, signingKey: http-key-0123456789abcdef0123456789, retry: {initialDelay: 20ms, maxDelay: 50ms}}]`);
      answer = (res, n) =>
        res.writeHead(n === 1 ? 500 : 200, { 'Content-Type': 'text/plain' }).end('x'.repeat(100));
      const n = await createWebhookNotifier(config, { readSecretFile: noFiles, clock: systemClock });
      n.notify(synced());
      await n.idle();
      assert.equal(seen.length, 2);
      assert.ok(
        seen.every((s) => s.ok),
        'every signature verifies over the raw bytes',
      );
      assert.equal(seen[0]!.headers['content-type'], 'application/json');
      assert.equal(seen[0]!.headers['vaultsync-event'], 'synced');
      assert.equal(seen[1]!.headers['vaultsync-delivery-attempt'], '2');
      assert.equal(seen[0]!.headers['vaultsync-event-id'], seen[1]!.headers['vaultsync-event-id']);
      assert.equal(seen[0]!.body, seen[1]!.body);
      await n.close();
    });

    it('gives up an attempt after the timeout when the receiver does not answer', async () => {
      const config = await webhooks(`
  receivers: [{name: r, url: "${url}", insecure: true, signingKey: http-key-0123456789abcdef0123456789, timeout: 200ms, maxAttempts: 2, retry: {initialDelay: 10ms}}]`);
      const held: http.ServerResponse[] = [];
      answer = (res) => void held.push(res); // never answers
      const registry = new Registry();
      const n = await createWebhookNotifier(config, { readSecretFile: noFiles, registry });
      const started = Date.now();
      n.notify(synced());
      await n.idle();
      const ms = Date.now() - started;
      assert.equal(seen.length, 2);
      assert.ok(ms >= 400 && ms < 2000, `two timed-out attempts took ${ms} ms`);
      const text = await registry.metrics();
      assert.match(
        text,
        /vaultsync_webhook_request_duration_seconds_count\{receiver="r",result="timeout"\} 2/,
      );
      assert.match(
        text,
        /vaultsync_webhook_deliveries_total\{receiver="r",event="synced",outcome="failed"\} 1/,
      );
      for (const res of held) res.destroy();
      await n.close();
    });
  });
  describe('over HTTPS with an extra CA (caFile)', () => {
    let server: https.Server;
    let url: string;
    let cert: string;
    let received = 0;

    before(async function () {
      // A self-signed certificate for 127.0.0.1, which is its own CA.
      const dir = mkdtempSync(join(tmpdir(), 'vaultsync-webhook-tls-'));
      try {
        execFileSync(
          'openssl',
          ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1']
            .concat(['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
            .concat(['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]),
          { stdio: 'ignore' },
        );
        cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
        const key = readFileSync(join(dir, 'key.pem'), 'utf8');
        server = https.createServer({ key, cert }, (req, res) => {
          req.resume();
          req.on('end', () => {
            received++;
            res.writeHead(200).end();
          });
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('trusts the receiver only with its CA', async () => {
      const registry = new Registry();
      const config = await webhooks(`
  receivers:
    - {name: trusted, url: "${url}", signingKey: k-0123456789abcdef0123456789abcdef, caFile: /etc/ca/webhook.pem}
    - {name: untrusted, url: "${url}", signingKey: k-0123456789abcdef0123456789abcdef, maxAttempts: 1}`);
      const n = await createWebhookNotifier(config, {
        readSecretFile: noFiles,
        registry,
        readFile: async (path) => {
          assert.equal(path, '/etc/ca/webhook.pem');
          return Buffer.from(cert);
        },
      });
      n.notify(synced());
      await n.idle();
      assert.equal(received, 1, 'only the receiver configured with the CA got through');
      const text = await registry.metrics();
      assert.match(text, /deliveries_total\{receiver="trusted",event="synced",outcome="delivered"\} 1/);
      assert.match(text, /deliveries_total\{receiver="untrusted",event="synced",outcome="failed"\} 1/);
      assert.match(text, /duration_seconds_count\{receiver="untrusted",result="error"\} 1/);
      await n.close();
    });

    it('refuses to start when caFile cannot be read', async () => {
      const config = await webhooks(`
  receivers: [{name: ops, url: "${url}", signingKey: k-0123456789abcdef0123456789abcdef, caFile: /etc/ca/missing.pem}]`);
      await assert.rejects(
        createWebhookNotifier(config, {
          readSecretFile: noFiles,
          readFile: async () => {
            throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
          },
        }),
        /webhook receiver ops: cannot read caFile \/etc\/ca\/missing.pem: ENOENT/,
      );
    });
  });
});
