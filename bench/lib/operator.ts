// The operator as the bench runs it: a child process started the way its container starts it
// (src/main.ts run), as shipped (the chart's config, ServiceAccount and RBAC, least-privilege
// OpenBao credentials), with the bench's heap hook preloaded and, when asked, a V8 CPU profile.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';
import { OperatorProcess } from '../../test/support/operator-process.ts';
import { shippedOperatorConfig } from '../../test/support/operator.ts';
import type { Testbed } from '../../test/support/testbed/index.ts';
import { BAO_PREFIX } from './counters.ts';

/** Linux's USER_HZ, the unit of /proc/<pid>/stat's CPU times (100 on every mainstream build). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface OperatorSettings {
  workers: number;
  /** operator.defaultRefreshInterval, e.g. `60s` (default: the shipped 1h). */
  defaultRefreshInterval?: string;
  /** Where V8 CPU profiles go (one file per run); undefined: no profile. */
  cpuProfileDir?: string;
  /** Config YAML added to the bench's backends, e.g. an `issuers:` list (the certificates scenario). */
  extraConfig?: string;
}

/** The backend the bench's VaultSecrets read: OpenBao KV v2, namespaces bench-*, paths bench/**. */
export const benchBackends = (bed: Testbed): string => `
backends:
  - name: vault
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: {token: {value: ${bed.baoToken}}}
    allowedNamespaces: ["bench-*"]
    allowedPaths: ["${BAO_PREFIX.replace('secret/data/', '')}**"]
    rateLimit: {qps: 2000, burst: 2000}
`;

export interface PreparedRun {
  configFile: string;
  kubeconfigFile: string;
  nodeOptions: string;
}

export class BenchOperator {
  readonly #bed: Testbed;
  readonly #dir: string;
  #process: OperatorProcess | undefined;
  #runs = 0;

  constructor(bed: Testbed) {
    this.#bed = bed;
    this.#dir = join(bed.dir, 'bench');
    mkdirSync(this.#dir, { recursive: true });
  }

  get running(): boolean {
    return this.#process?.running === true;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Starts a run and waits until it answers /readyz (every informer synced). */
  async start(settings: OperatorSettings): Promise<void> {
    await this.launch(await this.prepare(settings));
  }

  /**
   * Writes the run's files: the chart's identity and RBAC applied (two dozen admin writes the
   * scenarios must not count: call this before taking a mark) and least-privilege credentials.
   */
  async prepare(settings: OperatorSettings): Promise<PreparedRun> {
    const shipped = await shippedOperatorConfig(this.#bed, {
      config: benchBackends(this.#bed) + (settings.extraConfig ?? ''),
    });
    const doc = parse(shipped.configText) as { operator: Record<string, unknown> };
    // Info, as deployed: debug lines per reconcile would time the logger, not the operator.
    doc.operator.logLevel = 'info';
    doc.operator.workers = settings.workers;
    if (settings.defaultRefreshInterval)
      doc.operator.defaultRefreshInterval = settings.defaultRefreshInterval;
    const run = ++this.#runs;
    const configFile = join(this.#dir, `operator-${run}.yaml`);
    const kubeconfigFile = join(this.#dir, `operator-${run}.kubeconfig`);
    writeFileSync(configFile, stringify(doc));
    writeFileSync(kubeconfigFile, shipped.kubeConfig.exportConfig(), { mode: 0o600 });
    const hook = pathToFileURL(resolve(import.meta.dirname, 'heap-hook.ts')).href;
    const flags = ['--expose-gc', `--import=${hook}`];
    if (settings.cpuProfileDir) {
      mkdirSync(settings.cpuProfileDir, { recursive: true });
      const dir = resolve(settings.cpuProfileDir);
      flags.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=operator-run-${run}.cpuprofile`);
    }
    return { configFile, kubeconfigFile, nodeOptions: flags.join(' ') };
  }

  /** Starts the prepared run: the process, then /readyz. */
  async launch(prepared: PreparedRun): Promise<void> {
    if (this.#process?.running) throw new Error('the bench operator is already running');
    this.#process = new OperatorProcess({
      identity: 'vaultsync-bench-0',
      configFile: prepared.configFile,
      kubeconfigFile: prepared.kubeconfigFile,
      logFile: join(this.#dir, 'operator.log'),
      env: { ...process.env, NODE_OPTIONS: prepared.nodeOptions, BENCH_HEAP_FILE: this.#heapFile() },
    });
    await this.#process.waitReady(120_000);
  }

  async stop(): Promise<void> {
    await this.#process?.stop(30_000);
    this.#process = undefined;
  }

  /** The embedded API's address of the current run (from its "Started vaultsync" line). */
  apiAddress(): string | undefined {
    const started = this.logs().findLast((l) => l.includes('"message":"Started vaultsync"'));
    return started ? /"api":"([^"]+)"/.exec(started)?.[1] : undefined;
  }

  /** The operator's own /metrics text (Prometheus), from its health server. */
  async metrics(): Promise<string> {
    const address = this.#process?.healthAddress();
    if (!address) throw new Error('no operator running to scrape');
    return (await fetch(`http://${address}/metrics`)).text();
  }

  /**
   * CPU seconds the operator's process has used so far (user + system, from /proc): what it
   * takes from the machine the apiserver shares, whatever the load.
   */
  cpuSeconds(): number {
    const pid = this.#process?.pid;
    if (!pid || !this.#process?.running) throw new Error('no operator running to measure');
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  }

  /** The operator's retained heap (bytes, after GC in its own process), via the heap hook. */
  async heap(): Promise<{ heapUsed: number; rss: number }> {
    const pid = this.#process?.pid;
    if (!pid || !this.#process?.running) throw new Error('no operator running to measure');
    rmSync(this.#heapFile(), { force: true });
    process.kill(pid, 'SIGUSR2');
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      if (!existsSync(this.#heapFile())) continue;
      const text = readFileSync(this.#heapFile(), 'utf8');
      if (text) return JSON.parse(text) as { heapUsed: number; rss: number };
    }
    throw new Error('the operator did not answer the heap hook (SIGUSR2) within 30 s');
  }

  /** Log lines of every run (to look for refusals and errors). */
  logs(): string[] {
    return this.#process?.logs ?? [];
  }

  #heapFile(): string {
    return join(this.#dir, 'heap.json');
  }
}
