// The operator as its container runs it: `node src/main.ts run` as a child process with the
// chart's config and ServiceAccount token, started again whenever it exits (as the kubelet
// restarts a container: same pod, so the same Lease identity), and killable at will. Its log
// lines are kept for the test and copied to a file beside the bed.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { shippedOperatorConfig } from '../support/operator.ts';
import type { Testbed } from '../support/testbed/index.ts';
import { repoRoot } from '../support/testbed/paths.ts';
import { delay, eventually } from '../support/wait.ts';

export interface OperatorExit {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Killed by the test (not a crash). */
  killed: boolean;
  at: number;
}

export interface OperatorRun {
  pid: number;
  spawnedAt: number;
  /** When it logged that it leads (its workers start). */
  leadingAt?: number;
}

export class OperatorProcess {
  /** Log lines of every run, in order. */
  readonly logs: string[] = [];
  readonly runs: OperatorRun[] = [];
  readonly exits: OperatorExit[] = [];
  /** Runs started (the first one included). */
  starts = 0;
  readonly #args: string[];
  readonly #logFile: string;
  readonly #restartDelayMs: number;
  #child: ChildProcess | undefined;
  #runStartedAt = 0;
  #runLogStart = 0;
  #killedPid: number | undefined;
  #respawn: NodeJS.Timeout | undefined;
  #stopping = false;

  private constructor(args: string[], logFile: string, restartDelayMs: number) {
    this.#args = args;
    this.#logFile = logFile;
    this.#restartDelayMs = restartDelayMs;
  }

  /**
   * Renders the shipped config (leader election on, as the chart ships it) into `bed.dir` and
   * starts the first run. `identity` stands for the pod: a restarted container keeps it.
   */
  static async start(
    bed: Testbed,
    opts: { name: string; config?: string; restartDelayMs?: number },
  ): Promise<OperatorProcess> {
    const shipped = await shippedOperatorConfig(bed, { leaderElection: true, config: opts.config });
    // The chart's Lease timings (charts/vaultsync/values.yaml), not the tests' short ones: how
    // long a replica rides out an unreachable apiserver is part of what these cases measure.
    const config = parse(shipped.configText) as { operator: Record<string, unknown> };
    config.operator.leaderElection = {
      enabled: true,
      leaseDuration: '15s',
      renewDeadline: '10s',
      retryPeriod: '2s',
    };
    const configFile = join(bed.dir, `${opts.name}-config.yaml`);
    const kubeconfigFile = join(bed.dir, `${opts.name}.kubeconfig`);
    writeFileSync(configFile, stringify(config));
    writeFileSync(kubeconfigFile, shipped.kubeConfig.exportConfig(), { mode: 0o600 });
    const args = [
      join(repoRoot, 'src/main.ts'),
      'run',
      '--config',
      configFile,
      '--kubeconfig',
      kubeconfigFile,
      '--identity',
      `${opts.name}-0`,
    ];
    const op = new OperatorProcess(
      args,
      join(bed.dir, 'logs', `${opts.name}.log`),
      opts.restartDelayMs ?? 1000,
    );
    op.#spawn();
    return op;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** When the current run started (ms since the epoch). */
  get runStartedAt(): number {
    return this.#runStartedAt;
  }

  /** Exits the test did not cause (lost leadership, a crash). */
  crashes(since = 0): OperatorExit[] {
    return this.exits.filter((e) => !e.killed && e.at >= since);
  }

  /** SIGKILLs the current run; it is started again after the restart delay. */
  kill(): void {
    const child = this.#child;
    if (!child?.pid || child.exitCode !== null) return;
    this.#killedPid = child.pid;
    child.kill('SIGKILL');
  }

  /** The health server's address of the current run, once it logged it. */
  healthAddress(): string | undefined {
    for (const line of this.logs.slice(this.#runLogStart)) {
      if (!line.includes('"message":"Started vaultsync"')) continue;
      const m = /"health":"([^"]+)"/.exec(line);
      if (m) return m[1];
    }
    return undefined;
  }

  /** The current run answers /readyz with 200 (informers synced and watching). */
  async ready(): Promise<boolean> {
    const address = this.healthAddress();
    if (!address) return false;
    const res = await fetch(`http://${address}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(
      () => undefined,
    );
    return res?.ok ?? false;
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    await eventually(
      'the operator ready',
      async () => ((await this.ready()) ? true : undefined),
      timeoutMs,
      250,
    );
  }

  /** Sum of vaultsync_backend_requests_total of the current run (undefined: no answer). */
  async backendRequests(): Promise<number | undefined> {
    const address = this.healthAddress();
    if (!address) return undefined;
    const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(2000) }).catch(
      () => undefined,
    );
    if (!res?.ok) return undefined;
    const text = await res.text();
    let sum = 0;
    for (const m of text.matchAll(/^vaultsync_backend_requests_total\{[^}]*\} (\d+(?:\.\d+)?)$/gm)) {
      sum += Number(m[1]);
    }
    return sum;
  }

  /** Stops for good: SIGTERM (a clean shutdown), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#respawn);
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = delay(15_000).then(() => child.kill('SIGKILL'));
    await Promise.race([exited, timer]);
    await exited;
  }

  #spawn(): void {
    this.starts++;
    this.#runStartedAt = Date.now();
    this.#runLogStart = this.logs.length;
    const child = spawn(process.execPath, this.#args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const run: OperatorRun = { pid: child.pid ?? 0, spawnedAt: this.#runStartedAt };
    this.runs.push(run);
    appendFileSync(
      this.#logFile,
      `--- run ${this.starts} (pid ${run.pid}) spawned ${new Date().toISOString()}\n`,
    );
    let partial = '';
    const onData = (d: Buffer) => {
      const text = partial + String(d);
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        this.logs.push(l);
        if (run.leadingAt === undefined && l.includes('"message":"Started leading"'))
          run.leadingAt = Date.now();
      }
      appendFileSync(this.#logFile, String(d));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      const pid = child.pid ?? 0;
      this.exits.push({ pid, code, signal, killed: pid === this.#killedPid, at: Date.now() });
      if (partial) this.logs.push(partial);
      if (this.#stopping) return;
      this.#respawn = setTimeout(() => this.#spawn(), this.#restartDelayMs);
    });
  }
}

/**
 * Backend requests of every run while it is polled: a run's counter starts at 0, so the sum
 * of (last reading − first reading) per run, the first reading of a run started meanwhile
 * taken as 0. Requests a run made after its last reading before it was killed are missed.
 */
export class BackendRequestMeter {
  readonly #first = new Map<number, number>();
  readonly #last = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;
  readonly #op: OperatorProcess;

  constructor(op: OperatorProcess) {
    this.#op = op;
  }

  async start(): Promise<void> {
    await this.#read(true);
    this.#timer = setInterval(() => void this.#read(false), 500);
  }

  async stop(): Promise<number> {
    clearInterval(this.#timer);
    await this.#read(false);
    let total = 0;
    for (const [pid, last] of this.#last) total += last - (this.#first.get(pid) ?? 0);
    return total;
  }

  async #read(first: boolean): Promise<void> {
    const pid = this.#op.pid;
    const value = await this.#op.backendRequests();
    if (pid === undefined || value === undefined || pid !== this.#op.pid) return;
    if (first) this.#first.set(pid, value);
    this.#last.set(pid, Math.max(value, this.#last.get(pid) ?? 0));
  }
}
