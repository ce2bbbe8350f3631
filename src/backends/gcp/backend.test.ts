import assert from 'node:assert/strict';
import type { GcpBackendConfig } from '../../config/schema.ts';
import { BackendError } from '../../resilience/errors.ts';
import { GcpSecretManagerBackend, type GcpSecretsClient } from './backend.ts';
import { crc32c } from './crc32c.ts';

const cfg = {
  name: 'gcp',
  project: 'p',
  tls: { insecure: false },
  auth: {},
  timeout: 10_000,
} as unknown as GcpBackendConfig;
const ctx = { namespace: 'team-a' };
const SECRET = 'projects/p/secrets/team-a--db';

type Calls = { method: string; req: Record<string, unknown> }[];

/** A client answering from a script: method → answer (the generated client's [response, ...] tuple). */
function client(
  answers: Partial<Record<keyof GcpSecretsClient, (req: Record<string, unknown>) => unknown[]>>,
) {
  const calls: Calls = [];
  const handler = {
    get(_: object, method: string) {
      if (method === 'then') return undefined; // not a thenable: it is handed over in a Promise
      if (method === 'close') return async () => {};
      return async (req: Record<string, unknown>) => {
        calls.push({ method, req });
        const answer = answers[method as keyof GcpSecretsClient];
        if (!answer) throw new Error(`unexpected ${method}`);
        return answer(req);
      };
    },
  };
  return { c: new Proxy({}, handler) as GcpSecretsClient, calls };
}

const isCode = (code: string) => (err: unknown) => err instanceof BackendError && err.code === code;

describe('GcpSecretManagerBackend: list, restore, delete (issue 17)', () => {
  it('lists one page with the filter, mapping IDs to paths and checking labels exactly', async () => {
    const { c, calls } = client({
      listSecrets: () => [
        [
          { name: `${SECRET}`, labels: { env: 'prod' } },
          { name: 'projects/p/secrets/team-a--api', labels: { env: 'production' } },
          { name: 'projects/p/secrets/team-a---odd', labels: { env: 'prod' } },
          { name: 'projects/p/secrets/xteam-a--db', labels: { env: 'prod' } },
        ],
        null,
        { nextPageToken: 'next-1' },
      ],
      getSecretVersion: (req) => [
        { name: String(req.name), state: String(req.name).includes('--db/') ? 'ENABLED' : 'DISABLED' },
      ],
    });
    const b = new GcpSecretManagerBackend(cfg, { operatorNamespace: 'v', client: c, listPageSize: 4 });
    const page = await b.list({ prefix: 'team-a/', tags: { env: 'prod' } }, 'tok', ctx);
    assert.deepEqual(page, { paths: ['team-a/db'], next: 'next-1' });
    assert.deepEqual(calls[0]?.req, {
      parent: 'projects/p',
      pageSize: 4,
      filter: 'name:"team-a--" AND labels.env="prod"',
      pageToken: 'tok',
    });
  });

  it('leaves out secrets whose latest version is not enabled (deleted here, or never written)', async () => {
    const { c, calls } = client({
      listSecrets: () => [
        [
          { name: SECRET },
          { name: 'projects/p/secrets/team-a--off' },
          { name: 'projects/p/secrets/team-a--new' },
        ],
        null,
        {},
      ],
      getSecretVersion: (req) => {
        if (String(req.name).includes('--new/'))
          throw Object.assign(new Error('x'), { code: 5, details: 'not found' });
        return [
          { name: String(req.name), state: String(req.name).includes('--off/') ? 'DISABLED' : 'ENABLED' },
        ];
      },
    });
    const b = new GcpSecretManagerBackend(cfg, { operatorNamespace: 'v', client: c });
    assert.deepEqual(await b.list({ prefix: 'team-a/' }, undefined, ctx), { paths: ['team-a/db'] });
    assert.deepEqual(
      calls.filter((x) => x.method === 'getSecretVersion').map((x) => x.req.name),
      [
        `${SECRET}/versions/latest`,
        'projects/p/secrets/team-a--new/versions/latest',
        'projects/p/secrets/team-a--off/versions/latest',
      ],
    );
  });

  it('restores by adding the chosen version payload byte for byte, after the cas check', async () => {
    const bytes = Buffer.from('{"port":5432}');
    const { c, calls } = client({
      accessSecretVersion: (req) => [
        { name: String(req.name), payload: { data: bytes, dataCrc32c: String(crc32c(bytes)) } },
      ],
      getSecretVersion: () => [{ name: `${SECRET}/versions/3` }],
      addSecretVersion: () => [{ name: `${SECRET}/versions/4` }],
    });
    const b = new GcpSecretManagerBackend(cfg, { operatorNamespace: 'v', client: c });
    assert.deepEqual(await b.restore({ path: 'team-a/db', version: '1', cas: '3' }, ctx), { version: '4' });
    const add = calls.find((x) => x.method === 'addSecretVersion')?.req as { payload: { data: Buffer } };
    assert.deepEqual(Buffer.from(add.payload.data), bytes);
    await assert.rejects(b.restore({ path: 'team-a/db', version: '1', cas: '2' }, ctx), isCode('Conflict'));
    assert.equal(calls.filter((x) => x.method === 'addSecretVersion').length, 1);
  });

  it('deletes by disabling every enabled version, newest first, across pages', async () => {
    const { c, calls } = client({
      listSecretVersions: (req) =>
        req.pageToken === undefined
          ? [
              [
                { name: `${SECRET}/versions/3`, state: 'DISABLED' },
                { name: `${SECRET}/versions/2`, state: 'ENABLED' },
              ],
              null,
              { nextPageToken: 'p2' },
            ]
          : [[{ name: `${SECRET}/versions/10`, state: 'ENABLED' }], null, { nextPageToken: '' }],
      disableSecretVersion: (req) => [{ name: String(req.name), state: 'DISABLED' }],
    });
    const b = new GcpSecretManagerBackend(cfg, { operatorNamespace: 'v', client: c });
    await b.delete({ path: 'team-a/db', scope: 'all' }, ctx);
    assert.deepEqual(
      calls.filter((x) => x.method === 'disableSecretVersion').map((x) => x.req.name),
      [`${SECRET}/versions/10`, `${SECRET}/versions/2`],
    );
    assert.equal(
      calls.some((x) => /delete|destroy/i.test(x.method)),
      false,
    );
  });

  it('answers NotFound when no version is enabled (already deleted)', async () => {
    const { c } = client({
      listSecretVersions: () => [[{ name: `${SECRET}/versions/1`, state: 'DISABLED' }], null, {}],
    });
    const b = new GcpSecretManagerBackend(cfg, { operatorNamespace: 'v', client: c });
    await assert.rejects(b.delete({ path: 'team-a/db', scope: 'latest' }, ctx), isCode('NotFound'));
  });
});
