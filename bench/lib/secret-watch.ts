// When each Secret first held the value the bench expects, seen by one watch on the Secrets of the
// namespaces under test (one long request, whatever the resource count: waiting costs the
// apiserver nothing that scales, unlike the LIST every 250 ms the old harness sent).
import type { KubeConfig } from '@kubernetes/client-node';
import { type OpenWatch, openWatch } from './watch.ts';

interface SecretEvent {
  metadata?: { name?: string; namespace?: string };
  data?: Record<string, string>;
}

export class SecretWatch {
  /** `namespace/name` → performance.now() when it first held the expected value. */
  readonly matchedAt = new Map<string, number>();
  readonly #kc: KubeConfig;
  readonly #namespaces: ReadonlySet<string>;
  readonly #key: string;
  #expected = new Map<string, string>();
  #waiters: { done: () => boolean; resolve: () => void }[] = [];
  #watch: OpenWatch | undefined;

  constructor(kc: KubeConfig, namespaces: readonly string[], key = 'v') {
    this.#kc = kc;
    this.#namespaces = new Set(namespaces);
    this.#key = key;
  }

  /** Opens the watch (every Secret of the cluster, filtered here by namespace). */
  async start(): Promise<void> {
    this.#watch = await openWatch(this.#kc, '/api/v1/secrets', (_type, obj: SecretEvent) => this.#seen(obj));
  }

  stop(): void {
    this.#watch?.stop();
  }

  /** From now on `namespace/name` counts as matched when it holds `value`. */
  expect(id: string, value: string): void {
    this.#expected.set(id, value);
    this.matchedAt.delete(id);
  }

  /** Resolves when `done()` holds (checked on every event), rejects after `timeoutMs`. */
  until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== resolve);
        reject(
          new Error(
            `${what}: not within ${timeoutMs} ms (${this.matchedAt.size} matched; ${String(this.#watch?.error ?? '')})`,
          ),
        );
      }, timeoutMs);
      this.#waiters.push({
        done,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  #seen(obj: SecretEvent): void {
    const ns = obj.metadata?.namespace ?? '';
    if (!this.#namespaces.has(ns)) return;
    const id = `${ns}/${obj.metadata?.name}`;
    const want = this.#expected.get(id);
    const raw = obj.data?.[this.#key];
    if (want === undefined || raw === undefined || this.matchedAt.has(id)) return;
    if (Buffer.from(raw, 'base64').toString('utf8') !== want) return;
    this.matchedAt.set(id, performance.now());
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.done()) return true;
      w.resolve();
      return false;
    });
  }
}
