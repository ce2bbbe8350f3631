// A FAKE of Azure Key Vault's secrets REST API, written here: Lowkey Vault cannot be had on
// this machine (its lowkey-vault-app jar is not served by the Maven repository this machine
// reaches; only lowkey-vault-client is). It speaks HTTPS with a certificate from the bed's own
// CA, answers like Key Vault does where vaultsync relies on it — the bearer challenge (401 with
// WWW-Authenticate), 32-hex version IDs, case-insensitive names, SecretNotFound, disabled
// versions (403 SecretDisabled), soft-deleted names (409), 429 with Retry-After — and accepts
// any bearer token (as Lowkey Vault does). Listing is paged as Key Vault pages it: `maxresults`
// 1–25 (else 400), a `nextLink` back to the vault with an opaque `$skiptoken`, soft-deleted
// secrets left out, each item the current version's attributes and tags without the value.
// DELETE is a soft delete (the DeletedSecretBundle, then GET /deletedsecrets/{name}; POST
// /deletedsecrets/{name}/recover brings every version back); nothing is ever purged.
//
// Run: node azure-key-vault-fake.ts --port N --admin-port M --cert F --key F (127.0.0.1 only)
// Admin (HTTP, for tests): POST /throttle?count=N&retryAfter=S answers the next N
// authenticated calls with 429; GET /calls lists the calls seen.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { parseArgs } from 'node:util';

interface Version {
  id: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  enabled: boolean;
  created: number;
  updated: number;
}
interface StoredSecret {
  name: string;
  versions: Version[];
  deleted: boolean;
}

const NAME = /^[0-9a-zA-Z-]{1,127}$/;
const MAX_VALUE = 25 * 1024;
const secrets = new Map<string, StoredSecret>();
const calls: { at: number; method: string; path: string; throttled: boolean }[] = [];
let throttle = { count: 0, retryAfter: 1 };

function send(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

const error = (res: ServerResponse, status: number, code: string, message: string, inner?: string) =>
  send(res, status, { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } });

function bundle(base: string, s: StoredSecret, v: Version) {
  return {
    value: v.value,
    id: `${base}/secrets/${s.name}/${v.id}`,
    ...(v.contentType ? { contentType: v.contentType } : {}),
    ...(v.tags ? { tags: v.tags } : {}),
    attributes: {
      enabled: v.enabled,
      created: v.created,
      updated: v.updated,
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: 90,
    },
  };
}

function item(base: string, s: StoredSecret, v: Version, withVersion: boolean) {
  const { value: _value, id, ...rest } = bundle(base, s, v);
  return { id: withVersion ? id : `${base}/secrets/${s.name}`, ...rest };
}

/** DeletedSecretBundle: the current version's bundle without its value, with recovery data. */
function deletedBundle(base: string, s: StoredSecret) {
  const { value: _value, ...rest } = bundle(base, s, s.versions.at(-1) as Version);
  const at = Math.floor(Date.now() / 1000);
  return {
    ...rest,
    recoveryId: `${base}/deletedsecrets/${s.name}`,
    deletedDate: at,
    scheduledPurgeDate: at + 90 * 86_400,
  };
}

/** GET /secrets: one page of the live secrets, sorted by name, `maxresults` 1–25. */
function listPage(res: ServerResponse, base: string, url: URL): void {
  const raw = url.searchParams.get('maxresults');
  const max = raw === null ? 25 : Number(raw);
  if (!Number.isInteger(max) || max < 1 || max > 25) {
    return error(res, 400, 'BadParameter', 'Invalid value for maxresults: it must be between 1 and 25.');
  }
  const skip = url.searchParams.get('$skiptoken');
  const start = skip === null ? 0 : Number(Buffer.from(skip, 'base64url').toString('utf8'));
  if (!Number.isInteger(start) || start < 0) return error(res, 400, 'BadParameter', 'Invalid skip token.');
  const live = [...secrets.values()]
    .filter((s) => !s.deleted && s.versions.length > 0)
    .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
  const page = live
    .slice(start, start + max)
    .map((s) => item(base, s, s.versions[s.versions.length - 1] as Version, false));
  const end = start + max;
  const token = Buffer.from(String(end)).toString('base64url');
  const nextLink =
    end < live.length ? `${base}/secrets?api-version=7.6&$skiptoken=${token}&maxresults=${max}` : null;
  send(res, 200, { value: page, nextLink });
}

/** /deletedsecrets/{name}[/recover]: read a soft-deleted secret, or recover it. */
function deletedSecrets(res: ServerResponse, base: string, method: string, parts: string[]): void {
  const stored = secrets.get((parts[1] ?? '').toLowerCase());
  if (!stored?.deleted) {
    return error(res, 404, 'SecretNotFound', `Deleted Secret not found: ${(parts[1] ?? '').slice(0, 130)}`);
  }
  if (method === 'GET' && parts.length === 2) return send(res, 200, deletedBundle(base, stored));
  if (method === 'POST' && parts[2] === 'recover' && parts.length === 3) {
    stored.deleted = false;
    const { value: _value, ...rest } = bundle(base, stored, stored.versions.at(-1) as Version);
    return send(res, 200, rest);
  }
  return error(res, 405, 'MethodNotAllowed', 'The method is not allowed.');
}

