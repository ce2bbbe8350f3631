/**
 * In-process backend: values from the config (`data: {path: {key: value}}`, each at
 * version 1); writes add versions 2, 3, ...; any kept version can be read pinned.
 * For development, tests and the contract suite's reference behaviour.
 */
import { BackendError, checkAndSetFailed } from '../resilience/errors.ts';
import { Sensitive } from '../secrets/sensitive.ts';
import type {
  BackendAdapter,
  CallContext,
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
  /** Versions kept per path (oldest dropped first). */
  readonly maxVersions?: number;
}

export class MemoryBackend implements BackendAdapter {
  readonly name: string;
  readonly type = 'memory';
  readonly #maxVersions: number;
  /** path → versions, oldest first; `number` is the version. */
  readonly #store = new Map<string, { number: number; data: Map<string, Buffer> }[]>();

  constructor(options: MemoryBackendOptions) {
    this.name = options.name;
    this.#maxVersions = options.maxVersions ?? 10;
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
    const e = entry as { number: number; data: Map<string, Buffer> };
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
