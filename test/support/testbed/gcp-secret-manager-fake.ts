// A FAKE of Google Secret Manager, written here: no emulator can be had on this machine (the
// Go module proxy refuses github.com/blackwell-systems/gcp-secret-manager-emulator and every
// other Secret Manager emulator module; Google ships none). It serves the real v1 gRPC
// service, with the message types from the client library's own protos, and keeps the
// behaviour vaultsync relies on: version numbers and `latest` (the most recently created
// version, whatever its state, as Google documents), NOT_FOUND / ALREADY_EXISTS /
// FAILED_PRECONDITION (disabled, destroyed) / INVALID_ARGUMENT answers with Google's texts, the
// 64 KiB payload limit and CRC32C checks, and listing: ListSecrets and ListSecretVersions paged
// by pageSize (at most 25,000) and opaque page tokens, sorted, with the documented filter terms
// vaultsync sends (`name:` substring, `labels.KEY=VALUE`, `state:`, joined by AND; anything else
// is refused, not ignored). It checks no credentials (plain-text gRPC, as emulators do).
//
// Run: node gcp-secret-manager-fake.ts --port N --admin-port M  (binds 127.0.0.1 only)
// Admin (HTTP, for tests): POST /throttle?count=N[&retryDelayMs=D] answers the next N calls
// with RESOURCE_EXHAUSTED (with RetryInfo when D is given); GET /calls lists the calls seen.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { protobuf } from 'google-gax';
import { crc32c } from '../../../src/backends/gcp/crc32c.ts';

const require = createRequire(import.meta.url);
const smProtos = join(dirname(require.resolve('@google-cloud/secret-manager')), '../protos/protos.json');
const gaxProtos = join(dirname(require.resolve('google-gax')), '../protos/status.json');
const root = protobuf.Root.fromJSON(JSON.parse(readFileSync(smProtos, 'utf8')));
const rpc = protobuf.Root.fromJSON(JSON.parse(readFileSync(gaxProtos, 'utf8')));
const StatusType = rpc.lookupType('google.rpc.Status');
const RetryInfoType = rpc.lookupType('google.rpc.RetryInfo');
const SERVICE = 'google.cloud.secretmanager.v1.SecretManagerService';
const MAX_PAYLOAD = 65_536;
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;

type State = 'ENABLED' | 'DISABLED' | 'DESTROYED';
interface Version {
  number: number;
  state: State;
  data: Buffer;
  createTime: { seconds: number; nanos: number };
  checksum: boolean;
}
interface StoredSecret {
  name: string;
  createTime: { seconds: number; nanos: number };
  labels: Record<string, string>;
  replication: unknown;
  versions: Version[];
}

const secrets = new Map<string, StoredSecret>();
const calls: { at: number; method: string; throttled: boolean }[] = [];
let throttle = { count: 0, retryDelayMs: undefined as number | undefined };

class RpcError extends Error {
  readonly code: grpc.status;
  constructor(code: grpc.status, message: string) {
    super(message);
    this.code = code;
  }
}

const now = () => {
  const ms = Date.now();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
};

function secretOf(name: string): StoredSecret {
  const m = /^projects\/([^/]+)\/secrets\/([^/]+)$/.exec(name);
  if (!m) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Invalid resource field value in the request.`);
  const s = secrets.get(name);
  if (!s) throw new RpcError(grpc.status.NOT_FOUND, `Secret [${name}] not found or has no versions.`);
  return s;
}

function versionOf(name: string): { secret: StoredSecret; version: Version } {
  const m = /^(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/]+)$/.exec(name);
  if (!m) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Invalid resource field value in the request.`);
  const secret = secretOf(m[1] as string);
  const id = m[2] as string;
  let version: Version | undefined;
  if (id === 'latest') {
    // The most recently created version, enabled or not (a disabled one then fails to access).
    version = secret.versions.at(-1);
    if (!version) throw new RpcError(grpc.status.NOT_FOUND, `Secret [${m[1]}] not found or has no versions.`);
  } else {
    if (!/^[0-9]+$/.test(id))
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `Invalid resource field value in the request.`);
    version = secret.versions.find((v) => v.number === Number(id));
    if (!version) throw new RpcError(grpc.status.NOT_FOUND, `Secret Version [${name}] not found.`);
  }
  return { secret, version };
}

