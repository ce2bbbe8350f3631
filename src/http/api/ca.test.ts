// The API's shared CA and the serving certificates replicas sign from it. The Secret and
// ConfigMap calls go to a fake apiserver here (an in-memory object store that answers like the
// real one, AlreadyExists included); test/security/api.test.ts runs them for real.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { type Server, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubeClient } from '../../kube/client.ts';
import { KubeError } from '../../kube/errors.ts';
import { API_CA_NAME, createApiCa, loadOrCreateApiCa, parseApiCa, publishCaBundle } from './ca.ts';
import { signServingMaterial } from './tls.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');

interface Stored {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  data?: Record<string, string>;
}

/** An in-memory apiserver for Secrets and ConfigMaps: GET, POST (AlreadyExists), merge PATCH. */
function fakeApiserver() {
  const objects = new Map<string, Stored>();
  const calls: string[] = [];
  /** Runs before a POST is stored: lets a test put a competing object in first. */
  let beforeCreate: ((path: string) => void) | undefined;
  const client = {
    resolve: async (apiVersion: string, kind: string) => ({
      apiVersion,
      kind,
      plural: `${kind.toLowerCase()}s`,
      namespaced: true,
    }),
    rest: {
      request: async (req: { method: string; path: string; body?: Stored }) => {
        calls.push(`${req.method} ${req.path}`);
        if (req.method === 'GET') {
          const found = objects.get(req.path);
          if (!found) throw new KubeError({ code: 'NotFound', status: 404, message: 'NotFound' });
          return structuredClone(found);
        }
        if (req.method === 'POST') {
          const path = `${req.path}/${req.body!.metadata.name}`;
          beforeCreate?.(path);
          if (objects.has(path))
            throw new KubeError({ code: 'AlreadyExists', status: 409, message: 'exists' });
          objects.set(path, structuredClone(req.body!));
          return req.body;
        }
        if (req.method === 'PATCH') {
          const found = objects.get(req.path)!;
          found.data = { ...found.data, ...req.body!.data };
          return found;
        }
        throw new Error(`unexpected ${req.method}`);
      },
    },
  } as unknown as KubeClient;
  return {
    client,
    objects,
    calls,
    onCreate: (fn: (path: string) => void) => (beforeCreate = fn),
  };
}

const secretPath = `/api/v1/namespaces/ops/secrets/${API_CA_NAME}`;
const configMapPath = `/api/v1/namespaces/ops/configmaps/${API_CA_NAME}`;

