// What the servers themselves counted: kube-apiserver's `apiserver_request_total` (scraped from
// its /metrics with the bed's admin credentials: one GET per sample, a few hundred KB of text,
// nothing a resource count scales) and OpenBao's file audit device (one JSON line per request).
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { openbaoAuditLogFile } from '../../test/support/testbed/openbao.ts';
import {
  type RequestCounts,
  type BaoRead,
  type RequestDelta,
  baoReadTimes,
  baoReads,
  parseApiserverRequests,
  requestDelta,
} from './figures.ts';

/** The KV paths the bench reads (OpenBao's audit names the mount's data path). */
export const BAO_PREFIX = 'secret/data/bench/';

export interface Mark {
  api: RequestCounts;
  baoOffset: number;
  at: number;
}

export interface Counts extends RequestDelta {
  backendReads: number;
}

export class ServerCounters {
  readonly #kc: KubeConfig;
  readonly #baoAudit: string;

  constructor(kc: KubeConfig, bedDir: string) {
    this.#kc = kc;
    this.#baoAudit = openbaoAuditLogFile(bedDir);
  }

  /** apiserver_request_total now, by verb and resource. */
  async apiserver(): Promise<RequestCounts> {
    const opts: https.RequestOptions = {};
    await this.#kc.applyToHTTPSOptions(opts);
    const text = await new Promise<string>((resolve, reject) => {
      https
        .get(`${this.#kc.getCurrentCluster()?.server}/metrics`, opts, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        })
        .on('error', reject);
    });
    return parseApiserverRequests(text);
  }

  /** OpenBao's backend reads since `offset` (a byte offset in its audit log). */
  baoReadsSince(offset: number): number {
    let reads = 0;
    this.#auditTextSince(offset, (text) => (reads += baoReads(text, BAO_PREFIX)));
    return reads;
  }

  /** The backend reads since `offset`, each with its path and time. */
  baoReadTimesSince(offset: number): BaoRead[] {
    const reads: BaoRead[] = [];
    this.#auditTextSince(offset, (text) => reads.push(...baoReadTimes(text, BAO_PREFIX)));
    return reads;
  }

  /**
   * The audit log from `offset` on, handed over in chunks of whole lines: a window of heavy read
   * load (the api scenario) writes gigabytes of audit lines, more than one string can hold.
   */
  #auditTextSince(offset: number, take: (text: string) => void): void {
    const fd = openSync(this.#baoAudit, 'r');
    try {
      const chunk = Buffer.alloc(32 * 2 ** 20);
      let position = offset;
      let carry = Buffer.alloc(0);
      for (let got = 1; got > 0; position += got) {
        got = readSync(fd, chunk, 0, chunk.length, position);
        const bytes = Buffer.concat([carry, chunk.subarray(0, got)]);
        const cut = got > 0 ? bytes.lastIndexOf(0x0a) + 1 : bytes.length;
        take(bytes.subarray(0, cut).toString('utf8'));
        carry = bytes.subarray(cut);
      }
    } finally {
      closeSync(fd);
    }
  }

  async mark(): Promise<Mark> {
    return { api: await this.apiserver(), baoOffset: statSync(this.#baoAudit).size, at: performance.now() };
  }

  /** Requests and reads since `mark`, less the harness's own requests (`own`, by "VERB resource"). */
  async since(mark: Mark, own: Record<string, number> = {}): Promise<Counts> {
    const delta = requestDelta(mark.api, await this.apiserver(), own);
    return { ...delta, backendReads: this.baoReadsSince(mark.baoOffset) };
  }

  /**
   * Waits until neither the apiserver's mutation count nor OpenBao's reads moved for `quietMs`
   * (sampled every `everyMs`: one /metrics GET and a file stat each), at most `maxMs`.
   * Resolves with the time (performance.now()) of the last movement seen.
   */
  async quiet(mark: Mark, own: Record<string, number>, quietMs = 4000, everyMs = 2000, maxMs = 120_000) {
    let last = performance.now();
    let lastValue = '';
    const deadline = last + maxMs;
    while (performance.now() < deadline) {
      const c = await this.since(mark, own);
      const value = `${c.mutations}/${c.backendReads}`;
      if (value !== lastValue) {
        lastValue = value;
        last = performance.now();
      } else if (performance.now() - last >= quietMs) return last;
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return last;
  }
}
