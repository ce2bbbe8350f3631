// What the apiserver saw being written, for tests that must prove an operation writes nothing
// (test/upgrade.test.ts): a watch from a listed resourceVersion (every stored change, with the
// object before and after it) and, where the bed keeps one, the apiserver's audit log (every
// write request, no-ops and refused ones included, with who made it).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { createKubeClient } from '../../src/kube/index.ts';

export interface StoredChange {
  /** The watched collection's label, e.g. `secrets`. */
  resource: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  namespace: string;
  name: string;
  resourceVersion: string;
  before: KubernetesObject | undefined;
  after: KubernetesObject;
}

interface Collection {
  resource: string;
  /** List/watch path, e.g. `/api/v1/secrets`. */
  path: string;
}

/**
 * Lists each collection and watches it from the list's resourceVersion, so every change after
 * `start()` is seen exactly once; objects outside `namespaces` are ignored.
 */
export class ChangeRecorder {
  readonly changes: StoredChange[] = [];
  /** The objects as listed at start, by `resource ns/name`. */
  readonly initial = new Map<string, KubernetesObject>();
  private readonly current = new Map<string, KubernetesObject>();
  private readonly aborts: AbortController[] = [];
  private readonly errors: Error[] = [];
  private lastChange = Date.now();
  private stopped = false;
  /** Watches the apiserver ended and this recorder resumed. */
  rewatches = 0;
  /** Of those, resumed by a new list (the version was gone). */
  relists = 0;

  private readonly kubeConfig: k8s.KubeConfig;
  private readonly collections: readonly Collection[];
  private readonly namespaces: ReadonlySet<string>;

  constructor(
    kubeConfig: k8s.KubeConfig,
    collections: readonly Collection[],
    namespaces: ReadonlySet<string>,
  ) {
    this.kubeConfig = kubeConfig;
    this.collections = collections;
    this.namespaces = namespaces;
  }

  async start(): Promise<void> {
    for (const c of this.collections) await this.listAndWatch(c, true);
  }

  /**
   * Lists the collection and watches from the list's resourceVersion. After the first time (a
   * watch the apiserver could not resume), objects that differ from the last seen are recorded
   * as one change each: changes in that gap are seen, though not one by one.
   */
  private async listAndWatch(c: Collection, first: boolean): Promise<void> {
    const list = await createKubeClient(this.kubeConfig).rest.request<{
      metadata: { resourceVersion: string };
      items: KubernetesObject[];
    }>({ method: 'GET', path: c.path });
    const listed = new Set<string>();
    for (const item of list.items) {
      if (!this.namespaces.has(item.metadata?.namespace ?? '')) continue;
      const key = keyOf(c.resource, item);
      listed.add(key);
      if (first) {
        this.initial.set(key, item);
        this.current.set(key, item);
      } else if (this.current.get(key)?.metadata?.resourceVersion !== item.metadata?.resourceVersion) {
        this.observe(c.resource, this.current.has(key) ? 'MODIFIED' : 'ADDED', item);
      }
    }
    if (!first) {
      for (const [key, obj] of this.current) {
        if (key.startsWith(`${c.resource} `) && !listed.has(key)) this.observe(c.resource, 'DELETED', obj);
      }
    }
    await this.watchFrom(c, list.metadata.resourceVersion);
  }

