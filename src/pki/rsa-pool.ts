// RSA keys take from tens of milliseconds (2048) to seconds (4096) of CPU. They are made in
// a small pool of worker threads, so the event loop (informers, leader election, health
// checks) never waits for one, and the libuv thread pool (DNS, files) is not taken either.
// Workers start on demand, are unref'd while idle and exit after a quiet period.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface RsaKeyGenerator {
  /** A new RSA private key of `bits` bits as PKCS#8 DER (the caller owns and wipes it). */
  generate(bits: number, signal?: AbortSignal): Promise<Buffer>;
  close(): Promise<void>;
}

export interface RsaWorkerPoolOptions {
  /** Worker threads at most; default: CPUs − 1, between 1 and 4. */
  size?: number;
  /** An idle worker exits after this long; default 30 s. */
  idleMs?: number;
}

interface Job {
  id: number;
  bits: number;
  resolve(der: Buffer): void;
  reject(err: Error): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  job?: Job;
  idleTimer?: NodeJS.Timeout;
}

interface Reply {
  id: number;
  der?: ArrayBuffer;
  error?: string;
}

// Run as TypeScript (node src/...) the worker is the .ts file; built, it is the .js beside us.
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './rsa-worker.ts' : './rsa-worker.js',
  import.meta.url,
);

export class RsaWorkerPool implements RsaKeyGenerator {
  readonly #size: number;
  readonly #idleMs: number;
  readonly #slots = new Set<Slot>();
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;

  constructor(opts: RsaWorkerPoolOptions = {}) {
    this.#size = Math.max(1, opts.size ?? Math.min(4, Math.max(1, availableParallelism() - 1)));
    this.#idleMs = opts.idleMs ?? 30_000;
  }

  /** Worker threads running now (for tests). */
  get threads(): number {
    return this.#slots.size;
  }

  generate(bits: number, signal?: AbortSignal): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new Error('RSA key pool is closed'));
    if (![2048, 3072, 4096].includes(bits)) return Promise.reject(new RangeError(`RSA key size ${bits}`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Buffer>((resolve, reject) => {
      const job: Job = { id: this.#nextId++, bits, resolve, reject, signal };
      if (signal) {
        job.onAbort = () => {
          const i = this.#queue.indexOf(job);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) this.#finish(job, new Error('RSA key pool is closed'));
    await Promise.all([...this.#slots].map((slot) => this.#retire(slot, true)));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = [...this.#slots].find((s) => !s.job);
      if (!slot) {
        if (this.#slots.size >= this.#size) return;
        slot = this.#spawn();
      }
      const job = this.#queue.shift()!;
      clearTimeout(slot.idleTimer);
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, bits: job.bits });
    }
  }

  #spawn(): Slot {
    const worker = new Worker(WORKER_URL);
    const slot: Slot = { worker };
    worker.on('message', (reply: Reply) => {
      const job = slot.job;
      if (!job || job.id !== reply.id) return;
      slot.job = undefined;
      if (reply.der) this.#finish(job, undefined, Buffer.from(reply.der));
      else this.#finish(job, new Error(`RSA key generation failed: ${reply.error ?? 'unknown error'}`));
      this.#idle(slot);
      this.#dispatch();
    });
    const onGone = (err?: unknown) => {
      if (!this.#slots.delete(slot)) return;
      clearTimeout(slot.idleTimer);
      if (slot.job) {
        const reason = err instanceof Error ? err.message : 'worker exited';
        this.#finish(slot.job, new Error(`RSA key generation failed: ${reason}`));
      }
      this.#dispatch();
    };
    worker.on('error', onGone);
    worker.on('exit', () => onGone());
    this.#slots.add(slot);
    return slot;
  }

  #idle(slot: Slot): void {
    slot.worker.unref();
    slot.idleTimer = setTimeout(() => void this.#retire(slot), this.#idleMs);
    slot.idleTimer.unref();
  }

  async #retire(slot: Slot, force = false): Promise<void> {
    clearTimeout(slot.idleTimer);
    if (slot.job && !force) return;
    const job = slot.job;
    slot.job = undefined;
    this.#slots.delete(slot);
    if (job) this.#finish(job, new Error('RSA key pool is closed'));
    await slot.worker.terminate();
  }

  #finish(job: Job, err?: Error, der?: Buffer): void {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    if (job.signal?.aborted) return; // already rejected with the signal's reason
    if (err) job.reject(err);
    else job.resolve(der!);
  }
}
