import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { runBackendContract } from '../../test/backends/contract.ts';
import { FakeClock } from '../kube/fake-clock.ts';
import { BackendError } from '../resilience/errors.ts';
import { GuardedBackend } from './guard.ts';
import { mapKubeError, type KubeSecret, type SecretListPage, type SecretsApi } from './kube-client.ts';
import { KubernetesBackend } from './kubernetes.ts';
import { noopBackendMetrics } from '../resilience/metrics.ts';

/** Secrets in memory with resourceVersions and optimistic locking, like the API server. */
class FakeSecrets implements SecretsApi {
  readonly store = new Map<string, KubeSecret>();
  #rv = 100;
  async get(namespace: string, name: string) {
    return this.store.get(`${namespace}/${name}`);
  }
  async create(namespace: string, secret: KubeSecret) {
    const key = `${namespace}/${secret.metadata.name}`;
    if (this.store.has(key)) throw new BackendError('Conflict', 'conflict (HTTP 409)');
    const stored = {
      ...secret,
      metadata: { ...secret.metadata, namespace, resourceVersion: String(++this.#rv) },
    };
    this.store.set(key, stored);
    return stored;
  }
  /** A merge patch of data with a resourceVersion precondition, as the API server applies it. */
  async patchData(
    namespace: string,
    name: string,
    resourceVersion: string,
    data: Readonly<Record<string, string | null>>,
  ) {
    const key = `${namespace}/${name}`;
    const current = this.store.get(key);
    if (!current) throw new BackendError('NotFound', 'not found (HTTP 404)');
    if (current.metadata.resourceVersion !== resourceVersion) {
      throw new BackendError('Conflict', 'check-and-set failed (HTTP 409)');
    }
    const merged: Record<string, string> = { ...current.data };
    for (const [k, v] of Object.entries(data)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    const stored = {
      ...current,
      metadata: { ...current.metadata, resourceVersion: String(++this.#rv) },
      data: merged,
    };
    this.store.set(key, stored);
    return stored;
  }
  /** Pages of `limit` in name order; a label selector of `k=v` terms, as the API server applies it. */
  async list(namespace: string, page: SecretListPage) {
    this.lists.push(page);
    const terms = (page.labelSelector ?? '').split(',').filter((t) => t !== '');
    const all = [...this.store.values()]
      .filter((x) => x.metadata.namespace === namespace)
      .filter((x) => terms.every((t) => x.metadata.labels?.[t.split('=')[0] ?? ''] === t.split('=')[1]))
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    const from = Number(page.continue ?? '0');
    const items = all.slice(from, from + page.limit).map(({ data: _values, ...rest }) => rest);
    const next = from + page.limit < all.length ? String(from + page.limit) : undefined;
    return { items, ...(next === undefined ? {} : { continue: next }) };
  }
  async delete(namespace: string, name: string, resourceVersion: string) {
    const current = this.store.get(`${namespace}/${name}`);
    if (!current) throw new BackendError('NotFound', 'not found (HTTP 404)');
    if (current.metadata.resourceVersion !== resourceVersion) {
      throw new BackendError('Conflict', 'check-and-set failed (HTTP 409)');
    }
    this.store.delete(`${namespace}/${name}`);
  }
  readonly lists: SecretListPage[] = [];
  async ping() {}
}

const guard = {
  allowedNamespaces: ['team-*'],
  allowedPaths: ['**'],
  allowedWritePaths: ['c*'],
  rateLimit: { qps: 100, burst: 100_000, maxWait: 1000 }, // the FakeClock never refills the bucket
  circuitBreaker: { failureThreshold: 5, halfOpenAfter: 1000 },
  coalesce: { ttl: 0 },
  timeout: 5000,
};

runBackendContract('kubernetes (fake API server)', async () => {
  const secrets = new FakeSecrets();
  const adapter = new KubernetesBackend({ name: 'kube', namespace: 'source', secrets, pageSize: 2 });
  return {
    backend: new GuardedBackend(adapter, guard, { clock: new FakeClock(), metrics: noopBackendMetrics }),
    ctx: { namespace: 'team-a' },
    path: (name) => name,
    readOnlyPath: (name) => `readonly-${name}`,
    keepsOldVersions: false,
    listing: {
      pageSize: 2,
      listRequests: () => secrets.lists.length,
      tag: async (path, tags) => {
        const s = secrets.store.get(`source/${path}`);
        assert.ok(s);
        secrets.store.set(`source/${path}`, { ...s, metadata: { ...s.metadata, labels: { ...tags } } });
      },
    },
  };
});

describe('KubernetesBackend', () => {
  it('reads the Secret data of the source namespace', async () => {
    const secrets = new FakeSecrets();
    secrets.store.set('source/db', {
      metadata: { name: 'db', resourceVersion: '7' },
      data: { password: Buffer.from('pw').toString('base64') },
    });
    const backend = new KubernetesBackend({ name: 'kube', namespace: 'source', secrets });
    const secret = await backend.read({ path: 'db' }, { namespace: 'team-a' });
    assert.equal(secret.version, '7');
    assert.equal(secret.data.reveal().get('password')?.toString(), 'pw');
  });

  it('keeps labels, annotations and type of a Secret it writes, and removes the keys the new data leaves out', async () => {
    const secrets = new FakeSecrets();
    await secrets.create('source', {
      metadata: { name: 'db', labels: { a: 'b' }, annotations: { c: 'd' } },
      type: 'kubernetes.io/basic-auth',
      data: { old: Buffer.from('x').toString('base64') },
    });
    const backend = new KubernetesBackend({ name: 'kube', namespace: 'source', secrets });
    const data = new Map([['username', Buffer.from('u')]]);
    const { Sensitive } = await import('../secrets/sensitive.ts');
    await backend.write(
      { path: 'db', data: new Sensitive<ReadonlyMap<string, Buffer>>(data) },
      { namespace: 'team-a' },
    );
    const stored = secrets.store.get('source/db');
    assert.deepEqual(stored?.metadata.labels, { a: 'b' });
    assert.equal(stored?.type, 'kubernetes.io/basic-auth');
    assert.deepEqual(stored?.data, { username: Buffer.from('u').toString('base64') });
  });

  it('refuses to write a system Secret or one another vaultsync resource owns, and leaves it unchanged', async () => {
    const secrets = new FakeSecrets();
    await secrets.create('source', {
      metadata: { name: 'sa-token' },
      type: 'kubernetes.io/service-account-token',
      data: { token: 'dA==' },
    });
    await secrets.create('source', {
      metadata: { name: 'web-tls', labels: { 'vaultsync.io/vaultcertificate': 'web' } },
      type: 'Opaque',
      data: { note: 'bg==' },
    });
    const backend = new KubernetesBackend({ name: 'kube', namespace: 'source', secrets });
    const { Sensitive } = await import('../secrets/sensitive.ts');
    const data = new Sensitive<ReadonlyMap<string, Buffer>>(new Map([['k', Buffer.from('v')]]));
    for (const [path, why] of [
      ['sa-token', /has type kubernetes\.io\/service-account-token/],
      ['web-tls', /belongs to vaultcertificate web/],
    ] as const) {
      const before = JSON.stringify(secrets.store.get(`source/${path}`));
      await assert.rejects(backend.write({ path, data }, { namespace: 'team-a' }), (err: unknown) => {
        assert.ok(err instanceof BackendError);
        assert.equal(err.code, 'TenancyDenied');
        assert.match(err.message, why);
        return true;
      });
      assert.equal(JSON.stringify(secrets.store.get(`source/${path}`)), before);
    }
  });

  it("refuses the operator's own namespace as its source (its keys and configuration live there)", () => {
    assert.throws(
      () =>
        new KubernetesBackend({
          name: 'kube',
          namespace: 'vaultsync',
          operatorNamespace: 'vaultsync',
          secrets: new FakeSecrets(),
        }),
      /backend "kube" \(kubernetes\) may not read from the operator's own namespace "vaultsync"/,
    );
  });

  it('refuses a path that is not a Secret name', async () => {
    const backend = new KubernetesBackend({ name: 'kube', namespace: 'source', secrets: new FakeSecrets() });
    await assert.rejects(
      backend.read({ path: 'a/b' }, { namespace: 'x' }),
      (e: unknown) => e instanceof BackendError && e.code === 'InvalidRequest',
    );
  });
});

describe('KubernetesBackend list, delete and restore', () => {
  const ctx = { namespace: 'team-a' };
  async function seeded() {
    const secrets = new FakeSecrets();
    const put = (name: string, labels: Record<string, string>, type = 'Opaque') =>
      secrets.create('source', { metadata: { name, labels }, type, data: { k: 'dg==' } });
    await put('app-db', { team: 'a', tier: 'db' });
    await put('app-cache', { team: 'a' });
    await put('apple', { team: 'b' });
    await put('other', { team: 'a', tier: 'db' });
    await put('app-helm', { team: 'a' }, 'helm.sh/release.v1');
    await put('app-token', { team: 'a' }, 'kubernetes.io/service-account-token');
    return { secrets, backend: new KubernetesBackend({ name: 'kube', namespace: 'source', secrets }) };
  }
  const all = async (backend: KubernetesBackend, req: { prefix: string; tags?: Record<string, string> }) => {
    const found: string[] = [];
    let page: string | undefined;
    do {
      const answer = await backend.list(req, page, ctx);
      found.push(...answer.paths);
      page = answer.next;
    } while (page !== undefined);
    return found;
  };

  it('lists by name prefix, leaving out system Secrets', async () => {
    const { backend } = await seeded();
    assert.deepEqual(await all(backend, { prefix: 'app-' }), ['app-cache', 'app-db']);
    assert.deepEqual(await all(backend, { prefix: 'app' }), ['app-cache', 'app-db', 'apple']);
    assert.deepEqual(await all(backend, { prefix: '' }), ['app-cache', 'app-db', 'apple', 'other']);
  });

  it('turns tags into a label selector that every pair must match', async () => {
    const { backend, secrets } = await seeded();
    assert.deepEqual(await all(backend, { prefix: '', tags: { tier: 'db', team: 'a' } }), [
      'app-db',
      'other',
    ]);
    assert.equal(secrets.lists.at(-1)?.labelSelector, 'team=a,tier=db');
    assert.deepEqual(await all(backend, { prefix: 'app', tags: { team: 'b' } }), ['apple']);
  });

  it('refuses tags that are no labels, so a value cannot add selector terms', async () => {
    const { backend, secrets } = await seeded();
    const bad: Record<string, string>[] = [
      { team: 'a,tier!=db' },
      { 'team=a,x': 'y' },
      { team: 'a b' },
      { '': 'x' },
    ];
    for (const tags of bad) {
      await assert.rejects(
        backend.list({ prefix: '', tags }, undefined, ctx),
        (e: unknown) =>
          e instanceof BackendError && e.code === 'InvalidRequest' && /Kubernetes label/.test(e.message),
      );
    }
    assert.equal(secrets.lists.length, 0);
  });

  it('pages with the API server token', async () => {
    const { backend, secrets } = await seeded();
    for (let i = 0; i < 300; i++) {
      await secrets.create('source', {
        metadata: { name: `bulk-${String(i).padStart(3, '0')}` },
        type: 'Opaque',
      });
    }
    const found = await all(backend, { prefix: 'bulk-' });
    assert.equal(found.length, 300);
    assert.equal(new Set(found).size, 300);
    assert.ok(secrets.lists.length >= 2, `pages: ${secrets.lists.length}`);
    assert.equal(secrets.lists[1]?.continue, '250');
  });

  it('deletes the Secret as read; a missing one is NotFound; a system or owned one is refused', async () => {
    const { backend, secrets } = await seeded();
    await backend.delete({ path: 'app-db', scope: 'latest' }, ctx);
    assert.equal(secrets.store.has('source/app-db'), false);
    await assert.rejects(
      backend.read({ path: 'app-db' }, ctx),
      (e: unknown) => e instanceof BackendError && e.code === 'NotFound',
    );
    await assert.rejects(
      backend.delete({ path: 'app-db', scope: 'all' }, ctx),
      (e: unknown) => e instanceof BackendError && e.code === 'NotFound',
    );
    await secrets.create('source', {
      metadata: { name: 'owned', labels: { 'vaultsync.io/vaultsecret': 'web' } },
      type: 'Opaque',
    });
    for (const path of ['app-token', 'owned']) {
      await assert.rejects(
        backend.delete({ path, scope: 'all' }, ctx),
        (e: unknown) => e instanceof BackendError && e.code === 'TenancyDenied',
      );
      assert.ok(secrets.store.has(`source/${path}`), path);
    }
  });

  it('refuses a restore: a Secret keeps no earlier versions', async () => {
    const { backend } = await seeded();
    await assert.rejects(
      backend.restore({ path: 'app-db', version: '1' }),
      (e: unknown) =>
        e instanceof BackendError && e.code === 'InvalidRequest' && /nothing to restore/.test(e.message),
    );
  });
});

describe('mapKubeError', () => {
  const exception = (code: number, body: unknown, headers: Record<string, string> = {}) =>
    new ApiException(
      code,
      `HTTP-Code: ${code} Body: ${JSON.stringify(body)} Headers: {"authorization":"Bearer SECRET-JWT"}`,
      body,
      headers,
    );

  it('maps status codes and never keeps the exception message', () => {
    const cases: [number, string, boolean][] = [
      [401, 'Unauthenticated', false],
      [403, 'PermissionDenied', false],
      [404, 'NotFound', false],
      [409, 'Conflict', true],
      [422, 'InvalidRequest', false],
      [500, 'Unavailable', true],
      [503, 'Unavailable', true],
    ];
    for (const [status, code, transient] of cases) {
      const err = mapKubeError(
        exception(status, { message: 'secrets "db" is forbidden' }),
        'read Secret a/db',
      );
      assert.equal(err.code, code, String(status));
      assert.equal(err.transient, transient, String(status));
      assert.equal(JSON.stringify(err).includes('SECRET-JWT'), false);
    }
  });

  it('reads Retry-After of a 429', () => {
    const err = mapKubeError(exception(429, '', { 'retry-after': '4' }), 'read Secret a/db');
    assert.equal(err.code, 'Throttled');
    assert.equal(err.retryAfterMs, 4000);
  });

  it('maps network errors by code', () => {
    const err = mapKubeError(
      Object.assign(new Error('request to https://x failed, reason: connect ECONNREFUSED'), {
        code: 'ECONNREFUSED',
      }),
      'ping',
    );
    assert.equal(err.code, 'Unavailable');
    assert.equal(err.message, 'ping: connection refused');
  });
});
