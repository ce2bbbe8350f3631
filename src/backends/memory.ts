/**
 * In-process backend: values from the config (`data: {path: {key: value}}`, each at
 * version 1, with `tags: {path: {name: value}}`); writes add versions 2, 3, ...; any kept
 * version can be read pinned. Lists by prefix and tags, a page at a time in path order; a
 * delete of the latest version hides it (reads answer NotFound, a list skips the path) until
 * the next write, a delete of all forgets the path. Restores are the guard's (read, then
 * write by check-and-set). For development, tests and the contract suite's reference behaviour.
 */
import { BackendError, checkAndSetFailed } from '../resilience/errors.ts';
import { Sensitive } from '../secrets/sensitive.ts';
import type {
  BackendAdapter,
  CallContext,
  DeleteRequest,
  ListPage,
  ListRequest,
  ReadRequest,
  RemoteSecret,
  SecretData,
  WriteRequest,
  WriteResult,
} from './types.ts';

export interface MemoryBackendOptions {
  readonly name: string;
  /** Initial values, path → key → value (version 1). */
  readonly data?: Sensitive<Readonly<Record<string, Readonly<Record<string, string>>>>>;
  /** Tags per path (`find` by tags): path → name → value. */
  readonly tags?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Versions kept per path (oldest dropped first). */
  readonly maxVersions?: number;
  /** Paths per list page (small in tests, to page). */
  readonly pageSize?: number;
}

interface Version {
  readonly number: number;
  readonly data: Map<string, Buffer>;
  /** Deleted (`scope: latest`): reads answer NotFound. */
  deleted?: boolean;
}

export class MemoryBackend implements BackendAdapter {
  readonly name: string;
  readonly type = 'memory';
  readonly #maxVersions: number;
  readonly #pageSize: number;
  /** path → versions, oldest first; `number` is the version. */
  readonly #store = new Map<string, Version[]>();
  readonly #tags = new Map<string, Readonly<Record<string, string>>>();

  constructor(options: MemoryBackendOptions) {
    this.name = options.name;
    this.#maxVersions = options.maxVersions ?? 10;
    this.#pageSize = options.pageSize ?? 100;
    for (const [path, tags] of Object.entries(options.tags ?? {})) this.setTags(path, tags);
    for (const [path, values] of Object.entries(options.data?.reveal() ?? {})) {
      const map = new Map<string, Buffer>();
      for (const [k, v] of Object.entries(values)) map.set(k, Buffer.from(v, 'utf8'));
      this.#store.set(path, [{ number: 1, data: map }]);
    }
  }

  identity(): string {
    return 'memory';
  }

  async read(req: ReadRequest, ctx: CallContext): Promise<RemoteSecret> {
    ctx.signal?.throwIfAborted();
    const versions = this.#store.get(req.path);
    if (!versions || versions.length === 0) {
      throw new BackendError('NotFound', `secret "${req.path}" not found`, { backend: this.name });
    }
    let entry = versions[versions.length - 1];
    if (req.version !== undefined) {
      const wanted = parseVersion(req.version, this.name);
      entry = versions.find((v) => v.number === wanted);
      if (!entry) {
        throw new BackendError('NotFound', `version ${req.version} of secret "${req.path}" not found`, {
          backend: this.name,
        });
      }
    }
    const e = entry as Version;
    if (e.deleted) {
      throw new BackendError('NotFound', `version ${e.number} of secret "${req.path}" is deleted`, {
        backend: this.name,
      });
    }
    return { data: copy(e.data), version: String(e.number) };
  }

  async write(req: WriteRequest, ctx: CallContext): Promise<WriteResult> {
    ctx.signal?.throwIfAborted();
    const versions = this.#store.get(req.path) ?? [];
    const current = versions[versions.length - 1]?.number ?? 0;
    if (req.cas !== undefined && parseVersion(req.cas, this.name, true) !== current) {
      throw checkAndSetFailed(`"${req.path}"`, req.cas, `found ${current}`, this.name);
    }
    const number = current + 1;
    const data = new Map<string, Buffer>();
    for (const [k, v] of req.data.reveal()) data.set(k, Buffer.from(v));
    versions.push({ number, data });
    while (versions.length > this.#maxVersions) versions.shift();
    this.#store.set(req.path, versions);
    return { version: String(number) };
  }

  /** Paths under the prefix carrying every tag, whose latest version is not deleted, in order. */
  async list(req: ListRequest, page: string | undefined, ctx: CallContext): Promise<ListPage> {
    ctx.signal?.throwIfAborted();
    const wanted = Object.entries(req.tags ?? {});
    const paths = [...this.#store]
      .filter(([path, versions]) => path.startsWith(req.prefix) && versions.at(-1)?.deleted !== true)
      .map(([path]) => path)
      .filter((path) => wanted.every(([k, v]) => this.#tags.get(path)?.[k] === v))
      .sort();
    // The page token is the last path of the page before.
    const from = page === undefined ? 0 : paths.findIndex((p) => p > page);
    const slice = from < 0 ? [] : paths.slice(from, from + this.#pageSize);
    const last = slice.at(-1);
    return last !== undefined && last !== paths.at(-1) ? { paths: slice, next: last } : { paths: slice };
  }

  async delete(req: DeleteRequest, ctx: CallContext): Promise<void> {
    ctx.signal?.throwIfAborted();
    const latest = this.#store.get(req.path)?.at(-1);
    if (!latest) throw new BackendError('NotFound', `secret "${req.path}" not found`, { backend: this.name });
    if (req.scope === 'all') {
      this.#store.delete(req.path);
      this.#tags.delete(req.path);
    } else {
      latest.deleted = true;
    }
  }

  /** Sets the tags of `path` (the seed's `tags`, tests). */
  setTags(path: string, tags: Readonly<Record<string, string>>): void {
    this.#tags.set(path, { ...tags });
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {}
}

function parseVersion(text: string, backend: string, allowZero = false): number {
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || (n === 0 && !allowZero)) {
    throw new BackendError('InvalidRequest', `version "${text.slice(0, 40)}" must be a positive integer`, {
      backend,
    });
  }
  return n;
}

function copy(data: ReadonlyMap<string, Buffer>): SecretData {
  const out = new Map<string, Buffer>();
  for (const [k, v] of data) out.set(k, Buffer.from(v));
  return new Sensitive<ReadonlyMap<string, Buffer>>(out);
}