  /**
   * Watches from `resourceVersion` and, when the apiserver ends the watch (on a timeout, and for
   * custom resources whenever their CRD changes), resumes from the last version seen, or lists
   * again when that version is gone from the apiserver's watch cache (410).
   */
  private async watchFrom(c: Collection, resourceVersion: string): Promise<void> {
    let last = resourceVersion;
    let gone = false;
    let ended = false;
    const abort = await new k8s.Watch(this.kubeConfig).watch(
      c.path,
      { resourceVersion, allowWatchBookmarks: true },
      (type: string, obj: KubernetesObject & { code?: number; message?: string }) => {
        if (type === 'ERROR') {
          if (obj.code === 410) gone = true;
          else this.errors.push(new Error(`watch ${c.path}: ${obj.code} ${obj.message}`));
          return;
        }
        last = obj.metadata?.resourceVersion ?? last;
        this.observe(c.resource, type, obj);
      },
      (err: unknown) => {
        if (this.stopped || ended) return;
        ended = true; // (called once per watch, but be sure: one resumption only)
        if (++this.rewatches > 300) {
          this.errors.push(new Error(`watch ${c.path} keeps ending: ${String(err)}`));
          return;
        }
        if (gone) this.relists++;
        // After a failure (the apiserver restarting, say) wait a second before trying again.
        const again = () => (gone ? this.listAndWatch(c, false) : this.watchFrom(c, last));
        if (err) setTimeout(() => this.resume(c, again), 1000);
        else this.resume(c, again);
      },
    );
    this.aborts.push(abort);
  }

  /**
   * Resumes a watch; while the apiserver cannot be reached (restarted in a fault test) it tries
   * again every second for up to two minutes. A resumed watch whose version is gone lists again.
   */
  private resume(c: Collection, attempt: () => Promise<void>, deadline = Date.now() + 120_000): void {
    attempt().catch((e: unknown) => {
      if (this.stopped) return;
      if (Date.now() > deadline) this.errors.push(e as Error);
      else setTimeout(() => this.resume(c, attempt, deadline), 1000);
    });
  }

  /** Throws when a watch failed, so what was recorded may be incomplete. */
  assertComplete(): void {
    if (this.errors.length > 0) throw new Error(`a watch failed: ${this.errors[0]!.message}`);
  }

  stop(): void {
    this.stopped = true;
    for (const a of this.aborts) a.abort();
  }

  /** Milliseconds since the last recorded change. */
  quietFor(): number {
    return Date.now() - this.lastChange;
  }

  /** The object as last seen (after every recorded change). */
  latest(resource: string, namespace: string, name: string): KubernetesObject | undefined {
    return this.current.get(`${resource} ${namespace}/${name}`);
  }

  private observe(resource: string, type: string, obj: KubernetesObject): void {
    if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return; // BOOKMARK, ERROR
    const namespace = obj.metadata?.namespace ?? '';
    if (!this.namespaces.has(namespace)) return;
    const key = keyOf(resource, obj);
    const before = this.current.get(key);
    // A resumed watch may replay the last event it delivered.
    if (type !== 'DELETED' && before?.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    if (type === 'DELETED') this.current.delete(key);
    else this.current.set(key, obj);
    this.lastChange = Date.now();
    this.changes.push({
      resource,
      type,
      namespace,
      name: obj.metadata?.name ?? '',
      resourceVersion: obj.metadata?.resourceVersion ?? '',
      before,
      after: obj,
    });
  }
}

const keyOf = (resource: string, obj: KubernetesObject) =>
  `${resource} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;

/** Dotted paths under `root` whose values differ between two objects (arrays compared whole). */
export function changedPaths(a: unknown, b: unknown, root: string): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) =>
      changedPaths(a[k], b[k], `${root}.${k}`),
    );
  }
  return [root];
}

/** One line of the apiserver's audit log (level Metadata). */
export interface AuditEvent {
  stage: string;
  verb: string;
  user: { username: string };
  objectRef?: {
    resource?: string;
    subresource?: string;
    namespace?: string;
    name?: string;
    apiGroup?: string;
  };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
}

/** Reads the audit log from a byte offset on: where a measurement starts, `mark()` first. */
export class AuditLog {
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  static open(file: string): AuditLog | undefined {
    return existsSync(file) ? new AuditLog(file) : undefined;
  }

  /** The current end of the log, to read from later. */
  mark(): number {
    return statSync(this.file).size;
  }

  /** Completed requests between two marks (or to the end). */
  events(from: number, to?: number): AuditEvent[] {
    const text = readFileSync(this.file).subarray(from, to).toString('utf8');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as AuditEvent)
      .filter((e) => e.stage === 'ResponseComplete');
  }
}