describe('API CA', () => {
  it('is created once; a replica that loses the race to create it uses the winner’s', async () => {
    const api = fakeApiserver();
    const first = await loadOrCreateApiCa(api.client, 'ops');
    const again = await loadOrCreateApiCa(api.client, 'ops');
    assert.equal(again.certPem, first.certPem);

    // Another replica creates it between our GET and our POST.
    const race = fakeApiserver();
    const winner = await createApiCa('ops');
    race.onCreate((path) => {
      if (path === secretPath && !race.objects.has(path))
        race.objects.set(path, {
          metadata: { name: API_CA_NAME, namespace: 'ops' },
          data: { 'ca.crt': b64(winner.certPem), 'ca.key': b64(winner.keyPem) },
        });
    });
    const loser = await loadOrCreateApiCa(race.client, 'ops');
    assert.equal(loser.certPem.trim(), winner.certPem.trim());
  });

  it('is a CA for leaf certificates only (pathLen 0), and the Secret must hold one', async () => {
    const { certPem, keyPem } = await createApiCa('ops');
    const cert = new X509Certificate(certPem);
    assert.equal(cert.ca, true);
    assert.ok(cert.checkIssued(cert), 'self-signed');
    const parsed = parseApiCa({ 'ca.crt': b64(certPem), 'ca.key': b64(keyPem) }, 'ops/x');
    assert.equal(parsed.certPem.trim(), certPem.trim());

    const other = await createApiCa('ops');
    const leaf = await signServingMaterial(parsed, ['vaultsync']);
    for (const [data, reason] of [
      [undefined, /ca\.crt and ca\.key are required/],
      [{ 'ca.crt': b64(certPem) }, /ca\.crt and ca\.key are required/],
      [{ 'ca.crt': b64('junk'), 'ca.key': b64(keyPem) }, /ca\.crt is not a PEM certificate/],
      [{ 'ca.crt': b64(certPem), 'ca.key': b64('junk') }, /ca\.key is not a PEM private key/],
      [{ 'ca.crt': b64(certPem), 'ca.key': b64(other.keyPem) }, /the key does not belong to the certificate/],
      [
        {
          'ca.crt': b64(leaf.cert.split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----\n'),
          'ca.key': b64(leaf.key),
        },
        /not a CA certificate/,
      ],
    ] as const) {
      assert.throws(
        () => parseApiCa(data, 'ops/vaultsync-api-ca'),
        (err: Error) => {
          assert.match(err.message, reason);
          assert.match(err.message, /Secret ops\/vaultsync-api-ca .*delete it and restart/);
          assert.ok(!err.message.includes('PRIVATE KEY') && !err.message.includes(keyPem.slice(40, 80)));
          return true;
        },
      );
    }
    const expired = parseApiCa.bind(undefined, { 'ca.crt': b64(certPem), 'ca.key': b64(keyPem) }, 'ops/x');
    assert.throws(() => expired(Date.now() + 11 * 365 * 24 * 3600 * 1000), /expired/);
  });

  it('two replicas sign their own certificates that a client verifies with the one CA', async () => {
    const api = fakeApiserver();
    const ca = await loadOrCreateApiCa(api.client, 'ops');
    const names = ['vaultsync', 'vaultsync.ops.svc', 'localhost'];
    const [a, b] = await Promise.all([signServingMaterial(ca, names), signServingMaterial(ca, names)]);
    assert.notEqual(a.key, b.key, 'each replica has its own key');
    for (const m of [a, b]) {
      const leaf = new X509Certificate(m.cert);
      assert.equal(leaf.ca, false);
      assert.ok(leaf.checkIssued(new X509Certificate(ca.certPem)));
      assert.equal(leaf.checkHost('vaultsync.ops.svc'), 'vaultsync.ops.svc');
      assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
      assert.equal(leaf.checkHost('kubernetes.default.svc'), undefined);
      assert.match(leaf.keyUsage?.join(',') ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.1/, 'server auth');
      assert.ok(m.renewAt! < leaf.validToDate.getTime() && m.renewAt! > Date.now());
    }
    // A real TLS handshake per replica, verified against the CA alone (no -k).
    const servers: Server[] = [];
    try {
      for (const m of [a, b]) {
        const server = createServer({ cert: m.cert, key: m.key }, (_req, res) => res.end('ok'));
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        servers.push(server);
        const port = (server.address() as AddressInfo).port;
        for (const servername of ['localhost', undefined]) {
          const body = await new Promise<string>((resolve, reject) => {
            const req = request(
              { host: '127.0.0.1', port, ca: ca.certPem, ...(servername && { servername }) },
              (res) => {
                let text = '';
                res.on('data', (c: Buffer) => (text += c.toString()));
                res.on('end', () => resolve(text));
              },
            );
            req.on('error', reject);
            req.end();
          });
          assert.equal(body, 'ok');
        }
      }
    } finally {
      for (const s of servers) s.close();
    }
  });

  it('publishes the bundle in a ConfigMap, writing nothing when it already holds it', async () => {
    const api = fakeApiserver();
    const { certPem } = await createApiCa('ops');
    assert.equal(await publishCaBundle(api.client, 'ops', certPem), 'created');
    assert.equal(await publishCaBundle(api.client, 'ops', certPem), 'unchanged');
    assert.deepEqual(
      api.calls.filter((c) => !c.startsWith('GET')),
      [`POST /api/v1/namespaces/ops/configmaps`],
    );
    assert.equal(api.objects.get(configMapPath)?.data?.['ca.crt'], certPem);
    const next = (await createApiCa('ops')).certPem;
    assert.equal(await publishCaBundle(api.client, 'ops', next), 'updated');
    assert.equal(api.objects.get(configMapPath)?.data?.['ca.crt'], next);

    // Created by another replica in between: compared again, not failed.
    const race = fakeApiserver();
    race.onCreate((path) => {
      if (!race.objects.has(path))
        race.objects.set(path, {
          metadata: { name: API_CA_NAME, namespace: 'ops' },
          data: { 'ca.crt': certPem },
        });
    });
    assert.equal(await publishCaBundle(race.client, 'ops', certPem), 'unchanged');
  });
});