const versionMessage = (secret: StoredSecret, v: Version) => ({
  name: `${secret.name}/versions/${v.number}`,
  createTime: v.createTime,
  state: v.state,
  clientSpecifiedPayloadChecksum: v.checksum,
  ...(v.state === 'DESTROYED' ? { destroyTime: now() } : {}),
});

const secretMessage = (s: StoredSecret) => ({
  name: s.name,
  createTime: s.createTime,
  labels: s.labels,
  replication: s.replication,
  etag: `"${s.versions.length}"`,
});

function setState(req: { name: string }, state: State) {
  const { secret, version } = versionOf(req.name);
  if (version.state === 'DESTROYED' && state !== 'DESTROYED') {
    throw new RpcError(
      grpc.status.FAILED_PRECONDITION,
      `Secret Version [${req.name}] is in DESTROYED state.`,
    );
  }
  version.state = state;
  if (state === 'DESTROYED') version.data = Buffer.alloc(0);
  return versionMessage(secret, version);
}

// ---- list filters and pages (FAKE: the documented subset vaultsync uses) -------------------

type Term = { field: string; op: ':' | '='; value: string; quoted: boolean };

/** `name:"team-a--" AND labels.env=prod` → terms; OR, NOT and other syntax are refused. */
function parseFilter(filter: string): Term[] {
  if (filter.trim() === '') return [];
  return filter.split(/\s+AND\s+/).map((text) => {
    const m = /^([a-z_]+(?:\.[a-z][a-z0-9_]*)?)\s*([:=])\s*(?:"([^"]*)"|([^\s"()]+))$/.exec(text.trim());
    if (!m) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Invalid filter: ${filter.slice(0, 200)}`);
    const quoted = m[3] !== undefined;
    return { field: m[1] as string, op: m[2] as ':' | '=', value: (m[3] ?? m[4]) as string, quoted };
  });
}

/** `name:` is a substring (an unquoted `*` matches anything), `=` equality, `KEY:*` presence. */
function matchesTerm(actual: string | undefined, t: Term): boolean {
  if (actual === undefined) return false;
  if (t.op === '=') return actual === t.value;
  if (!t.quoted && t.value === '*') return true;
  if (t.quoted) return actual.includes(t.value);
  const parts = t.value.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(parts.join('.*')).test(actual);
}

/** Refuses a filter on a field this fake does not know, whether or not anything is listed. */
function checkFields(terms: Term[], known: (field: string) => boolean): Term[] {
  const unknown = terms.find((t) => !known(t.field));
  if (unknown)
    throw new RpcError(grpc.status.INVALID_ARGUMENT, `Invalid filter: unknown field ${unknown.field}`);
  return terms;
}

function secretMatches(s: StoredSecret, terms: Term[]): boolean {
  return terms.every((t) => {
    if (t.field === 'name') return matchesTerm(s.name, t);
    const key = t.field.slice('labels.'.length);
    return matchesTerm(Object.hasOwn(s.labels, key) ? s.labels[key] : undefined, t);
  });
}

const versionMatches = (v: Version, terms: Term[]): boolean =>
  terms.every((t) => matchesTerm(v.state, { ...t, op: '=' }));

/** One page of `all`; the token is opaque to clients and bound to the request's filter. */
function pageOf<T>(all: T[], req: Record<string, unknown>): { page: T[]; nextPageToken: string } {
  const size = Number(req.pageSize ?? 0);
  if (!Number.isInteger(size) || size < 0) {
    throw new RpcError(grpc.status.INVALID_ARGUMENT, 'page_size must be non-negative.');
  }
  const limit = Math.min(size || 25_000, 25_000);
  const filter = String(req.filter ?? '');
  let start = 0;
  const token = String(req.pageToken ?? '');
  if (token !== '') {
    let parsed: { o?: unknown; f?: unknown } = {};
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof parsed;
    } catch {
      // falls through to the check below
    }
    if (typeof parsed.o !== 'number' || parsed.f !== filter) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'The provided page token is invalid.');
    }
    start = parsed.o;
  }
  const end = start + limit;
  const next =
    end < all.length ? Buffer.from(JSON.stringify({ o: end, f: filter })).toString('base64url') : '';
  return { page: all.slice(start, end), nextPageToken: next };
}

type Handler = (req: Record<string, unknown>) => unknown;

const handlers: Record<string, Handler> = {
  CreateSecret(req) {
    const parent = String(req.parent ?? '');
    const secretId = String(req.secretId ?? '');
    if (!/^projects\/[^/]+$/.test(parent)) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Invalid resource field value in the request.');
    }
    if (!SECRET_ID.test(secretId)) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `Secret ID [${secretId.slice(0, 300)}] is invalid.`);
    }
    const body = (req.secret ?? {}) as { replication?: unknown; labels?: Record<string, string> };
    if (!body.replication) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Secret.replication is required.');
    }
    const name = `${parent}/secrets/${secretId}`;
    if (secrets.has(name)) throw new RpcError(grpc.status.ALREADY_EXISTS, `Secret [${name}] already exists.`);
    const s: StoredSecret = {
      name,
      createTime: now(),
      labels: body.labels ?? {},
      replication: body.replication,
      versions: [],
    };
    secrets.set(name, s);
    return secretMessage(s);
  },
  AddSecretVersion(req) {
    const secret = secretOf(String(req.parent ?? ''));
    const payload = (req.payload ?? {}) as { data?: Buffer; dataCrc32c?: string | number };
    const data = Buffer.from(payload.data ?? Buffer.alloc(0));
    if (data.length > MAX_PAYLOAD) {
      throw new RpcError(
        grpc.status.INVALID_ARGUMENT,
        `Secret payload size exceeds the limit of ${MAX_PAYLOAD} bytes.`,
      );
    }
    const checksum = payload.dataCrc32c !== undefined && payload.dataCrc32c !== null;
    if (checksum && Number(payload.dataCrc32c) !== crc32c(data)) {
      throw new RpcError(
        grpc.status.INVALID_ARGUMENT,
        'Checksum mismatch: data_crc32c does not match the payload.',
      );
    }
    const v: Version = {
      number: secret.versions.length + 1,
      state: 'ENABLED',
      data,
      createTime: now(),
      checksum,
    };
    secret.versions.push(v);
    return versionMessage(secret, v);
  },
  AccessSecretVersion(req) {
    const { secret, version } = versionOf(String(req.name ?? ''));
    if (version.state !== 'ENABLED') {
      throw new RpcError(
        grpc.status.FAILED_PRECONDITION,
        `Secret Version [${secret.name}/versions/${version.number}] is in ${version.state} state.`,
      );
    }
    return {
      name: `${secret.name}/versions/${version.number}`,
      payload: { data: version.data, dataCrc32c: String(crc32c(version.data)) },
    };
  },
  GetSecret: (req) => secretMessage(secretOf(String(req.name ?? ''))),
  UpdateSecret(req) {
    // FAKE: labels only (what the tests set, as an admin would); update_mask is required.
    const body = (req.secret ?? {}) as { name?: string; labels?: Record<string, string> };
    const secret = secretOf(String(body.name ?? ''));
    const paths = ((req.updateMask ?? {}) as { paths?: string[] }).paths ?? [];
    if (paths.length === 0) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'update_mask is required.');
    for (const path of paths) {
      if (path !== 'labels') {
        throw new RpcError(
          grpc.status.INVALID_ARGUMENT,
          `update_mask path ${path} is not supported by this fake.`,
        );
      }
      secret.labels = { ...(body.labels ?? {}) };
    }
    return secretMessage(secret);
  },
  GetSecretVersion(req) {
    const { secret, version } = versionOf(String(req.name ?? ''));
    return versionMessage(secret, version);
  },
  ListSecrets(req) {
    const parent = String(req.parent ?? '');
    if (!/^projects\/[^/]+$/.test(parent)) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Invalid resource field value in the request.');
    }
    const terms = checkFields(
      parseFilter(String(req.filter ?? '')),
      (f) => f === 'name' || f.startsWith('labels.'),
    );
    const all = [...secrets.values()]
      .filter((s) => s.name.startsWith(`${parent}/secrets/`) && secretMatches(s, terms))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const { page, nextPageToken } = pageOf(all, req);
    return { secrets: page.map(secretMessage), nextPageToken, totalSize: all.length };
  },
  ListSecretVersions(req) {
    const secret = secretOf(String(req.parent ?? ''));
    const terms = checkFields(parseFilter(String(req.filter ?? '')), (f) => f === 'state');
    const versions = [...secret.versions].reverse().filter((v) => versionMatches(v, terms));
    const { page, nextPageToken } = pageOf(versions, req);
    return {
      versions: page.map((v) => versionMessage(secret, v)),
      nextPageToken,
      totalSize: versions.length,
    };
  },
  DeleteSecret(req) {
    const secret = secretOf(String(req.name ?? ''));
    secrets.delete(secret.name);
    return {};
  },
  DisableSecretVersion: (req) => setState(req as { name: string }, 'DISABLED'),
  EnableSecretVersion: (req) => setState(req as { name: string }, 'ENABLED'),
  DestroySecretVersion: (req) => setState(req as { name: string }, 'DESTROYED'),
};

function throttled(): grpc.ServiceError {
  const details = [];
  if (throttle.retryDelayMs !== undefined) {
    const ms = throttle.retryDelayMs;
    const retryInfo = RetryInfoType.encode(
      RetryInfoType.fromObject({ retryDelay: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 } }),
    ).finish();
    details.push({ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: retryInfo });
  }
  const message = "Quota exceeded for quota metric 'Access requests' and limit 'Access requests per minute'.";
  const status = StatusType.encode(
    StatusType.fromObject({ code: grpc.status.RESOURCE_EXHAUSTED, message, details }),
  ).finish();
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(status));
  return Object.assign(new Error(message), {
    code: grpc.status.RESOURCE_EXHAUSTED,
    details: message,
    metadata,
  });
}

function serviceDefinition(): grpc.ServiceDefinition {
  const service = root.lookupService(SERVICE);
  const definition: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const req = method.resolvedRequestType as protobuf.Type;
    const res = method.resolvedResponseType as protobuf.Type;
    definition[method.name] = {
      path: `/${SERVICE}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: object) => Buffer.from(req.encode(req.fromObject(v)).finish()),
      requestDeserialize: (b: Buffer) => req.toObject(req.decode(b), { longs: String, enums: String }),
      responseSerialize: (v: object) => Buffer.from(res.encode(res.fromObject(v)).finish()),
      responseDeserialize: (b: Buffer) => res.toObject(res.decode(b), { longs: String, enums: String }),
    };
  }
  return definition;
}