const notFound = (res: ServerResponse, what: string) =>
  error(
    res,
    404,
    'SecretNotFound',
    `A secret with (name/id) ${what} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
  );

async function body(req: NodeJS.ReadableStream): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'admin-port': { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
    },
  });
  const server = createServer(
    { cert: readFileSync(values.cert ?? ''), key: readFileSync(values.key ?? '') },
    (req, res) => {
      void (async () => {
        const host = req.headers.host ?? `localhost:${values.port}`;
        const base = `https://${host}`;
        const url = new URL(req.url ?? '/', base);
        const auth = req.headers.authorization;
        if (!auth || !/^Bearer \S+$/.test(auth)) {
          req.resume();
          send(
            res,
            401,
            {
              error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' },
            },
            {
              'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="${base}"`,
            },
          );
          return;
        }
        const throttled = throttle.count > 0;
        calls.push({ at: Date.now(), method: req.method ?? '', path: url.pathname, throttled });
        if (throttled) {
          throttle.count--;
          req.resume();
          send(
            res,
            429,
            {
              error: {
                code: 'Throttled',
                message:
                  'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached',
              },
            },
            { 'retry-after': String(throttle.retryAfter) },
          );
          return;
        }
        const parts = url.pathname.split('/').filter(Boolean);
        if (parts[0] === 'deletedsecrets' && parts[1] !== undefined) {
          req.resume();
          return deletedSecrets(res, base, req.method ?? '', parts);
        }
        if (parts[0] !== 'secrets')
          return error(res, 404, 'NotFound', 'The requested resource was not found.');
        const name = parts[1];
        if (name === undefined) {
          req.resume();
          return listPage(res, base, url);
        }
        if (!NAME.test(name)) {
          return error(
            res,
            400,
            'BadParameter',
            'The request URI contains an invalid name: ' + name.slice(0, 130),
          );
        }
        const key = name.toLowerCase();
        const stored = secrets.get(key);
        if (req.method === 'PUT' && parts.length === 2) {
          const b = await body(req);
          if (typeof b.value !== 'string')
            return error(res, 400, 'BadParameter', 'Property value is required.');
          if (b.value.length > MAX_VALUE) {
            return error(res, 400, 'BadParameter', 'Secret value is too long.');
          }
          if (stored?.deleted) {
            return error(
              res,
              409,
              'Conflict',
              `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
              'ObjectIsDeletedButRecoverable',
            );
          }
          const s = stored ?? { name, versions: [], deleted: false };
          const at = Math.floor(Date.now() / 1000);
          const v: Version = {
            id: randomBytes(16).toString('hex'),
            value: b.value,
            enabled: (b.attributes as { enabled?: boolean } | undefined)?.enabled ?? true,
            created: at,
            updated: at,
            ...(typeof b.contentType === 'string' ? { contentType: b.contentType } : {}),
            ...(b.tags ? { tags: b.tags as Record<string, string> } : {}),
          };
          s.versions.push(v);
          secrets.set(key, s);
          return send(res, 200, bundle(base, s, v));
        }
        if (!stored || stored.deleted) {
          req.resume();
          return notFound(res, name);
        }
        if (req.method === 'DELETE' && parts.length === 2) {
          stored.deleted = true;
          return send(res, 200, deletedBundle(base, stored));
        }
        if (req.method === 'GET' && parts[2] === 'versions') {
          const list = stored.versions.map((v) => item(base, stored, v, true));
          return send(res, 200, { value: list, nextLink: null });
        }
        const versionId = parts[2];
        const v = versionId
          ? stored.versions.find((x) => x.id === versionId.toLowerCase())
          : stored.versions.at(-1);
        if (!v) {
          req.resume();
          return notFound(res, `${name}/${versionId}`);
        }
        if (req.method === 'PATCH' && versionId) {
          const b = await body(req);
          const enabled = (b.attributes as { enabled?: boolean } | undefined)?.enabled;
          if (enabled !== undefined) v.enabled = enabled;
          if (b.tags !== undefined) v.tags = b.tags as Record<string, string>;
          if (typeof b.contentType === 'string') v.contentType = b.contentType;
          v.updated = Math.floor(Date.now() / 1000);
          return send(res, 200, item(base, stored, v, true));
        }
        if (req.method === 'GET') {
          if (!v.enabled) {
            return error(
              res,
              403,
              'Forbidden',
              'Operation get is not allowed on a disabled secret.',
              'SecretDisabled',
            );
          }
          return send(res, 200, bundle(base, stored, v));
        }
        req.resume();
        return error(res, 405, 'MethodNotAllowed', 'The method is not allowed.');
      })().catch(() => {
        if (!res.headersSent)
          send(res, 500, { error: { code: 'InternalServerError', message: 'internal error' } });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(Number(values.port ?? 0), '127.0.0.1', resolve));
  const admin = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (req.method === 'POST' && url.pathname === '/throttle') {
      throttle = {
        count: Number(url.searchParams.get('count') ?? 1),
        retryAfter: Number(url.searchParams.get('retryAfter') ?? 1),
      };
      res.end('ok');
    } else if (url.pathname === '/calls') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(calls));
    } else if (url.pathname === '/healthz') {
      res.end('ok');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => admin.listen(Number(values['admin-port'] ?? 0), '127.0.0.1', resolve));
  console.log(
    `azure-key-vault-fake: https on 127.0.0.1:${values.port}, admin on 127.0.0.1:${values['admin-port']}`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      server.closeAllConnections();
      server.close();
      admin.close();
      process.exit(0);
    });
  }
}

await main();
