// The operator as its container runs it: `node <tree>/src/main.ts run --config … --kubeconfig …
// --identity …` as a child process, its log lines kept for the test (and copied to a file when
// asked). It can be signalled (SIGSTOP/SIGCONT to freeze it), killed, stopped cleanly, and
// started again after an exit it did not ask for, as the kubelet restarts a container (same pod,
// so the same Lease identity).
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { type KubeClient, getObject } from '../../src/kube/index.ts';
import { OPERATOR_NAMESPACE, shippedOperatorConfig } from './operator.ts';
import type { Testbed } from './testbed/index.ts';
import { repoRoot } from './testbed/paths.ts';
import { delay, eventually } from './wait.ts';

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

export interface OperatorProcessOptions {
  /** The Lease identity (the pod's name): a restarted run keeps it. */
  identity: string;
  configFile: string;
  kubeconfigFile: string;
  /** The checkout whose src/main.ts runs (default: this one; the upgrade test runs the previous release's). */
  tree?: string;
  /** The child's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Every run's output is appended here too. */
  logFile?: string;
  /** Started again this long after an exit the test did not ask for; undefined: never restarted. */
  restartDelayMs?: number;
}

export class OperatorProcess {
  /** Log lines of every run, in order. */
  readonly logs: string[] = [];
  readonly runs: OperatorRun[] = [];
  readonly exits: OperatorExit[] = [];
  /** Runs started (the first one included). */
  starts = 0;
  readonly identity: string;
  readonly #opts: OperatorProcessOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<OperatorExit> = new Promise(() => {});
  #runStartedAt = 0;
  #runLogStart = 0;
  #killedPid: number | undefined;
  #respawn: NodeJS.Timeout | undefined;
  #stopping = false;

  /** Starts the first run. */
  constructor(opts: OperatorProcessOptions) {
    this.identity = opts.identity;
    this.#opts = opts;
    this.#spawn();
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The current run has not exited. */
  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** When the current run started (ms since the epoch). */
  get runStartedAt(): number {
    return this.#runStartedAt;
  }

  /** The current run's exit, once it happens (at once if it has). */
  exited(): Promise<OperatorExit> {
    return this.#exited;
  }

  /** Every run's output so far, as one text. */
  logText(): string {
    return this.logs.join('\n');
  }

  /** Exits the test did not cause (lost leadership, a crash). */
  crashes(since = 0): OperatorExit[] {
    return this.exits.filter((e) => !e.killed && e.at >= since);
  }

  /** Sends `signal` to the current run (SIGSTOP and SIGCONT freeze and resume it). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child?.kill(signal);
  }

  /** SIGKILLs the current run; with a restart delay it is started again after it. */
  kill(): void {
    const child = this.#child;
    if (!child?.pid || !this.running) return;
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
      `${this.identity} ready`,
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

  /**
   * Stops for good: SIGTERM (a clean shutdown), SIGKILL after `graceMs`. Resolves with the last
   * run's exit code (null: ended by a signal).
   */
  async stop(graceMs = 15_000): Promise<number | null> {
    this.#stopping = true;
    clearTimeout(this.#respawn);
    const exited = this.#exited;
    if (this.running) {
      this.#child?.kill('SIGTERM');
      const timer = delay(graceMs).then(() => this.#child?.kill('SIGKILL'));
      await Promise.race([exited, timer]);
    }
    return this.#child ? (await exited).code : null;
  }

  #spawn(): void {
    const { tree = repoRoot, env, logFile } = this.#opts;
    this.starts++;
    this.#runStartedAt = Date.now();
    this.#runLogStart = this.logs.length;
    const args = [
      join(tree, 'src/main.ts'),
      'run',
      '--config',
      this.#opts.configFile,
      '--kubeconfig',
      this.#opts.kubeconfigFile,
      '--identity',
      this.identity,
    ];
    const child = spawn(process.execPath, args, { cwd: tree, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const run: OperatorRun = { pid: child.pid ?? 0, spawnedAt: this.#runStartedAt };
    this.runs.push(run);
    if (logFile)
      appendFileSync(
        logFile,
        `--- run ${this.starts} (pid ${run.pid}) spawned ${new Date().toISOString()}\n`,
      );
    let partial = '';
    const onData = (d: Buffer) => {
      const lines = (partial + String(d)).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        this.logs.push(l);
        if (run.leadingAt === undefined && l.includes('"message":"Started leading"'))
          run.leadingAt = Date.now();
      }
      if (logFile) appendFileSync(logFile, String(d));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.#exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        const pid = child.pid ?? 0;
        const exit = { pid, code, signal, killed: pid === this.#killedPid, at: Date.now() };
        this.exits.push(exit);
        if (partial) this.logs.push(partial);
        partial = '';
        resolve(exit);
        if (this.#stopping || this.#opts.restartDelayMs === undefined) return;
        this.#respawn = setTimeout(() => this.#spawn(), this.#opts.restartDelayMs);
      }),
    );
  }
}

/**
 * The operator's files as shipped (the chart's config, ServiceAccount and least-privilege OpenBao
 * credentials: shippedOperatorConfig), written into `bed.dir` as `<name>-config.yaml` and
 * `<name>.kubeconfig`. Leader election is on; `leaderElection` replaces its timings.
 */
export async function writeShippedOperatorFiles(
  bed: Testbed,
  opts: { name: string; config?: string; leaderElection?: Record<string, unknown> },
): Promise<{ configFile: string; kubeconfigFile: string }> {
  const shipped = await shippedOperatorConfig(bed, { leaderElection: true, config: opts.config });
  const doc = parse(shipped.configText) as { operator: Record<string, unknown> };
  if (opts.leaderElection) doc.operator.leaderElection = opts.leaderElection;
  const configFile = join(bed.dir, `${opts.name}-config.yaml`);
  const kubeconfigFile = join(bed.dir, `${opts.name}.kubeconfig`);
  writeFileSync(configFile, stringify(doc));
  writeFileSync(kubeconfigFile, shipped.kubeConfig.exportConfig(), { mode: 0o600 });
  return { configFile, kubeconfigFile };
}

/** Who holds the operator's Lease now ('' once released, undefined: no Lease). */
export async function leaseHolder(client: KubeClient): Promise<string | undefined> {
  const lease = await getObject<{ apiVersion?: string; spec?: { holderIdentity?: string } }>(client, {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    namespace: OPERATOR_NAMESPACE,
    name: 'vaultsync-leader',
  });
  return lease?.spec?.holderIdentity;
}