function implementation(definition: grpc.ServiceDefinition): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const name of Object.keys(definition)) {
    impl[name] = (
      call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      const isThrottled = throttle.count > 0;
      calls.push({ at: Date.now(), method: name, throttled: isThrottled });
      if (isThrottled) {
        throttle.count--;
        callback(throttled());
        return;
      }
      const handler = handlers[name];
      if (!handler) {
        callback({
          code: grpc.status.UNIMPLEMENTED,
          details: `Method ${name} is not implemented by this fake.`,
        });
        return;
      }
      try {
        callback(null, handler(call.request));
      } catch (err) {
        if (err instanceof RpcError) callback({ code: err.code, details: err.message });
        else callback({ code: grpc.status.INTERNAL, details: 'internal error' });
      }
    };
  }
  return impl;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, 'admin-port': { type: 'string' } } });
  const server = new grpc.Server();
  const definition = serviceDefinition();
  server.addService(definition, implementation(definition));
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${values.port ?? '0'}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  const admin = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (req.method === 'POST' && url.pathname === '/throttle') {
      const delay = url.searchParams.get('retryDelayMs');
      throttle = {
        count: Number(url.searchParams.get('count') ?? 1),
        retryDelayMs: delay === null ? undefined : Number(delay),
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
    `gcp-secret-manager-fake: gRPC on 127.0.0.1:${values.port}, admin on 127.0.0.1:${values['admin-port']}`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      server.forceShutdown();
      admin.close();
      process.exit(0);
    });
  }
}

await main();
